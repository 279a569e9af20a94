"""A complaint resolved after its review owes its customer a call-back (回访): reason
"complaint", owned by the complaint's supervisor, due on the team's business calendar, in the
supervisors' queue and on the timeline; one at a time per complaint."""

import pytest

from feedback.models import Callback, CallbackReason, Complaint
from feedback.services.callbacks import callback_attempt_record, callback_due
from tests.factories import make_agent
from tests.feedback.complaints_support import (
    complaint_ticket,
    english,  # noqa: F401
    reviewed,
)
from tests.feedback.surveys_support import customer_ticket
from tickets.models import EventKind, Status, Ticket, TicketEvent
from tickets.services.workflow import ticket_set_status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def complaint_callbacks(ticket: Ticket) -> list[Callback]:
    return list(
        Callback.objects.filter(ticket=ticket, reason=CallbackReason.COMPLAINT).order_by("pk")
    )


def resolved_event(ticket: Ticket) -> TicketEvent:
    return (
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS, data__to=Status.RESOLVED)
        .order_by("-pk")
        .first()
    )


def test_resolving_a_reviewed_complaint_makes_a_call_back_for_its_owner(supervisor):
    ticket = complaint_ticket()
    assert Complaint.objects.get(ticket=ticket).owner_id == supervisor.user.pk
    reviewed(ticket, by=supervisor.user)
    assert complaint_callbacks(ticket) == []

    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=supervisor.user)

    [callback] = complaint_callbacks(ticket)
    event = resolved_event(ticket)
    assert callback.owner_id == supervisor.pk
    assert callback.customer_id == ticket.customer_id
    assert callback.team_id == ticket.team_id
    assert callback.created_by_id is None
    assert callback.note == "全组服务礼仪培训"
    assert callback.created_at == event.created_at
    assert callback.due_at == callback_due(team=ticket.team, start=event.created_at)
    assert callback.key == f"complaint:{Complaint.objects.get(ticket=ticket).pk}:{event.pk}"
    assert callback.closed_at is None


def test_closing_the_resolved_complaint_adds_no_second_call_back(supervisor):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=supervisor.user)

    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=None)

    assert len(complaint_callbacks(ticket)) == 1


def test_closing_an_open_complaint_makes_its_call_back(supervisor):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)

    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=supervisor.user)

    [callback] = complaint_callbacks(ticket)
    assert callback.owner_id == supervisor.pk


def test_reopened_and_resolved_again_while_the_call_back_is_open_adds_none(supervisor):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=supervisor.user)
    [first] = complaint_callbacks(ticket)

    ticket_set_status(ticket=ticket, status=Status.OPEN, actor=supervisor.user)
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=supervisor.user)

    assert complaint_callbacks(ticket) == [first]


def test_after_its_call_back_reopened_the_complaint_the_next_resolution_makes_another(
    supervisor,
):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=supervisor.user)
    [first] = complaint_callbacks(ticket)

    # The customer is still unhappy: the call-back reopens the ticket.
    callback_attempt_record(
        callback=first, agent=supervisor, outcome="reopened", note="仍不满意", actor=supervisor.user
    )
    ticket.refresh_from_db()
    assert ticket.is_open
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=supervisor.user)

    callbacks = complaint_callbacks(ticket)
    assert len(callbacks) == 2 and callbacks[0].pk == first.pk
    assert callbacks[1].closed_at is None and callbacks[1].owner_id == supervisor.pk


def test_an_ordinary_resolved_ticket_gets_no_complaint_call_back(agent):
    ticket = customer_ticket()

    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)

    assert complaint_callbacks(ticket) == []


def test_an_owner_without_an_agent_record_leaves_the_call_back_to_the_supervisors_queue(
    supervisor,
):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)
    owner = supervisor.user
    supervisor.delete()  # the account stays; it no longer works tickets
    owner.refresh_from_db()
    ticket.refresh_from_db()

    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=owner)

    [callback] = complaint_callbacks(ticket)
    assert callback.owner_id is None


def test_the_call_back_is_in_the_supervisors_queue_and_on_the_timeline(client, supervisor):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=supervisor.user)
    [callback] = complaint_callbacks(ticket)
    other = make_agent(teams=[ticket.team], role="supervisor")
    client.force_login(other.user)

    queue = client.get("/feedback/callbacks/").content.decode()
    page = client.get(f"/tickets/{ticket.number}/").content.decode()

    assert f"/feedback/callbacks/{callback.pk}/" in queue
    assert ticket.number in queue
    assert f'class="event callback-made" data-callback="{callback.pk}"' in page
    assert "Complaint" in page
