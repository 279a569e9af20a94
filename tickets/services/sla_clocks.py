"""A ticket's SLA bookkeeping: how the ticket looks to policy conditions, its clocks
following its status, and the SLA summary (state, next due) kept on the ticket row.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from sla import selectors as sla_selectors
from sla import services as sla_services
from sla.models import Milestone
from tickets.models import (
    OPEN_STATUSES,
    SlaState,
    Ticket,
)
from tickets.raw_sql import rows_update


def sla_attributes(ticket: Ticket) -> dict[str, object]:
    """How a ticket looks to SLA policy conditions (see sla.models.CONDITION_KEYS)."""
    return {
        "tier": ticket.tier,
        "channel": ticket.channel,
        "team": ticket.team_id,
        "category": ticket.category,
        "vip": ticket.customer.is_vip,
        "tags": list(ticket.tags or []),
    }


def sla_refresh(ticket: Ticket) -> list[str]:
    """Bring the ticket's SLA summary (state, next due) in line with its running clocks.
    Returns the fields it set, for the caller's save."""
    return _summarise(ticket, sla_selectors.clocks_running(subject_id=ticket.pk))


def sla_refresh_many(tickets: Sequence[Ticket]) -> list[str]:
    """`sla_refresh` for many tickets, reading their clocks in one statement."""
    running = sla_selectors.clocks_running_many(subject_ids=[ticket.pk for ticket in tickets])
    for ticket in tickets:
        _summarise(ticket, running.get(ticket.pk, []))
    return ["sla_state", "sla_due_at"]


def _summarise(ticket: Ticket, running: list[sla_selectors.RunningClock]) -> list[str]:
    if any(clock.breached_at is not None for clock in running):
        ticket.sla_state = SlaState.BREACHED
    elif any(clock.paused_at is None and clock.warned_at is not None for clock in running):
        ticket.sla_state = SlaState.AT_RISK
    else:
        ticket.sla_state = SlaState.OK
    due = [v.due_at for v in running if v.breached_at is None and v.paused_at is None]
    ticket.sla_due_at = min(due, default=None)
    return ["sla_state", "sla_due_at"]


def sla_follow_status(*, ticket: Ticket, previous: str, now: datetime) -> None:
    """Clocks follow the ticket's state: a pausing state (per policy, e.g. pending customer)
    stops them, leaving it resumes them; resolving meets resolution, reopening continues it.
    From one closed state to another (resolved to closed) nothing changes: the clocks that
    resolving held stay held."""
    was_open, is_open = previous in OPEN_STATUSES, ticket.status in OPEN_STATUSES
    if not was_open and not is_open:
        return
    if was_open and not is_open:
        sla_services.clock_satisfy(subject_id=ticket.pk, milestone=Milestone.RESOLUTION, at=now)
        # A ticket resolved before it was answered owes no answer while it stays resolved:
        # hold those clocks (reopening resumes them) rather than let them breach or count as met.
        sla_services.clocks_hold(
            subject_id=ticket.pk,
            milestones=[Milestone.FIRST_RESPONSE, Milestone.NEXT_RESPONSE, Milestone.PLAN],
            at=now,
        )
        return
    if not was_open and is_open:
        sla_services.clock_reopen(subject_id=ticket.pk, milestone=Milestone.RESOLUTION, at=now)
    sla_services.clocks_resume(subject_id=ticket.pk, at=now)
    sla_services.clocks_pause(subject_id=ticket.pk, state=ticket.status, at=now)


def sla_follow_status_many(
    *, tickets: Sequence[Ticket], previous: Mapping[int, str], now: datetime
) -> None:
    """`sla_follow_status` for many tickets (`previous`: each one's status before, by id),
    in a fixed number of statements. The caller holds the tickets' row locks."""
    closing, reopening, staying = [], [], []
    for ticket in tickets:
        was_open, is_open = previous[ticket.pk] in OPEN_STATUSES, ticket.status in OPEN_STATUSES
        if not was_open and not is_open:
            continue  # closed to closed: held clocks stay held
        if was_open and not is_open:
            closing.append(ticket.pk)
            continue
        if not was_open and is_open:
            reopening.append(ticket.pk)
        staying.append(ticket)
    if closing:
        sla_services.clocks_satisfy_many(
            subject_ids=closing, milestone=Milestone.RESOLUTION, at=now, rows_update=rows_update
        )
        sla_services.clocks_hold_many(
            subject_ids=closing,
            milestones=[Milestone.FIRST_RESPONSE, Milestone.NEXT_RESPONSE, Milestone.PLAN],
            at=now,
        )
    if reopening:
        sla_services.clock_reopen_many(
            subject_ids=reopening, milestone=Milestone.RESOLUTION, at=now, rows_update=rows_update
        )
    if staying:
        ids = [ticket.pk for ticket in staying]
        sla_services.clocks_resume_many(subject_ids=ids, at=now, rows_update=rows_update)
        # One status for the batch, so one pausing state.
        for status in {ticket.status for ticket in staying}:
            sla_services.clocks_pause_many(
                subject_ids=[ticket.pk for ticket in staying if ticket.status == status],
                state=status,
                at=now,
            )
