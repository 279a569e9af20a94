"""Intake keeps a promised ticket number (queued intake decided it before the work)."""

from dataclasses import replace

import pytest
from django.utils import timezone

from tests.factories import app_message
from tickets.models import Ticket
from tickets.numbers import ticket_number
from tickets.services.intake import intake_message

pytestmark = pytest.mark.django_db


def promised(message_id: str, number: str, **identity: str):  # type: ignore[no-untyped-def]
    return replace(app_message(provider_id=message_id, **identity), promised_ticket_number=number)


def test_a_promised_number_opens_its_ticket_under_that_id_and_later_messages_join_it(
    default_team,
):
    number = ticket_number(opened_on=timezone.localdate(), ticket_id=4242)

    first = intake_message(inbound=promised("m-1", number, user_id="u1"))
    second = intake_message(inbound=promised("m-2", number, user_id="u1"))

    assert first.ticket_opened and not second.ticket_opened
    assert (first.ticket.pk, first.ticket.number) == (4242, number)
    assert second.ticket.pk == 4242
    assert Ticket.objects.get().messages.count() == 2


def test_a_promise_beats_threading_into_another_open_ticket(default_team):
    elsewhere = intake_message(inbound=app_message(provider_id="m-0", user_id="u1")).ticket
    number = ticket_number(opened_on=timezone.localdate(), ticket_id=elsewhere.pk + 100)

    kept = intake_message(inbound=promised("m-1", number, user_id="u1"))

    assert kept.ticket.number == number and kept.ticket.pk != elsewhere.pk
    assert kept.ticket.customer == elsewhere.customer
