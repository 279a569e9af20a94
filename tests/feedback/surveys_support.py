"""Test data for surveys and call-backs: customers on each channel, a ticket answered by an
agent and resolved, an SMS reply through the core's intake, the clock set."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from feedback.models import SurveySettings
from feedback.services.surveys import survey_settings
from tests.factories import app_message
from tickets.delivery import backend_for
from tickets.models import Agent, Channel, Status, Ticket
from tickets.services.intake import IntakeResult, intake_message
from tickets.services.workflow import ticket_reply, ticket_set_status

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYTIME = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
PHONE = "+8613800138000"


@pytest.fixture
def outbox(settings):  # type: ignore[no-untyped-def]
    """Every channel delivers into the outbox (SMS honouring opt-outs), as embedded; quiet
    hours 21:00-08:00 in Shanghai."""
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "app": "channels_ingest.outbox.OutboxBackend",
        "email": "channels_ingest.outbox.OutboxBackend",
        "sms": "channels_ingest.outbox.SmsOutboxBackend",
        "chat": "channels_ingest.chat.delivery.ChatSocketBackend",
    }
    settings.KEFU_PUBLIC_URL = "https://kefu.shop.example"
    settings.NOTICE_QUIET_HOURS = "21:00-08:00"
    settings.TIME_ZONE = "Asia/Shanghai"
    backend_for.cache_clear()
    yield
    backend_for.cache_clear()


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
        self.now = at
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, at: datetime) -> None:
        self.now = at


def configure(**values: object) -> SurveySettings:
    config = survey_settings()
    for name, value in values.items():
        setattr(config, name, value)
    config.save()
    return config


def customer_ticket(
    *,
    channel: str = Channel.SMS,
    phone: str | None = PHONE,
    email: str | None = None,
    user_id: str | None = None,
    text: str = "我的快递三天没动了",
) -> Ticket:
    result = intake_message(
        inbound=app_message(channel=channel, phone=phone, email=email, user_id=user_id, text=text)
    )
    return result.ticket


def answered_and_resolved(ticket: Ticket, agent: Agent, *, status: str = Status.RESOLVED) -> Ticket:
    ticket_reply(ticket=ticket, author=agent, body="您好，已为您催促快递，今天会送到。")
    return ticket_set_status(ticket=ticket, status=status, actor=agent.user)


def sms_in(text: str, *, phone: str = PHONE, provider_id: str | None = None) -> IntakeResult:
    return intake_message(
        inbound=app_message(channel=Channel.SMS, phone=phone, text=text, provider_id=provider_id)
    )
