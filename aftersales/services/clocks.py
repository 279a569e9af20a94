"""The clock of a case's current step, on the SLA engine.

Each non-final step has an expected time in business minutes (`aftersales.steps`). When a
case enters a step, a clock of the SLA engine starts with that target, on the after-sales
team's business calendar (else the calendar of the SLA policy the case's ticket would get);
when it leaves the step, the clock is met. A case waiting for the customer to send the goods
back (`waiting_for_return`) holds its clock: no warning or breach is owed while the customer
has the next move.

The engine knows subjects only by id and tickets use their own ids, so a case's clocks use
the negative of the case's id (`case_subject_id`) under their own milestone (`CASE_STEP`):
they never meet a ticket's clocks, and the core's receiver finds no ticket for them.
Warnings and breaches come back through `sla.signals.clock_fired` (`on_clock_fired`): they
are written on the case's ticket trail and its assignee (or the team's supervisors) told.

`aftersales.models.CaseClock` keeps the current step's state and due time beside the case,
for lists that sort and filter by them.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from aftersales.models import Case, CaseClock, StepClock
from aftersales.steps import Step, expected_minutes
from kefu.revisions import RevisionCache
from sla import selectors as sla_selectors
from sla import services as sla_services
from sla.models import EscalationRule, SlaClock
from tickets import events
from tickets.models import Department, EventKind, Team
from tickets.raw_sql import rows_update
from tickets.services.escalation import supervisors_of
from tickets.services.notifications import notifications_create
from tickets.services.trail import event_record, ticket_publish

logger = logging.getLogger("kefu.aftersales")

# The SLA milestone of a case step's clock.
CASE_STEP = "case_step"
# Steps in which the customer has the next move: the clock holds.
CUSTOMER_STEPS = frozenset({Step.WAITING_FOR_RETURN})


def case_subject_id(case_id: int) -> int:
    """The SLA engine's subject id of a case (tickets have the positive ids)."""
    return -case_id


def case_id_of(subject_id: int) -> int | None:
    return -subject_id if subject_id < 0 else None


def _team_read() -> tuple[Team | None]:
    return (Team.objects.filter(department=Department.AFTER_SALES).order_by("pk").first(),)


# Kept in each process; saving a team moves the core's "routing" revision (tickets/apps.py).
_team: RevisionCache[tuple[Team | None]] = RevisionCache(("routing",), _team_read)


def aftersales_team() -> Team | None:
    """The team that works the cases: the first of the after-sales department."""
    return _team.get()[0]


def _policy_and_calendar(case: Case) -> tuple[Any, int | None]:
    team = aftersales_team()
    ticket = case.ticket
    attributes: dict[str, object] = {
        "tier": ticket.tier if ticket is not None else "regular",
        "channel": ticket.channel if ticket is not None else "",
        "team": team.pk if team is not None else None,
        "category": "after_sales",
        "vip": case.order.customer.is_vip,
        "tags": [],
    }
    policy = sla_selectors.policy_for(attributes)
    if policy is None:
        return None, None
    calendar_id = team.calendar_id if team is not None and team.calendar_id else None
    return policy, calendar_id or policy.calendar_id


@dataclass(frozen=True)
class StepMove:
    """A case entering `step` (the step row `step_id`) at `at`."""

    case: Case
    step: Step
    step_id: int
    at: datetime


def step_clock_follow(*, case: Case, step: Step, step_id: int, at: datetime) -> CaseClock:
    """Inside the step's transaction: meet the clock of the step the case leaves and start
    the one of `step` (held while the customer has the next move; none for a final step)."""
    return step_clocks_follow([StepMove(case=case, step=step, step_id=step_id, at=at)])[0]


def step_clocks_follow(moves: Sequence[StepMove]) -> list[CaseClock]:
    """`step_clock_follow` for many steps at once, in order (a case may take two), in four
    statements whatever their number: the running clocks read, the met ones written, the
    new ones written, the cases' summaries upserted."""
    starts: list[sla_services.ClockMove] = []
    for move in moves:
        minutes = expected_minutes(move.case.type, move.step)
        policy, calendar_id = (None, None) if minutes is None else _policy_and_calendar(move.case)
        if minutes is not None and policy is None:
            logger.warning("no SLA policy for the clock of case %s", move.case.number)
        start = None
        if minutes is not None and policy is not None and calendar_id is not None:
            start = sla_services.ClockStart(
                sequence=move.step_id,
                policy=policy,
                calendar_id=calendar_id,
                target_seconds=minutes * 60,
                hold=move.step in CUSTOMER_STEPS,
            )
        starts.append(
            sla_services.ClockMove(
                subject_id=case_subject_id(move.case.pk), at=move.at, start=start
            )
        )
    clocks = sla_services.clocks_move(milestone=CASE_STEP, moves=starts, rows_update=rows_update)
    summaries: dict[int, CaseClock] = {}
    result = []
    for move, clock in zip(moves, clocks, strict=True):
        summary = CaseClock(case=move.case, step=move.step, state=StepClock.NONE, due_at=None)
        if clock is not None and move.step in CUSTOMER_STEPS:
            summary.state = StepClock.PAUSED
        elif clock is not None:
            summary.state, summary.due_at = StepClock.RUNNING, clock.due_at
        summaries[move.case.pk] = summary  # a case's last step is its summary
        result.append(summary)
    # One statement: an update for every case but a new one, which gets its summary.
    CaseClock.objects.bulk_create(
        list(summaries.values()),
        update_conflicts=True,
        unique_fields=["case"],
        update_fields=["step", "state", "due_at"],
    )
    return result


def on_clock_fired(
    sender: type,
    *,
    clock: SlaClock,
    kind: str,
    rule: EscalationRule | None,
    at: datetime,
    **_kwargs: Any,
) -> None:
    """The receiver of `sla.signals.clock_fired` for case clocks (connected in
    aftersales/apps.py); runs inside the engine's claiming transaction."""
    case_id = case_id_of(clock.subject_id)
    if clock.milestone != CASE_STEP or case_id is None or kind not in ("warning", "breach"):
        return
    case = (
        Case.objects.select_related("ticket__assignee__user", "ticket__team")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return
    state = StepClock.BREACHED if kind == "breach" else StepClock.AT_RISK
    CaseClock.objects.filter(case=case).update(state=state, due_at=clock.due_at)
    ticket = case.ticket
    if ticket is None:
        return
    label = Step(case.step).label
    event_record(
        ticket=ticket,
        kind=EventKind.SLA_BREACH if kind == "breach" else EventKind.SLA_WARNING,
        actor=None,
        at=at,
        data={
            "case": case.number,
            "step": case.step,
            "due_at": clock.due_at.isoformat(),
            "to": f"{case.number} {label}",
        },
    )
    ticket_publish(ticket, events.ticket_updated(ticket))
    if kind == "breach":
        text = _("After-sales case %(case)s is past due at “%(step)s”.")
    else:
        text = _("After-sales case %(case)s is near due at “%(step)s”.")
    text = text % {"case": case.number, "step": label}
    supervisors = supervisors_of(ticket)
    recipients = [ticket.assignee.user] if ticket.assignee is not None else supervisors
    if kind == "breach":
        recipients = list(dict.fromkeys([*recipients, *supervisors]))
    notifications_create(
        users=recipients,
        ticket=ticket,
        kind="escalation",
        text=text,
        deliver_after=at,
        now=at,
        email=kind == "breach",
    )
