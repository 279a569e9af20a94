"""The carrier event webhook: the generic signed JSON and kuaidi100's push.

Signatures are computed with the standard library directly, as a sender's own code would."""

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aftersales.models import Shipment, ShipmentAnomaly, ShipmentStatus, TrackingEvent
from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.tasks import process_inbound
from tests.aftersales.factories import make_order
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

SECRET = "generic-secret-for-tests"
SALT = "kuaidi100-salt-for-tests"
URL = "/webhooks/logistics/shop-carriers/"
KUAIDI100_URL = "/webhooks/logistics/kuaidi100/"


@pytest.fixture(autouse=True)
def _sources(settings):  # type: ignore[no-untyped-def]
    settings.LOGISTICS_WEBHOOK_SECRETS = {"shop-carriers": SECRET, "kuaidi100": SALT}


@pytest.fixture
def parcel(default_team) -> Shipment:  # type: ignore[no-untyped-def]
    order = make_order(shipments=[])
    return Shipment.objects.create(
        order=order,
        carrier="SF",
        tracking_number="SF1234567890",
        status=ShipmentStatus.IN_TRANSIT,
        last_event_at=timezone.now() - timedelta(hours=3),
    )


def post(  # type: ignore[no-untyped-def]
    client: Client,
    payload: object,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    url: str = URL,
):
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return client.post(
        url,
        body,
        content_type="application/json",
        HTTP_X_KEFU_TIMESTAMP=stamp,
        HTTP_X_KEFU_SIGNATURE=signature if signature is not None else f"sha256={digest}",
    )


def event(status: str = "in_transit", *, at: str = "", **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "carrier": "SF",
        "tracking_number": "SF1234567890",
        "status": status,
        "location": "杭州转运中心",
        "at": at or timezone.now().isoformat(),
        "raw": {"code": "30", "desc": "快件已到达"},
    }
    values.update(overrides)
    return values


def test_a_signed_event_is_stored_and_applied(client, parcel):
    response = post(client, {"events": [event("out_for_delivery")]})

    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": False}
    record = InboundRecord.objects.get(channel="logistics")
    assert record.state == InboundState.PROCESSED
    assert record.source == "shop-carriers"
    parcel.refresh_from_db()
    assert parcel.status == ShipmentStatus.OUT_FOR_DELIVERY
    stored = TrackingEvent.objects.get(shipment=parcel)
    assert stored.raw == {"code": "30", "desc": "快件已到达"}
    assert stored.location == "杭州转运中心"


def test_a_redelivery_changes_nothing(client, parcel):
    payload = {"events": [event("delivery_failed")]}
    post(client, payload)
    again = post(client, payload)

    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert InboundRecord.objects.filter(channel="logistics").count() == 1
    assert TrackingEvent.objects.filter(shipment=parcel).count() == 1
    assert ShipmentAnomaly.objects.count() == 1
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"secret": "wrong"}, "bad signature"),
        ({"signature": ""}, "are required"),
        ({"timestamp": int(time.time()) - 3600}, "replay window"),
    ],
)
def test_forged_or_replayed_requests_are_refused_and_logged(client, parcel, caplog, change, reason):
    with caplog.at_level(logging.WARNING, logger="kefu.ingest.logistics"):
        response = post(client, {"events": [event("lost")]}, **change)

    assert response.status_code == 403
    assert reason in response.json()["error"]
    assert reason in caplog.text
    assert not InboundRecord.objects.exists()
    assert not TrackingEvent.objects.exists()


def test_an_unknown_source_is_not_found(client, parcel):
    response = post(client, {"events": [event()]}, url="/webhooks/logistics/nobody/")
    assert response.status_code == 404
    assert not InboundRecord.objects.exists()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"events": []}, "events is empty"),
        ({"nothing": 1}, "list of events"),
        ({"events": [event("teleported")]}, "events.0.status"),
        ({"events": [event(at="2026-11-20 10:00")]}, "events.0.at"),
        ({"events": [event(tracking_number="")]}, "events.0.tracking_number"),
        ({"events": [event(carrier=7)]}, "events.0.carrier"),
    ],
)
def test_bad_events_get_a_clear_400(client, parcel, payload, reason):
    response = post(client, payload)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not InboundRecord.objects.exists()


def test_bad_json_gets_a_400(client, parcel):
    body = b"{not json"
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    response = client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_X_KEFU_TIMESTAMP=stamp,
        HTTP_X_KEFU_SIGNATURE=f"sha256={digest}",
    )
    assert response.status_code == 400


def test_the_payload_is_stored_before_it_is_acknowledged(client, parcel, monkeypatch):
    """Processing that fails unexpectedly still answers 200: the payload is stored and a
    retry takes it in."""

    def broken(**kwargs: object) -> None:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("channels_ingest.logistics.ingest.tracking_event_apply", broken)
    response = post(client, {"events": [event("out_for_delivery")]})

    assert response.status_code == 200
    record = InboundRecord.objects.get(channel="logistics")
    assert record.state == InboundState.RECEIVED
    assert record.payload["events"][0]["status"] == "out_for_delivery"

    monkeypatch.undo()
    process_inbound(record.pk)
    record.refresh_from_db()
    parcel.refresh_from_db()
    assert record.state == InboundState.PROCESSED
    assert parcel.status == ShipmentStatus.OUT_FOR_DELIVERY


