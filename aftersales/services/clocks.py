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
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from aftersales.models import Case, CaseClock, StepClock
from aftersales.services.batch_scope import memoised
from aftersales.steps import Step, expected_minutes
from sla import selectors as sla_selectors
from sla import services as sla_services
from sla.models import EscalationRule, SlaClock
from tickets import events
from tickets.models import Department, EventKind, Team
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


def aftersales_team() -> Team | None:
    """The team that works the cases: the first of the after-sales department (read once
    per batch of the shop's events)."""
    return memoised(
        "aftersales_team",
        lambda: Team.objects.filter(department=Department.AFTER_SALES).order_by("pk").first(),
    )


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


def step_clock_follow(*, case: Case, step: Step, step_id: int, at: datetime) -> CaseClock:
    """Inside the step's transaction: meet the clock of the step the case leaves and start
    the one of `step` (held while the customer has the next move; none for a final step)."""
    subject = case_subject_id(case.pk)
    sla_services.clock_satisfy(subject_id=subject, milestone=CASE_STEP, at=at)
    summary = CaseClock(case=case, step=step, state=StepClock.NONE, due_at=None)
    minutes = expected_minutes(case.type, step)
    policy, calendar_id = (None, None) if minutes is None else _policy_and_calendar(case)
    if minutes is not None and policy is None:
        logger.warning("no SLA policy for the clock of case %s", case.number)
    if minutes is not None and policy is not None and calendar_id is not None:
        clock = sla_services.clock_start(
            subject_id=subject,
            milestone=CASE_STEP,
            sequence=step_id,
            policy=policy,
            calendar_id=calendar_id,
            target_seconds=minutes * 60,
            started_at=at,
        )
        if step in CUSTOMER_STEPS:
            sla_services.clocks_hold(subject_id=subject, milestones=[CASE_STEP], at=at)
            summary.state = StepClock.PAUSED
        else:
            summary.state, summary.due_at = StepClock.RUNNING, clock.due_at
    # One statement for a case that has its summary already (every case but a new one).
    written = CaseClock.objects.filter(case=case).update(
        step=summary.step, state=summary.state, due_at=summary.due_at
    )
    if not written:
        summary.save()
    return summary


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
