"""The demo's ticket history gets the SLA clocks it would have had: met or breached by the
ticket's own moments, every clock ended so the ticker finds nothing of it to fire."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from sla.models import Milestone, SlaClock
from tests.factories import intake
from tickets.models import Message, Status, Ticket
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db


def history(agent, phone: str, answer_after: timedelta) -> Ticket:  # type: ignore[no-untyped-def]
    """A finished ticket that looks imported: tagged as history, no clocks, answered
    `answer_after` its creation."""
    result = intake(phone=phone, text="快递三天没到")
    ticket = result.ticket
    ticket_reply(ticket=ticket, author=agent, body="今天送到")
    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent.user)
    Message.objects.filter(pk=result.message.pk).update(provider_id=f"demo-history:{phone}")
    SlaClock.objects.filter(subject_id=ticket.pk).delete()
    # Opened twelve days ago (as history is).
    created = timezone.now() - timedelta(days=12)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=created,
        first_response_at=created + answer_after,
        resolved_at=created + answer_after,
    )
    return ticket


def test_history_clocks_are_met_or_breached_by_the_tickets_moments(agent):
    quick = history(agent, "13800138001", timedelta(seconds=30))
    slow = history(agent, "13800138002", timedelta(days=10))

    call_command("seed_demo_sla_history", verbosity=0)

    def first(ticket: Ticket) -> SlaClock:
        return SlaClock.objects.get(subject_id=ticket.pk, milestone=Milestone.FIRST_RESPONSE)

    assert first(quick).state == "met"
    assert first(slow).state == "met_late"
    assert first(slow).breached_at == first(slow).due_at
    assert not SlaClock.objects.filter(satisfied_at__isnull=True).exists()

    clocks = list(SlaClock.objects.order_by("pk").values())
    call_command("seed_demo_sla_history", verbosity=0)  # again: nothing changes
    assert list(SlaClock.objects.order_by("pk").values()) == clocks
    assert SlaClock.objects.filter(subject_id=quick.pk).count() >= 2
