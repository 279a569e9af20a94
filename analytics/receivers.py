"""Marks a ticket's facts as due a refresh whenever its trail records a change that can move
them (analytics.facts), or a survey about it is sent or answered, in the transaction of the
change; and an after-sales case's facts (analytics.casefacts) when a step is recorded on it or
its ticket changes team, tier, category or assignee."""

from typing import Any

from analytics.casefacts import casefacts_mark, casefacts_mark_tickets
from analytics.facts import facts_mark
from feedback.models import Survey
from tickets.models import EventKind, TicketEvent

# Trail entries that change none of a ticket's facts. Any other kind, including kinds added
# later, marks the ticket (a breach and a plan decide an SLA milestone's outcome).
_NO_FACT = frozenset(
    {
        EventKind.DELIVERY,
        EventKind.NOTE,
        EventKind.SLA_WARNING,
        EventKind.PII_REVEALED,
        EventKind.ORDER_LINKED,
        EventKind.AFTERSALES,
        EventKind.NOTICE,
    }
)


# Trail entries that change what a case's figures are narrowed by: its ticket's team,
# tier, category or assignee (analytics.casefacts).
_CASE_DIMENSIONS = frozenset(
    {
        EventKind.ASSIGNED,
        EventKind.TRANSFERRED,
        EventKind.ESCALATED,
        EventKind.CATEGORY,
        EventKind.PRIORITY,
    }
)


def _marked(event: TicketEvent) -> list[int]:
    """The tickets whose facts the trail entry moves."""
    if event.kind == EventKind.NOTICE and str(event.data.get("event", "")).startswith("survey:"):
        # A survey's invitation (feedback records it as a notice on the ticket's trail).
        return [event.ticket_id]
    if event.kind in _NO_FACT:
        return []
    ids = [event.ticket_id]
    if event.kind == EventKind.CREATED and event.ticket.previous_id:
        # A follow-up within the window undoes the earlier ticket's first-contact resolution.
        ids.append(event.ticket.previous_id)
    return ids


def on_ticket_event(sender: Any, event: TicketEvent, batch: bool = False, **kwargs: Any) -> None:
    if batch:
        return  # marked with the rest of its batch (on_ticket_events)
    if ids := _marked(event):
        facts_mark(ids)
    if event.kind in _CASE_DIMENSIONS:
        casefacts_mark_tickets([event.ticket_id])


def on_ticket_events(sender: Any, events: list[TicketEvent], **kwargs: Any) -> None:
    """A batch of trail entries marks its tickets in one statement."""
    if ids := [pk for event in events for pk in _marked(event)]:
        facts_mark(ids)
    if moved := [event.ticket_id for event in events if event.kind in _CASE_DIMENSIONS]:
        casefacts_mark_tickets(moved)


def on_survey_answered(sender: Any, survey: Survey, **kwargs: Any) -> None:
    facts_mark([survey.ticket_id])


def on_surveys_answered(sender: Any, surveys: list[Survey], **kwargs: Any) -> None:
    """A batch of answers marks its tickets in one statement."""
    facts_mark([survey.ticket_id for survey in surveys])


def on_case_steps(sender: Any, case_ids: list[int], **kwargs: Any) -> None:
    """A round of after-sales steps marks its cases in one statement."""
    casefacts_mark(case_ids)
