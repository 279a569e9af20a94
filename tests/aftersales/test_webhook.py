"""The shop's webhook for case changes, against a real HTTP server on loopback: signed,
in order per case, retried after a failure, never sent twice once sent."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from aftersales.models import WebhookDelivery, WebhookStatus
from aftersales.services import case_apply_event, case_review, event_inbox, event_receive
from aftersales.services.webhook import webhook_deliver, webhook_retry, webhook_sweep
from tests.aftersales.factories import NOW, make_order, open_case

pytestmark = pytest.mark.django_db

SECRET = "s3cret-for-tests"


class ShopServer:
    """A shop's webhook endpoint: records each request and answers with the next status of
    `statuses` (200 once they run out)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": body})
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kefu-webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[tuple[str, int]]:
        """(case number, sequence) of each request received, in order."""
        return [
            (json.loads(r["body"])["case"]["number"], json.loads(r["body"])["sequence"])
            for r in self.requests
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop(settings) -> Iterator[ShopServer]:  # type: ignore[no-untyped-def]
    server = ShopServer()
    settings.AFTERSALES_WEBHOOK_URL = server.url
    settings.AFTERSALES_WEBHOOK_SECRET = SECRET
    settings.AFTERSALES_WEBHOOK_TIMEOUT_SECONDS = 5.0
    yield server
    server.close()


def make_due(*deliveries: WebhookDelivery) -> None:
    """Let time pass: the deliveries' retries are due now."""
    for delivery in deliveries:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            due_at=timezone.now() - timedelta(minutes=1)
        )


