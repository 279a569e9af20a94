"""Delivery of chat replies: `sent` when published, `delivered` once a widget confirms."""

import pytest

from channels_ingest.chat.services import chat_messages_seen
from tests.factories import intake
from tickets.models import Channel, DeliveryStatus, EventKind, TicketEvent
from tickets.services.delivery import message_delivery_update
from tickets.services.workflow import ticket_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(default_team, agent):  # type: ignore[no-untyped-def]
    ticket = intake(user_id="u-7", text="在吗", channel=Channel.CHAT).ticket
    return ticket_reply(ticket=ticket, author=agent, body="在的")


def test_a_confirmation_that_overtakes_the_backends_answer_keeps_the_reply_delivered(reply):
    assert reply.delivery_status == DeliveryStatus.QUEUED
    # The widget showed the reply before the delivery task recorded the backend's answer.
    assert chat_messages_seen(address="u-7", message_ids=[reply.pk]) == 1

    message_delivery_update(message=reply, status=DeliveryStatus.SENT, reference="kefu-1", error="")

    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_ref) == (DeliveryStatus.DELIVERED, "kefu-1")


def test_two_tabs_confirming_the_same_reply_record_one_delivery(reply):
    first = chat_messages_seen(address="u-7", message_ids=[reply.pk])
    second = chat_messages_seen(address="u-7", message_ids=[reply.pk, reply.pk])

    assert (first, second) == (1, 0)
    delivered = TicketEvent.objects.filter(kind=EventKind.DELIVERY, data__status="delivered")
    assert delivered.count() == 1


def test_a_failed_reply_is_not_turned_delivered_by_a_confirmation(reply):
    message_delivery_update(message=reply, status=DeliveryStatus.FAILED, reference="", error="x")

    assert chat_messages_seen(address="u-7", message_ids=[reply.pk]) == 0
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
