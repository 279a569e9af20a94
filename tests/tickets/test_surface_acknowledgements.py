"""A customer whose message opens a ticket gets its number and the status page's link, in
their language, on every channel (a missed call's by SMS); each channel can be turned off."""

import json

import pytest

from channels_ingest.models import OutboxEntry
from tests.factories import app_message, issue_token
from tickets.models import Channel, Customer, Direction, Message
from tickets.services.acknowledgement import ticket_acknowledge_opened
from tickets.services.intake import intake_message

pytestmark = pytest.mark.django_db

ALL_ON = {"email": True, "sms": True, "app": True, "chat": True, "phone": True}


@pytest.fixture(autouse=True)
def acknowledgements_on(settings):  # type: ignore[no-untyped-def]
    settings.AUTO_ACKNOWLEDGE = dict(ALL_ON)
    settings.KEFU_PUBLIC_URL = "https://help.example.com"


def test_an_app_message_that_opens_a_ticket_is_acknowledged_with_its_number_and_link(
    client, default_team, django_capture_on_commit_callbacks
):
    token = issue_token()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/inbound/app",
            data=json.dumps({"message_id": "m-1", "user_id": "u-88", "text": "快递三天了还没到"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
        )

    number = response.json()["ticket_number"]
    entry = OutboxEntry.objects.get(kind="acknowledgement")
    assert (entry.channel, entry.to, entry.ticket_number) == ("app", "u-88", number)
    assert entry.body == (
        f"我们已收到您的消息，您的工单号是 {number}，我们会尽快答复。"
        "查看进度：https://help.example.com/status/"
    )


def test_a_second_message_on_the_open_ticket_is_not_acknowledged_again(
    client, default_team, django_capture_on_commit_callbacks
):
    token = issue_token()
    with django_capture_on_commit_callbacks(execute=True):
        for message_id, text in (("m-1", "快递三天了还没到"), ("m-2", "还在吗")):
            client.post(
                "/api/v1/inbound/app",
                data=json.dumps({"message_id": message_id, "user_id": "u-88", "text": text}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {token}",
            )

    assert OutboxEntry.objects.filter(kind="acknowledgement").count() == 1


@pytest.mark.parametrize(
    ("channel", "identity", "sent_on"),
    [
        (Channel.SMS, ("phone", "+8613800138000"), Channel.SMS),
        (Channel.EMAIL, ("email", "emma@example.com"), Channel.EMAIL),
        (Channel.CHAT, ("app_user", "visitor-1"), Channel.CHAT),
        (Channel.APP, ("app_user", "u-7"), Channel.APP),
        (Channel.PHONE, ("phone", "+8613800138000"), Channel.SMS),
    ],
)
def test_each_channel_acknowledges_in_the_customers_language(
    default_team, channel, identity, sent_on
):
    from tickets.inbound import Identity, InboundMessage

    result = intake_message(
        inbound=InboundMessage(
            channel=channel,
            provider_id=f"{channel}-1",
            identities=[Identity(kind=identity[0], value=identity[1])],
            text="My parcel is late",
        )
    )
    Customer.objects.filter(pk=result.ticket.customer_id).update(language="en")
    result.ticket.customer.language = "en"

    message = ticket_acknowledge_opened(ticket=result.ticket)

    assert message is not None
    assert message.channel == sent_on
    assert message.is_automatic and not message.is_bot
    assert result.ticket.number in message.body
    assert "https://help.example.com/status/" in message.body
    assert "ticket" in message.body and "工单" not in message.body


def test_a_chinese_speaking_customer_is_acknowledged_in_chinese(default_team):
    result = intake_message(inbound=app_message(phone="13800138000", channel=Channel.SMS))

    message = ticket_acknowledge_opened(ticket=result.ticket)

    assert message is not None
    assert message.body.startswith("我们已收到您的消息，您的工单号是 " + result.ticket.number)


def test_a_channel_turned_off_sends_no_acknowledgement(settings, default_team):
    settings.AUTO_ACKNOWLEDGE = {**ALL_ON, "sms": False}
    result = intake_message(inbound=app_message(phone="13800138000", channel=Channel.SMS))

    assert ticket_acknowledge_opened(ticket=result.ticket) is None
    assert not Message.objects.filter(direction=Direction.OUT).exists()


def test_a_missed_call_from_a_caller_we_can_text_is_acknowledged_by_sms(default_team):
    from datetime import timedelta

    from django.utils import timezone

    from tickets.services.calls import CallEvent, call_event

    now = timezone.now()
    call_event(
        event=CallEvent(
            kind="newCall",
            call_id="c-1",
            direction="in",
            from_number="13900139000",
            to_number="4008001234",
            at=now,
        )
    )
    result = call_event(
        event=CallEvent(
            kind="hangup", call_id="c-1", cause="noAnswer", at=now + timedelta(seconds=20)
        )
    )

    ticket = result.call.ticket
    assert ticket is not None and ticket.channel == Channel.PHONE
    ack = ticket.messages.get(direction=Direction.OUT)
    assert ack.channel == Channel.SMS
    assert ack.body.startswith("抱歉错过了您的来电。我们已为您登记工单 " + ticket.number)