def test_a_new_case_is_sent_signed_once_its_transaction_commits(
    shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(make_order(), amount="50.00")

    assert len(shop.requests) == 1
    request = shop.requests[0]
    body = request["body"]
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert request["headers"]["X-Kefu-Signature"] == f"sha256={expected}"
    delivery = WebhookDelivery.objects.get(case=case)
    assert request["headers"]["X-Kefu-Event-Id"] == str(delivery.event_id)
    assert abs(int(request["headers"]["X-Kefu-Timestamp"]) - timezone.now().timestamp()) < 60
    payload = json.loads(body)
    assert payload["type"] == "case.opened"
    assert payload["id"] == str(delivery.event_id)
    assert payload["case"]["number"] == case.number
    assert payload["case"]["step"] == "submitted"
    assert payload["step"]["step"] == "submitted"
    assert delivery.status == WebhookStatus.SENT
    assert delivery.sent_at is not None
    assert delivery.attempts == 1


def test_the_change_and_its_delivery_commit_together(shop):
    case = open_case(make_order(), amount="50.00")
    review = case_review(case=case, approve=True, return_address="上海仓", now=NOW)
    owed = WebhookDelivery.objects.filter(case=case).count()

    with pytest.raises(ValidationError):  # it waits for the goods: nothing changed yet
        case_apply_event(
            case_number=review.number,
            event_id="early",
            kind="refund.completed",
            data={"amount": "50.00", "method": "alipay", "reference": "P1"},
        )

    assert owed == 2
    assert WebhookDelivery.objects.filter(case=case).count() == owed
    assert list(
        WebhookDelivery.objects.filter(case=case).values_list("sequence", "event_type")
    ) == [(1, "case.opened"), (2, "case.step_changed")]


def test_a_failed_delivery_is_retried_and_holds_the_later_ones_of_its_case(
    shop, django_capture_on_commit_callbacks
):
    shop.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(make_order(), amount="50.00")
    first = WebhookDelivery.objects.get(case=case, sequence=1)
    assert first.status == WebhookStatus.PENDING
    assert first.attempts == 1
    assert "500" in first.last_error
    assert first.due_at is not None and first.due_at > timezone.now()

    # The next change is owed, but may not overtake the failed one.
    with django_capture_on_commit_callbacks(execute=True):
        case_review(case=case, approve=True, return_address="上海仓", now=NOW)
    second = WebhookDelivery.objects.get(case=case, sequence=2)
    make_due(second)
    assert webhook_deliver(delivery_id=second.pk) is None
    assert webhook_sweep(now=timezone.now() + timedelta(seconds=10)) == 0
    assert len(shop.requests) == 1

    make_due(first)
    webhook_sweep(now=timezone.now() + timedelta(seconds=10))

    assert shop.events() == [(case.number, 1), (case.number, 1), (case.number, 2)]
    ids = [r["headers"]["X-Kefu-Event-Id"] for r in shop.requests]
    assert ids[0] == ids[1] == str(first.event_id)
    assert set(WebhookDelivery.objects.filter(case=case).values_list("status", flat=True)) == {
        WebhookStatus.SENT
    }


def test_a_failing_case_does_not_hold_another_case_back(shop, django_capture_on_commit_callbacks):
    shop.statuses = [503]
    with django_capture_on_commit_callbacks(execute=True):
        stuck = open_case(make_order(), amount="50.00")
    with django_capture_on_commit_callbacks(execute=True):
        other = open_case(make_order(), amount="50.00")

    assert shop.events() == [(stuck.number, 1), (other.number, 1)]
    assert WebhookDelivery.objects.get(case=other).status == WebhookStatus.SENT
    assert WebhookDelivery.objects.get(case=stuck).status == WebhookStatus.PENDING


def test_a_sent_delivery_is_never_sent_again(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(make_order(), amount="50.00")
    delivery = WebhookDelivery.objects.get(case=case)

    assert webhook_deliver(delivery_id=delivery.pk) is None
    assert webhook_sweep(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(shop.requests) == 1


def test_an_unreachable_shop_is_retried_and_failed_for_good_after_the_last_attempt(
    settings, django_capture_on_commit_callbacks
):
    settings.AFTERSALES_WEBHOOK_URL = "http://127.0.0.1:9/nothing-listens-here"
    settings.AFTERSALES_WEBHOOK_SECRET = SECRET
    settings.AFTERSALES_WEBHOOK_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(make_order(), amount="50.00")
    delivery = WebhookDelivery.objects.get(case=case)
    assert delivery.status == WebhookStatus.PENDING
    assert delivery.last_error

    make_due(delivery)
    webhook_deliver(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookStatus.FAILED
    assert delivery.attempts == 2
    assert delivery.due_at is None


def test_a_failed_delivery_can_be_retried_and_then_releases_its_case(
    shop, django_capture_on_commit_callbacks, settings
):
    settings.AFTERSALES_WEBHOOK_MAX_ATTEMPTS = 1
    shop.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(make_order(), amount="50.00")
    with django_capture_on_commit_callbacks(execute=True):
        case_review(case=case, approve=True, return_address="上海仓", now=NOW)
    first = WebhookDelivery.objects.get(case=case, sequence=1)
    assert first.status == WebhookStatus.FAILED
    assert len(shop.requests) == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_retry(delivery=first) is True

    assert shop.events() == [(case.number, 1), (case.number, 1), (case.number, 2)]


def test_nothing_is_owed_while_the_webhook_is_off(settings):
    settings.AFTERSALES_WEBHOOK_URL = ""
    case = open_case(make_order(), amount="50.00")

    assert not WebhookDelivery.objects.filter(case=case).exists()


def test_the_sweep_runs_on_beat_and_in_the_embedded_ticker(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["aftersales-webhook-sweep"]
    from kefu.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_the_admin_sends_a_failed_delivery_again(
    shop, client, settings, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory

    settings.AFTERSALES_WEBHOOK_MAX_ATTEMPTS = 1
    shop.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(make_order(), amount="50.00")
    delivery = WebhookDelivery.objects.get(case=case)
    admin_user = UserFactory(role="admin")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/aftersales/webhookdelivery/",
            {"action": "send_again", "_selected_action": [delivery.pk]},
        )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookStatus.SENT
    assert len(shop.requests) == 2


def test_events_applied_by_the_worker_are_sent_in_order_per_case(
    shop, settings, django_capture_on_commit_callbacks
):
    settings.INBOUND_QUEUED = True
    with django_capture_on_commit_callbacks(execute=True):
        cases = [
            case_review(
                case=open_case(make_order(), amount="50.00"),
                approve=True,
                return_address="上海仓",
                now=NOW,
            )
            for _ in range(2)
        ]
    shop.requests.clear()
    for case in cases:
        for event_id, kind, data in [
            ("e1", "return.received", {}),
            ("e2", "inspection.passed", {"note": "ok"}),
            ("e3", "refund.completed", {"amount": "999.00", "method": "m", "reference": "r"}),
        ]:
            event_receive(case_number=case.number, event_id=event_id, kind=kind, data=data)

    with django_capture_on_commit_callbacks(execute=True):
        event_inbox.events_drain()

    for case in cases:
        sent = [sequence for number, sequence in shop.events() if number == case.number]
        assert sent == [3, 4]  # received, inspected; the refused refund owes nothing
        types = [
            json.loads(r["body"])["case"]["step"]
            for r in shop.requests
            if json.loads(r["body"])["case"]["number"] == case.number
        ]
        assert types == ["received", "inspected"]
    assert not WebhookDelivery.objects.exclude(status=WebhookStatus.SENT).exists()
