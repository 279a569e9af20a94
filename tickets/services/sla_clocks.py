"""A ticket's SLA bookkeeping: how the ticket looks to policy conditions, its clocks
following its status, and the SLA summary (state, next due) kept on the ticket row.
"""

from datetime import datetime

from sla import selectors as sla_selectors
from sla import services as sla_services
from sla.models import Milestone
from tickets.models import (
    OPEN_STATUSES,
    SlaState,
    Ticket,
)


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
    running = sla_selectors.clocks_running(subject_id=ticket.pk)
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
    stops them, leaving it resumes them; resolving meets resolution, reopening continues it."""
    was_open, is_open = previous in OPEN_STATUSES, ticket.status in OPEN_STATUSES
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