def test_out_of_order_events_leave_the_newest_status(client, parcel):
    now = timezone.now()
    post(client, {"events": [event("delivered", at=now.isoformat())]})
    post(client, {"events": [event("in_transit", at=(now - timedelta(hours=1)).isoformat())]})

    parcel.refresh_from_db()
    assert parcel.status == ShipmentStatus.DELIVERED
    assert TrackingEvent.objects.filter(shipment=parcel).count() == 2


def test_an_unknown_parcel_is_kept_in_the_inbound_log_and_retried_later(client, parcel):
    response = post(client, {"events": [event(tracking_number="YT0000000001", carrier="YTO")]})

    assert response.status_code == 200
    record = InboundRecord.objects.get(channel="logistics")
    assert record.state == InboundState.FAILED
    assert "YT0000000001" in record.error

    Shipment.objects.create(order=parcel.order, carrier="YTO", tracking_number="YT0000000001")
    process_inbound(record.pk)
    record.refresh_from_db()
    assert record.state == InboundState.PROCESSED
    assert TrackingEvent.objects.filter(shipment__tracking_number="YT0000000001").count() == 1


# -- kuaidi100 --------------------------------------------------------------------------------


def kuaidi100_param(state: str = "0", number: str = "SF1234567890") -> str:
    """A push as kuaidi100 documents it: the full history, newest first, Beijing times."""
    return json.dumps(
        {
            "status": "polling",
            "billstatus": "got",
            "message": "",
            "lastResult": {
                "message": "ok",
                "state": state,
                "status": "200",
                "condition": "F00",
                "ischeck": "0",
                "com": "shunfeng",
                "nu": number,
                "data": [
                    {
                        "context": "快件到达【杭州转运中心】",
                        "time": "2026-11-24 08:00:00",
                        "ftime": "2026-11-24 08:00:00",
                        "areaName": "浙江,杭州市",
                    },
                    {
                        "context": "顺丰速运已收取快件",
                        "time": "2026-11-23 18:00:00",
                        "ftime": "2026-11-23 18:00:00",
                        "status": "揽收",
                    },
                ],
            },
        },
        ensure_ascii=False,
    )


def kuaidi100_post(client: Client, param: str, *, salt: str = SALT, sign: str | None = None):  # type: ignore[no-untyped-def]
    digest = hashlib.md5((param + salt).encode(), usedforsecurity=False).hexdigest().upper()
    return client.post(KUAIDI100_URL, {"param": param, "sign": digest if sign is None else sign})


def test_a_kuaidi100_push_applies_its_history(client, parcel):
    Shipment.objects.filter(pk=parcel.pk).update(last_event_at=None)
    response = kuaidi100_post(client, kuaidi100_param(state="2"))

    assert response.status_code == 200
    assert response.json() == {"result": True, "returnCode": "200", "message": "成功"}
    events = list(TrackingEvent.objects.filter(shipment=parcel).order_by("at"))
    assert [e.status for e in events] == ["collected", "exception"]
    assert events[1].location == "浙江,杭州市 快件到达【杭州转运中心】"
    assert timezone.localtime(events[1].at).hour == 8
    assert events[1].raw["context"] == "快件到达【杭州转运中心】"
    parcel.refresh_from_db()
    assert parcel.status == ShipmentStatus.EXCEPTION
    # 疑难 (a problem parcel) is a failed delivery: the customer hears from us.
    assert ShipmentAnomaly.objects.get(shipment=parcel).ticket is not None


def test_a_kuaidi100_delivery(client, parcel):
    Shipment.objects.filter(pk=parcel.pk).update(last_event_at=None)
    kuaidi100_post(client, kuaidi100_param(state="3"))
    parcel.refresh_from_db()
    assert parcel.status == ShipmentStatus.DELIVERED


def test_a_kuaidi100_push_with_a_bad_sign_is_refused(client, parcel, caplog):
    with caplog.at_level(logging.WARNING, logger="kefu.ingest.logistics"):
        response = kuaidi100_post(client, kuaidi100_param(), salt="forged")

    assert response.status_code == 403
    assert response.json()["result"] is False
    assert "bad sign" in caplog.text
    assert not InboundRecord.objects.exists()


def test_a_kuaidi100_redelivery_is_a_no_op(client, parcel):
    param = kuaidi100_param()
    kuaidi100_post(client, param)
    kuaidi100_post(client, param)
    assert InboundRecord.objects.filter(channel="logistics").count() == 1
    assert TrackingEvent.objects.filter(shipment=parcel).count() == 2


def test_a_kuaidi100_push_without_param_json_is_a_400(client, parcel):
    response = kuaidi100_post(client, "not json")
    assert response.status_code == 400
    assert response.json()["result"] is False


def test_queued_mode_answers_once_stored_and_a_worker_applies_it(
    client, parcel, settings, django_capture_on_commit_callbacks
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("queued intake runs on PostgreSQL")
    settings.INBOUND_QUEUED = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, {"events": [event("out_for_delivery")]})
        record = InboundRecord.objects.get(channel="logistics")
        parcel.refresh_from_db()
        assert response.status_code == 200
        assert record.state == InboundState.RECEIVED
        assert parcel.status == ShipmentStatus.IN_TRANSIT
    for callback in callbacks:
        callback()

    record.refresh_from_db()
    parcel.refresh_from_db()
    assert record.state == InboundState.PROCESSED
    assert parcel.status == ShipmentStatus.OUT_FOR_DELIVERY
