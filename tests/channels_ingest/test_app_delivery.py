"""App replies through the shop's push webhook, against a real HTTP server on loopback."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from tests.factories import intake
from tickets.models import DeliveryStatus, Direction, Message
from tickets.services.outbox import outbox_sweep
from tickets.services.workflow import ticket_reply

pytestmark = pytest.mark.django_db


class Shop:
    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                shop.requests.append((dict(self.headers), body))
                self.send_response(shop.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id": "push-77"}')

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop(settings):  # type: ignore[no-untyped-def]
    from tickets.delivery import backend_for

    server = Shop(status=200)
    settings.APP_OUTBOUND_WEBHOOK_URL = server.url
    settings.APP_OUTBOUND_WEBHOOK_SECRET = "shop-secret"
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "app": "channels_ingest.app.delivery.AppWebhookBackend",
    }
    backend_for.cache_clear()
    yield server
    server.close()


def test_an_app_reply_is_posted_signed_to_the_shops_webhook(
    shop, agent, django_capture_on_commit_callbacks
):
    result = intake(user_id="u-55", text="什么时候发货")

    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=result.ticket, author=agent, body="今天下午发出")

    reply.refresh_from_db()
    ((headers, body),) = shop.requests
    expected = "sha256=" + hmac.new(b"shop-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Kefu-Signature"] == expected
    assert json.loads(body) == {
        "reference": f"kefu-{reply.pk}",
        "user_id": "u-55",
        "ticket_number": result.ticket.number,
        "text": "今天下午发出",
        "kind": "reply",
        "push_tokens": [],
    }
    assert (reply.delivery_status, reply.delivery_ref) == (DeliveryStatus.SENT, "push-77")


def test_the_webhook_names_the_users_registered_devices_newest_first(
    shop, agent, django_capture_on_commit_callbacks
):
    from channels_ingest.app.services import push_token_register

    push_token_register(user_id="u-58", platform="ios", token="apns-old")
    push_token_register(user_id="u-58", platform="android", token="fcm-new")
    push_token_register(user_id="someone-else", platform="ios", token="apns-other")
    result = intake(user_id="u-58", text="到哪了")

    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=result.ticket, author=agent, body="已发货")

    ((_headers, body),) = shop.requests
    assert json.loads(body)["push_tokens"] == [
        {"platform": "android", "token": "fcm-new"},
        {"platform": "ios", "token": "apns-old"},
    ]


def test_a_refusing_webhook_marks_the_reply_failed_with_the_reason(
    shop, agent, django_capture_on_commit_callbacks
):
    shop.status = 410
    result = intake(user_id="u-56")

    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=result.ticket, author=agent, body="hello")

    reply = result.ticket.messages.get(direction=Direction.OUT)
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error == "app webhook refused: 410"


def test_an_unavailable_webhook_is_tried_again_by_the_outbox_until_it_answers(
    shop, agent, django_capture_on_commit_callbacks
):
    shop.status = 503
    result = intake(user_id="u-57")

    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=result.ticket, author=agent, body="hello")

    reply = result.ticket.messages.get(direction=Direction.OUT)
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert reply.delivery_attempts == 1
    assert reply.delivery_error == "app webhook answered 503"
    assert reply.delivery_due_at > timezone.now()  # the retry waits its backoff

    shop.status = 200
    Message.objects.filter(pk=reply.pk).update(
        delivery_due_at=timezone.now() - timedelta(minutes=1)
    )
    outbox_sweep()

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.delivery_due_at is None
    assert len(shop.requests) == 2
    # The same body and key both times: the shop can tell the second is a copy.
    assert shop.requests[0][1] == shop.requests[1][1]
    assert shop.requests[0][0]["Idempotency-Key"] == shop.requests[1][0]["Idempotency-Key"]
