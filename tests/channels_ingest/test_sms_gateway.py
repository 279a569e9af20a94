"""The generic SMS gateway webhook: JSON, HMAC-SHA256 over timestamp and body, replay window.

Signatures here are computed with the standard library directly, as a gateway's own code
would, not with the project's helper."""

import hashlib
import hmac
import json
import logging
import time
from types import SimpleNamespace

import pytest
from django.test import Client

from channels_ingest.models import InboundRecord, SmsGateway, SmsOptOut
from channels_ingest.sms import gateway as gateway_module
from tickets.models import DeliveryStatus, Message, Ticket
from tickets.services.workflow import ticket_reply

pytestmark = pytest.mark.django_db

SECRET = "gateway-secret-for-tests"
URL = "/webhooks/sms/gateway/aliyun/"


@pytest.fixture
def gateway(db):  # type: ignore[no-untyped-def]
    return SmsGateway.objects.create(name="aliyun", secret=SECRET)


def post(  # type: ignore[no-untyped-def]
    client: Client,
    payload: object,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    raw: bytes | None = None,
    url: str = URL,
    signature: str | None = None,
):
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return client.post(
        url,
        body,
        content_type="application/json",
        HTTP_X_KEFU_TIMESTAMP=stamp,
        HTTP_X_KEFU_SIGNATURE=signature if signature is not None else f"sha256={digest}",
    )


def message(message_id: str, text: str, sender: str = "13800138000") -> dict[str, object]:
    return {"type": "message", "id": message_id, "from": sender, "to": "106900", "text": text}


def test_a_signed_message_is_stored_and_opens_an_sms_ticket(
    client, gateway, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, message("g1", "草莓坏了，怎么退"))

    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": False}
    record = InboundRecord.objects.get()
    assert (record.channel, record.provider_id, record.state) == ("sms", "aliyun:g1", "processed")
    assert json.loads(bytes(record.raw)) == message("g1", "草莓坏了，怎么退")
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.messages.get().body) == ("sms", "草莓坏了，怎么退")
    assert ticket.customer.identities.get().value == "+8613800138000"


def test_a_redelivery_is_answered_the_same_and_changes_nothing(
    client, gateway, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, message("g1", "你好"))
        again = post(client, message("g1", "你好"))

    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert (InboundRecord.objects.count(), Message.objects.count()) == (1, 1)


def test_a_second_sms_threads_into_the_open_sms_ticket(
    client, gateway, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, message("g1", "订单123"))
        post(client, message("g2", "还没到", sender="+86 138-0013-8000"))

    assert Ticket.objects.count() == 1
    assert Ticket.objects.get().messages.count() == 2


@pytest.mark.parametrize(
    "change",
    ["wrong secret", "tampered body", "no signature", "unknown gateway", "inactive gateway"],
)
def test_forged_requests_are_refused_403_logged_and_store_nothing(
    client, gateway, default_team, change, caplog
):
    kwargs: dict[str, object] = {}
    if change == "wrong secret":
        kwargs["secret"] = "guess"
    elif change == "tampered body":
        good = json.dumps(message("g1", "hi")).encode()
        stamp = int(time.time())
        digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + good, hashlib.sha256)
        kwargs.update(
            raw=json.dumps(message("g1", "hi!")).encode(),
            timestamp=stamp,
            signature=f"sha256={digest.hexdigest()}",
        )
    elif change == "no signature":
        kwargs["signature"] = ""
    elif change == "unknown gateway":
        kwargs["url"] = "/webhooks/sms/gateway/other/"
    else:
        SmsGateway.objects.filter(pk=gateway.pk).update(is_active=False)

    with caplog.at_level(logging.WARNING, logger="kefu.ingest.sms"):
        response = post(client, message("g1", "hi"), **kwargs)  # type: ignore[arg-type]

    assert response.status_code == 403
    assert "error" in response.json()
    assert "refused SMS gateway webhook" in caplog.text
    assert InboundRecord.objects.count() == 0


@pytest.fixture
def now(monkeypatch):  # type: ignore[no-untyped-def]
    """The webhook's clock, stopped: the window's edges are then exact, however long the
    request takes on a busy machine."""
    stopped = float(int(time.time()))
    monkeypatch.setattr(gateway_module, "time", SimpleNamespace(time=lambda: stopped))
    return int(stopped)


@pytest.mark.parametrize("skew", [-301, 301, -10_000])
def test_a_genuine_request_outside_the_replay_window_is_refused(
    client, gateway, default_team, settings, skew, now
):
    settings.SMS_GATEWAY_REPLAY_WINDOW_SECONDS = 300

    response = post(client, message("g1", "hi"), timestamp=now + skew)

    assert response.status_code == 403
    assert "replay window" in response.json()["error"]
    assert InboundRecord.objects.count() == 0


def test_a_request_just_inside_the_window_is_accepted(client, gateway, default_team, settings, now):
    settings.SMS_GATEWAY_REPLAY_WINDOW_SECONDS = 300

    response = post(client, message("g1", "hi"), timestamp=now - 280)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{not json", "invalid JSON"),
        (b"\xff\xfe", "invalid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"type": "message", "from": "13800138000"}).encode(), "id and from"),
        (json.dumps({"type": "message", "id": "x"}).encode(), "id and from"),
        (json.dumps({"type": "delete", "id": "x"}).encode(), "unknown type"),
        (json.dumps({"id": "x", "from": "1380013800", "text": 5}).encode(), "text must be"),
    ],
)
def test_bad_bodies_get_a_clear_400_never_a_500(client, gateway, default_team, raw, error):
    response = post(client, None, raw=raw)

    assert response.status_code == 400
    assert error in response.json()["error"]
    assert InboundRecord.objects.count() == 0


def test_an_oversized_body_is_refused_413(client, gateway, default_team):
    response = post(client, message("g1", "长" * 40_000))

    assert response.status_code == 413


def test_an_unusable_sender_number_is_stored_and_marked_failed_with_the_reason(
    client, gateway, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, message("g1", "hi", sender="not-a-number"))

    assert response.status_code == 200  # stored: acknowledged, and visible in the log
    record = InboundRecord.objects.get()
    assert record.state == "failed"
    assert record.error
    assert Ticket.objects.count() == 0


def test_td_opts_out_without_a_ticket(
    client, gateway, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, message("g1", "TD"))

    assert SmsOptOut.objects.filter(phone="+8613800138000").exists()
    assert Ticket.objects.count() == 0


def test_delivery_reports_move_our_reply_forward_and_show_failures(
    client, gateway, agent, default_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, message("g1", "hi"))
    reply = ticket_reply(ticket=Ticket.objects.get(), author=agent, body="您好")
    Message.objects.filter(pk=reply.pk).update(delivery_ref="out-1", delivery_status="sent")

    failed = post(client, {"type": "status", "id": "out-1", "status": "FAILED", "error": "E42"})
    unknown = post(client, {"type": "status", "id": "nobody", "status": "delivered"})

    reply.refresh_from_db()
    assert failed.json() == {"ok": True, "matched": True}
    assert unknown.json() == {"ok": True, "matched": False}
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "aliyun error E42" in reply.delivery_error
