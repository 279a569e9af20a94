"""Marks a ticket's facts as due a refresh whenever its trail records a change that can move
them (analytics.facts), or a survey about it is sent or answered, in the transaction of the
change."""

from typing import Any

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


def on_ticket_event(sender: Any, event: TicketEvent, **kwargs: Any) -> None:
    if event.kind == EventKind.NOTICE and str(event.data.get("event", "")).startswith("survey:"):
        # A survey's invitation (feedback records it as a notice on the ticket's trail).
        facts_mark([event.ticket_id])
        return
    if event.kind in _NO_FACT:
        return
    ids = [event.ticket_id]
    if event.kind == EventKind.CREATED and event.ticket.previous_id:
        # A follow-up within the window undoes the earlier ticket's first-contact resolution.
        ids.append(event.ticket.previous_id)
    facts_mark(ids)


def on_survey_answered(sender: Any, survey: Survey, **kwargs: Any) -> None:
    facts_mark([survey.ticket_id])
