"""The event trail and the live view of a ticket change.

Every service that changes a ticket records what happened with `event_record` (the ticket's
history, on its page and in reports) and tells the browsers watching it with
`ticket_publish`, which decides who is watching: the ticket's own page, its team's queue, its
assignee's queue and the supervisors' board.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from kefu import realtime
from tickets.models import Ticket, TicketEvent
from tickets.raw_sql import rows_insert
from tickets.signals import ticket_event_recorded, ticket_events_recorded


def event_record(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None,
    data: dict[str, object],
    at: datetime | None = None,
) -> TicketEvent:
    """Add one entry to the ticket's trail (`EventKind`), by `actor` (None: Kefu itself),
    and tell the apps above the core (`tickets.signals.ticket_event_recorded`) in the same
    transaction."""
    event = TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, data=data, created_at=at or timezone.now()
    )
    ticket_event_recorded.send(sender=TicketEvent, event=event)
    return event


@dataclass(frozen=True)
class TrailEntry:
    """One trail entry to record (`event_record`'s arguments)."""

    ticket: Ticket
    kind: str
    actor: User | None
    data: dict[str, object]
    at: datetime | None = None


def events_record(entries: Sequence[TrailEntry]) -> list[TicketEvent]:
    """`event_record` for many entries: one INSERT, then `ticket_event_recorded` for each
    entry (with `batch=True`), in order, and `ticket_events_recorded` with them all, in the
    caller's transaction (a batch of after-sales steps or survey invitations)."""
    now = timezone.now()
    events = rows_insert(
        TicketEvent,
        [
            TicketEvent(
                ticket=entry.ticket,
                kind=entry.kind,
                actor=entry.actor,
                data=entry.data,
                created_at=entry.at or now,
            )
            for entry in entries
        ],
    )
    for event in events:
        ticket_event_recorded.send(sender=TicketEvent, event=event, batch=True)
    ticket_events_recorded.send(sender=TicketEvent, events=events)
    return events


def ticket_groups(ticket: Ticket, *, page: bool = True, queues: bool = True) -> list[str]:
    """The realtime groups of the people watching a ticket: its page, its team's queue and its
    assignee's queue."""
    groups = [realtime.ticket_group(ticket.pk)] if page else []
    if queues and ticket.team_id:
        groups.append(realtime.team_group(ticket.team_id))
    if queues and ticket.assignee_id:
        groups.append(realtime.agent_group(ticket.assignee_id))
    return groups


def ticket_publish(
    ticket: Ticket,
    event: dict[str, Any],
    *,
    page: bool = True,
    queues: bool = True,
    board: bool = True,
    also: Sequence[str] = (),
) -> None:
    """After the current transaction commits, send `event` (built in `tickets.events`) to
    whoever watches the ticket: its page, the queues it is in and the board, less what the
    caller leaves out (a note is for the ticket's page only), plus the groups in `also` (the
    queue of an assignee the ticket just left)."""
    groups = ticket_groups(ticket, page=page, queues=queues)
    if board:
        groups.append(realtime.BOARD_GROUP)
    realtime.publish_on_commit([*groups, *also], event)
