"""Customer pages and webhooks keep working while Redis is unreachable: rate limits count
in each process's memory, and realtime events are logged and dropped, not raised."""

import logging

import pytest
from django.core.cache import caches

from kefu import ratelimit
from kefu.realtime import publish, wait_sent
from tests.factories import intake

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: connecting is refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):  # type: ignore[no-untyped-def]
    """The production cache and channel layer settings, pointed at a Redis that is down."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {
            "BACKEND": "kefu.ratelimit.FallbackRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "kefu.channel_layer.RedisChannelLayer",
            "CONFIG": {"hosts": [DEAD_REDIS]},
        }
    }
    settings.RATELIMIT_ENABLE = True
    caches["ratelimit"].clear()
    ratelimit.outages_reset()
    yield
    caches["ratelimit"].clear()
    ratelimit.outages_reset()


def test_the_status_page_answers_and_still_limits_per_process_without_redis(
    client, default_team, settings, redis_down
):
    settings.STATUS_RATE_LIMIT = "2/h"  # an hour: the window does not roll over mid-test
    form = {"number": "1", "contact": "13800138000"}

    page = client.get("/status/")
    codes = [client.post("/status/", form).status_code for _ in "abc"]

    assert page.status_code == 200
    assert codes == [302, 302, 429]


def test_the_help_centre_answers_and_still_limits_per_process_without_redis(
    client, settings, redis_down
):
    settings.KB_PUBLIC_RATE_LIMIT = "2/h"  # an hour: the window does not roll over mid-test

    codes = [client.get("/kb/").status_code for _ in "abc"]

    assert codes == [200, 200, 429]


def test_an_outage_is_logged_once_per_interval_not_per_request(
    client, settings, redis_down, caplog
):
    settings.KB_PUBLIC_RATE_LIMIT = "100/m"

    with caplog.at_level(logging.WARNING, logger="kefu.ratelimit"):
        for _ in range(5):
            client.get("/kb/")

    warnings = [r for r in caplog.records if r.name == "kefu.ratelimit"]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()


def test_counting_returns_to_redis_when_it_answers_again(monkeypatch, redis_down):
    limiter = caches["ratelimit"]
    limiter.add("k", 1, 60)  # refused: counted in memory
    outage = ratelimit._outage_for(DEAD_REDIS)
    assert outage.active
    seen: list[str] = []
    monkeypatch.setattr(
        ratelimit.RedisCache, "incr", lambda self, key, delta=1, version=None: seen.append(key) or 7
    )
    monkeypatch.setattr(outage, "retry_at", 0.0)

    assert limiter.incr("k") == 7
    assert seen == ["k"]
    assert not outage.active


def test_an_agents_reply_and_the_twilio_webhook_answer_without_redis(
    agent_client, redis_down, django_capture_on_commit_callbacks
):
    from twilio.request_validator import RequestValidator

    from channels_ingest.models import InboundRecord, SmsChannel

    token = "twilio-auth-token-for-tests"
    SmsChannel.objects.create(
        name="shop", number="+8610690000", account_sid="AC123", auth_token=token
    )
    url = "http://testserver/webhooks/sms/twilio/"
    sms = {
        "MessageSid": "SM-outage",
        "AccountSid": "AC123",
        "From": "+8613800138000",
        "To": "+8610690000",
        "Body": "还在吗",
        "NumMedia": "0",
    }
    signature = RequestValidator(token).compute_signature(url, sms)
    result = intake(phone="13900139000")

    with django_capture_on_commit_callbacks(execute=True):
        reply = agent_client.post(f"/tickets/{result.ticket.number}/reply/", {"body": "好的"})
        webhook = agent_client.post(url, sms, HTTP_X_TWILIO_SIGNATURE=signature)

    assert reply.status_code == 302
    assert webhook.status_code == 200
    assert InboundRecord.objects.filter(provider_id="SM-outage").count() == 1


def test_realtime_publishing_without_redis_is_logged_once_and_never_raised(
    redis_down, caplog, monkeypatch
):
    from kefu import realtime

    monkeypatch.setattr(realtime, "_publisher", None)
    monkeypatch.setattr(realtime, "_failures", realtime._Drops())
    before = realtime.publish_failures()
    with caplog.at_level(logging.WARNING, logger="kefu.realtime"):
        for n in range(3):
            publish(["board"], {"type": "test.event", "n": n})
        wait_sent(timeout=10)

    failures = [r for r in caplog.records if r.name == "kefu.realtime"]
    assert len(failures) == 1
    assert realtime.publish_failures() - before == 3


@pytest.fixture
def broker_down(monkeypatch):  # type: ignore[no-untyped-def]
    """Every task queued meets a broker that refuses the connection, as Celery reports it."""
    from celery.app.task import Task
    from kombu.exceptions import OperationalError

    def refused(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", refused)


def test_with_the_broker_down_a_reply_is_kept_queued_and_the_page_answers(
    agent_client, redis_down, broker_down, django_capture_on_commit_callbacks
):
    from tickets.models import DeliveryStatus, Direction

    result = intake(phone="13900139000")

    with django_capture_on_commit_callbacks(execute=True):
        reply = agent_client.post(f"/tickets/{result.ticket.number}/reply/", {"body": "好的"})

    assert reply.status_code == 302
    sent = result.ticket.messages.get(direction=Direction.OUT)
    assert (sent.body, sent.delivery_status) == ("好的", DeliveryStatus.QUEUED)


def test_with_the_broker_down_the_twilio_webhook_takes_the_sms_in(
    client, default_team, redis_down, broker_down, django_capture_on_commit_callbacks
):
    from twilio.request_validator import RequestValidator

    from channels_ingest.models import InboundRecord, SmsChannel
    from tickets.models import Ticket

    token = "twilio-auth-token-for-tests"
    SmsChannel.objects.create(
        name="shop", number="+8610690000", account_sid="AC123", auth_token=token
    )
    url = "http://testserver/webhooks/sms/twilio/"
    params = {
        "MessageSid": "SM-broker-down",
        "AccountSid": "AC123",
        "From": "+8613800138000",
        "To": "+8610690000",
        "Body": "订单号 123456789 还没到",
        "NumMedia": "0",
    }
    signature = RequestValidator(token).compute_signature(url, params)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 200
    assert InboundRecord.objects.filter(provider_id="SM-broker-down").count() == 1
    assert Ticket.objects.get().messages.get().body == "订单号 123456789 还没到"


def test_with_the_broker_down_asking_for_a_status_code_answers(
    client, default_team, redis_down, broker_down, django_capture_on_commit_callbacks
):
    result = intake(phone="13800138000")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/status/", {"number": result.ticket.number, "contact": "13800138000"}
        )

    assert response.status_code == 302
