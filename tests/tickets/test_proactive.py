"""Tickets Kefu opens itself, before the customer writes."""

import pytest

from tests.factories import intake
from tickets.models import Channel, Customer, Direction, EventKind, Message, Ticket, TicketEvent
from tickets.services.proactive import customer_channel, ticket_open_proactive

pytestmark = pytest.mark.django_db


def test_a_proactive_ticket_joins_the_teams_queue_with_its_clocks_and_a_note(agent, default_team):
    customer = Customer.objects.create(name="李四")

    ticket = ticket_open_proactive(
        customer=customer,
        team=default_team,
        subject="物流异常",
        text="包裹滞留",
        category="logistics",
    )

    assert ticket.number
    assert Ticket.objects.get(pk=ticket.pk).is_open
    assert ticket.team == default_team and ticket.assignee == agent
    assert ticket.sla_due_at is not None
    assert ticket.awaiting_reply_since is not None
    assert ticket.channel == Channel.SMS
    note = Message.objects.get(ticket=ticket)
    assert note.direction == Direction.NOTE and note.body == "包裹滞留"
    created = TicketEvent.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert created.data == {"proactive": True}


def test_the_customer_is_reached_where_they_prefer_else_where_they_last_wrote(default_team):
    customer = intake(user_id="u-7").ticket.customer
    assert customer_channel(customer) == Channel.APP
    customer.preferred_channel = Channel.EMAIL
    assert customer_channel(customer) == Channel.EMAIL
