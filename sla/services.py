"""Writes: start, satisfy, pause, resume and re-evaluate clocks, and the tick that fires
warnings, breaches and escalations exactly once."""

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sla.calendar import WorkCalendar
from sla.models import BusinessCalendar, EscalationRule, Milestone, SlaClock, SlaPolicy
from sla.selectors import calendar_cache_clear, policy_for, work_calendar
from sla.signals import clock_fired

if TYPE_CHECKING:
    from django.forms import BaseInlineFormSet

    from sla.forms import CalendarForm, PolicyForm

logger = logging.getLogger("kefu.sla")

# Milestones started with the subject; next response starts on each customer message.
STARTING_MILESTONES = (Milestone.FIRST_RESPONSE, Milestone.PLAN, Milestone.RESOLUTION)


def _warn_offset(policy: SlaPolicy, milestone: str, target: int) -> int:
    """Business seconds from the start at which to warn: by the milestone's own threshold
    when the policy sets one (exactly what it names), else by the policy's (a percentage
    elapsed, or minutes before due, whichever comes first)."""
    override = (policy.milestone_warnings or {}).get(milestone)
    if override:
        percent = override.get("percent")
        minutes_before = override.get("minutes_before")
    else:
        percent, minutes_before = policy.warning_percent, policy.warning_minutes_before
    offsets = []
    if percent:
        offsets.append(target * int(percent) // 100)
    if minutes_before:
        offsets.append(target - int(minutes_before) * 60)
    return max(0, min(offsets)) if offsets else target * policy.warning_percent // 100


def _new_clock(
    *,
    subject_id: int,
    milestone: str,
    sequence: int,
    policy: SlaPolicy,
    calendar_id: int,
    target: int,
    started_at: datetime,
) -> SlaClock:
    """A clock due `target` business seconds after `started_at`; or, when the policy sets an
    out-of-hours target for the milestone and the calendar is closed at `started_at`, due
    that many wall-clock seconds after it (warning by the same thresholds, in wall time)."""
    calendar = work_calendar(calendar_id)
    wall_target = policy.out_of_hours_targets().get(milestone)
    if wall_target and not calendar.is_open(started_at):
        return SlaClock(
            subject_id=subject_id,
            milestone=milestone,
            sequence=sequence,
            policy=policy,
            calendar_id=calendar_id,
            target_seconds=wall_target,
            wall_clock=True,
            started_at=started_at,
            warn_at=started_at + timedelta(seconds=_warn_offset(policy, milestone, wall_target)),
            due_at=started_at + timedelta(seconds=wall_target),
        )
    return SlaClock(
        subject_id=subject_id,
        milestone=milestone,
        sequence=sequence,
        policy=policy,
        calendar_id=calendar_id,
        target_seconds=target,
        started_at=started_at,
        warn_at=calendar.add(started_at, _warn_offset(policy, milestone, target)),
        due_at=calendar.add(started_at, target),
    )


def clocks_start(
    *,
    subject_id: int,
    attributes: Mapping[str, Any],
    started_at: datetime,
    calendar_id: int | None = None,
) -> list[SlaClock]:
    """Start the first-response, plan and resolution clocks of the first policy matching the
    subject's attributes, on `calendar_id` (a team's calendar) or else the policy's; a policy
    with `use_policy_calendar` always uses its own.
    Idempotent: a milestone that already has a clock keeps it."""
    policy = policy_for(attributes)
    if policy is None:
        logger.warning("no SLA policy matches subject %s %s", subject_id, dict(attributes))
        return []
    calendar = (
        policy.calendar_id if policy.use_policy_calendar else calendar_id or policy.calendar_id
    )
    targets = policy.targets()
    clocks = [
        _new_clock(
            subject_id=subject_id,
            milestone=milestone,
            sequence=0,
            policy=policy,
            calendar_id=calendar,
            target=targets[milestone],
            started_at=started_at,
        )
        for milestone in STARTING_MILESTONES
        if milestone in targets
    ]
    SlaClock.objects.bulk_create(clocks, ignore_conflicts=True)
    return clocks


def clock_start(
    *,
    subject_id: int,
    milestone: str,
    sequence: int,
    policy: SlaPolicy,
    calendar_id: int,
    target_seconds: int,
    started_at: datetime,
) -> SlaClock:
    """Start one clock whose target the caller sets, for subjects whose deadlines come from
    their own rules rather than a policy's milestones (an after-sales case's step); the
    policy still gives the warning threshold. Idempotent per (subject, milestone, sequence):
    the clock already there is returned."""
    clock = _new_clock(
        subject_id=subject_id,
        milestone=milestone,
        sequence=sequence,
        policy=policy,
        calendar_id=calendar_id,
        target=target_seconds,
        started_at=started_at,
    )
    SlaClock.objects.bulk_create([clock], ignore_conflicts=True)
    return SlaClock.objects.get(subject_id=subject_id, milestone=milestone, sequence=sequence)


@dataclass(frozen=True)
class ClockStart:
    """A clock to start with a target its caller sets (as `clock_start`); `hold`: it starts
    paused (as `clocks_hold` right after)."""

    sequence: int
    policy: SlaPolicy
    calendar_id: int
    target_seconds: int
    hold: bool = False


@dataclass(frozen=True)
class ClockMove:
    """A subject moving on at `at`: its running clock of the milestone is met, and `start`
    (if any) starts."""

    subject_id: int
    at: datetime
    start: ClockStart | None


_MET_FIELDS = [
    "satisfied_at",
    "paused_at",
    "next_escalation_at",
    "elapsed_wall_seconds",
    "elapsed_business_seconds",
]


def clocks_move(
    *,
    milestone: str,
    moves: Sequence[ClockMove],
    rows_update: Callable[[type[SlaClock], list[SlaClock], list[str]], None] | None = None,
) -> list[SlaClock | None]:
    """Many `clock_satisfy` + `clock_start` (+ `clocks_hold`) of one milestone in three
    statements, in order (a subject may move twice: the second move meets the clock the
    first started). Returns each move's new clock (None: none started). The caller holds
    the subjects' locks (a case row), so the running clocks read here stay running until
    the write. Starting is idempotent per (subject, milestone, sequence). `rows_update`
    writes the met clocks' fields (default: `bulk_update`), for a caller with a faster
    way of its own."""
    running: dict[int, SlaClock] = {}
    for found in SlaClock.objects.filter(
        subject_id__in_ids={move.subject_id for move in moves},
        milestone=milestone,
        satisfied_at__isnull=True,
    ).order_by("sequence"):
        running[found.subject_id] = found  # the latest, as `clock_satisfy` takes
    met: dict[int, SlaClock] = {}
    started: list[SlaClock] = []
    result: list[SlaClock | None] = []
    for move in moves:
        clock: SlaClock | None = running.pop(move.subject_id, None)
        if clock is not None:
            _meet(clock, at=move.at)
            if clock.pk is not None:
                met[clock.pk] = clock
        new = None
        if move.start is not None:
            new = _new_clock(
                subject_id=move.subject_id,
                milestone=milestone,
                sequence=move.start.sequence,
                policy=move.start.policy,
                calendar_id=move.start.calendar_id,
                target=move.start.target_seconds,
                started_at=move.at,
            )
            if move.start.hold:
                new.paused_at = move.at
            started.append(new)
            running[move.subject_id] = new
        result.append(new)
    if met and rows_update is not None:
        rows_update(SlaClock, list(met.values()), _MET_FIELDS)
    elif met:
        SlaClock.objects.bulk_update(list(met.values()), _MET_FIELDS)
    if started:
        SlaClock.objects.bulk_create(started, ignore_conflicts=True)
    return result


def _meet(clock: SlaClock, *, at: datetime) -> None:
    """Set a running clock's fields as met at `at` (`clock_satisfy`'s values)."""
    calendar = work_calendar(clock.calendar_id)
    paused = sum(int(p.get("business_seconds", 0)) for p in clock.pauses)
    clock.satisfied_at = at
    clock.paused_at = None
    clock.next_escalation_at = None
    clock.elapsed_wall_seconds = max(0, int((at - clock.started_at).total_seconds()))
    clock.elapsed_business_seconds = max(0, calendar.between(clock.started_at, at) - paused)


def clock_start_next_response(*, subject_id: int, at: datetime) -> SlaClock | None:
    """Start a next-response clock after a customer message, unless one is already running.
    Uses the policy and calendar the subject's clocks started with."""
    first = (
        SlaClock.objects.filter(subject_id=subject_id)
        .select_related("policy")
        .order_by("pk")
        .first()
    )
    if first is None:
        return None
    target = first.policy.targets().get(Milestone.NEXT_RESPONSE)
    if not target:
        return None
    running = SlaClock.objects.filter(
        subject_id=subject_id, milestone=Milestone.NEXT_RESPONSE, satisfied_at__isnull=True
    ).first()
    if running is not None:
        return running
    last = SlaClock.objects.filter(
        subject_id=subject_id, milestone=Milestone.NEXT_RESPONSE
    ).aggregate(last=Max("sequence"))["last"]
    clock = _new_clock(
        subject_id=subject_id,
        milestone=Milestone.NEXT_RESPONSE,
        sequence=(last or 0) + 1,
        policy=first.policy,
        calendar_id=first.calendar_id,
        target=target,
        started_at=at,
    )
    # Two messages at once may both get here; the unique key keeps one clock per sequence.
    SlaClock.objects.bulk_create([clock], ignore_conflicts=True)
    return clock


def clock_satisfy(*, subject_id: int, milestone: str, at: datetime) -> bool:
    """Mark the subject's running clock of `milestone` met at `at`. Returns True only for the
    call that satisfied it (a compare-and-set)."""
    clock = (
        SlaClock.objects.filter(
            subject_id=subject_id, milestone=milestone, satisfied_at__isnull=True
        )
        .order_by("-sequence")
        .first()
    )
    if clock is None:
        return False
    calendar = work_calendar(clock.calendar_id)
    paused = sum(int(p.get("business_seconds", 0)) for p in clock.pauses)
    changed = SlaClock.objects.filter(pk=clock.pk, satisfied_at__isnull=True).update(
        satisfied_at=at,
        paused_at=None,
        next_escalation_at=None,
        elapsed_wall_seconds=max(0, int((at - clock.started_at).total_seconds())),
        elapsed_business_seconds=max(0, calendar.between(clock.started_at, at) - paused),
    )
    return changed == 1


def bot_answered(*, subject_id: int, at: datetime) -> bool:
    """A bot answered: meet the running response clocks whose policy counts bot answers.
    Returns whether any was met."""
    met = False
    for clock in SlaClock.objects.filter(
        subject_id=subject_id,
        milestone__in=[Milestone.FIRST_RESPONSE, Milestone.NEXT_RESPONSE],
        satisfied_at__isnull=True,
        policy__bot_counts_as_response=True,
    ):
        met |= clock_satisfy(subject_id=subject_id, milestone=clock.milestone, at=at)
    return met


def clocks_pause(*, subject_id: int, state: str, at: datetime) -> int:
    """Pause the subject's running clocks whose policy pauses in `state` (e.g. waiting for the
    customer). Returns how many were paused."""
    paused = 0
    for clock in SlaClock.objects.filter(
        subject_id=subject_id, satisfied_at__isnull=True, paused_at__isnull=True
    ).select_related("policy"):
        if state not in (clock.policy.pause_states or []):
            continue
        paused += SlaClock.objects.filter(pk=clock.pk, paused_at__isnull=True).update(paused_at=at)
    return paused


def clocks_hold(*, subject_id: int, milestones: list[str], at: datetime) -> int:
    """Pause the subject's running clocks of `milestones` whatever the policy says (the core
    uses it when a ticket is resolved before those milestones were met)."""
    return SlaClock.objects.filter(
        subject_id=subject_id,
        milestone__in=milestones,
        satisfied_at__isnull=True,
        paused_at__isnull=True,
    ).update(paused_at=at)


def clocks_resume(*, subject_id: int, at: datetime) -> int:
    """Resume paused clocks: each is pushed back by the business time it spent paused."""
    resumed = 0
    for clock in SlaClock.objects.filter(subject_id=subject_id, paused_at__isnull=False):
        if _push_back(clock=clock, since=clock.paused_at, at=at, reason="paused", clear_met=False):
            resumed += 1
    return resumed


def clock_reopen(*, subject_id: int, milestone: str, at: datetime) -> bool:
    """Continue a met clock (resolution, when a resolved ticket is reopened): it runs again,
    pushed back by the business time between meeting it and now."""
    clock = (
        SlaClock.objects.filter(
            subject_id=subject_id, milestone=milestone, satisfied_at__isnull=False
        )
        .order_by("-sequence")
        .first()
    )
    if clock is None or clock.satisfied_at is None:
        return False
    return _push_back(
        clock=clock, since=clock.satisfied_at, at=at, reason="reopened", clear_met=True
    )


def _push_back(
    *, clock: SlaClock, since: datetime | None, at: datetime, reason: str, clear_met: bool
) -> bool:
    if since is None:
        return False
    guard: dict[str, Any] = {"satisfied_at": since} if clear_met else {"paused_at": since}
    updates = _pushed_back(clock=clock, since=since, at=at, reason=reason, clear_met=clear_met)
    return SlaClock.objects.filter(pk=clock.pk, **guard).update(**updates) == 1


def _pushed_back(
    *, clock: SlaClock, since: datetime, at: datetime, reason: str, clear_met: bool
) -> dict[str, Any]:
    """The fields of a clock running again at `at` after standing still since `since`."""
    calendar = work_calendar(clock.calendar_id)
    # The business time paused is recorded for the clock's statistics either way; a clock on
    # an out-of-hours target is pushed back by the real time paused.
    gap = calendar.between(since, at)
    updates: dict[str, Any] = {
        "paused_at": None,
        "pauses": [
            *clock.pauses,
            {
                "from": since.isoformat(),
                "to": at.isoformat(),
                "business_seconds": gap,
                "wall_seconds": max(0, int((at - since).total_seconds())),
                "reason": reason,
            },
        ],
    }
    if clock.breached_at is None:
        shift = _shift_wall if clock.wall_clock else _shift
        updates["due_at"] = shift(calendar, clock.due_at, since, at)
        if clock.warned_at is None:
            updates["warn_at"] = shift(calendar, clock.warn_at, since, at)
    if clear_met:
        updates.update(satisfied_at=None, elapsed_wall_seconds=None, elapsed_business_seconds=None)
    return updates


def _shift(calendar: WorkCalendar, instant: datetime, since: datetime, at: datetime) -> datetime:
    """Move a deadline so that the business time left at `since` is left again at `at`."""
    if instant <= since:
        return instant
    return calendar.add(at, calendar.between(since, instant))


def _shift_wall(
    calendar: WorkCalendar, instant: datetime, since: datetime, at: datetime
) -> datetime:
    """As `_shift`, for a wall-clock deadline: the real time left at `since` is left at `at`."""
    if instant <= since:
        return instant
    return at + (instant - since)


# --- Many subjects at once ---------------------------------------------------------------
# The changes above for a batch of subjects (a supervisor resolving a few hundred tickets at
# once) in a fixed number of statements whatever the batch's size. The caller holds the
# subjects' locks (their ticket rows), so the clocks read here stay as read until the write.


RowsUpdate = Callable[[type[SlaClock], list[SlaClock], list[str]], None]


def clocks_satisfy_many(
    *,
    subject_ids: Collection[int],
    milestone: str,
    at: datetime,
    rows_update: RowsUpdate | None = None,
) -> None:
    """`clock_satisfy` for each subject: its latest running clock of `milestone` met at `at`.
    `rows_update` (here and below): as for `clocks_move`."""
    clocks_move(
        milestone=milestone,
        moves=[ClockMove(subject_id=subject_id, at=at, start=None) for subject_id in subject_ids],
        rows_update=rows_update,
    )


def clocks_hold_many(*, subject_ids: Collection[int], milestones: list[str], at: datetime) -> int:
    """`clocks_hold` for each subject, in one statement."""
    return SlaClock.objects.filter(
        subject_id__in_ids=list(subject_ids),
        milestone__in=milestones,
        satisfied_at__isnull=True,
        paused_at__isnull=True,
    ).update(paused_at=at)


def clock_reopen_many(
    *,
    subject_ids: Collection[int],
    milestone: str,
    at: datetime,
    rows_update: RowsUpdate | None = None,
) -> int:
    """`clock_reopen` for each subject: its latest met clock of `milestone` runs again."""
    latest: dict[int, SlaClock] = {}
    for clock in SlaClock.objects.filter(
        subject_id__in_ids=list(subject_ids), milestone=milestone, satisfied_at__isnull=False
    ).order_by("sequence"):
        latest[clock.subject_id] = clock
    return _clocks_pushed_back(
        list(latest.values()), at=at, reason="reopened", clear_met=True, rows_update=rows_update
    )


def clocks_resume_many(
    *, subject_ids: Collection[int], at: datetime, rows_update: RowsUpdate | None = None
) -> int:
    """`clocks_resume` for each subject."""
    paused = list(
        SlaClock.objects.filter(subject_id__in_ids=list(subject_ids), paused_at__isnull=False)
    )
    return _clocks_pushed_back(
        paused, at=at, reason="paused", clear_met=False, rows_update=rows_update
    )


def _clocks_pushed_back(
    clocks: list[SlaClock],
    *,
    at: datetime,
    reason: str,
    clear_met: bool,
    rows_update: RowsUpdate | None,
) -> int:
    fields: set[str] = set()
    for clock in clocks:
        since = clock.satisfied_at if clear_met else clock.paused_at
        assert since is not None  # read so
        updates = _pushed_back(clock=clock, since=since, at=at, reason=reason, clear_met=clear_met)
        for name, value in updates.items():
            setattr(clock, name, value)
        fields.update(updates)
    if clocks and rows_update is not None:
        rows_update(SlaClock, clocks, sorted(fields))
    elif clocks:
        SlaClock.objects.bulk_update(clocks, sorted(fields))
    return len(clocks)


def clocks_pause_many(*, subject_ids: Collection[int], state: str, at: datetime) -> int:
    """`clocks_pause` for each subject, in at most two statements."""
    pausing = [
        pk
        for pk, pause_states in SlaClock.objects.filter(
            subject_id__in_ids=list(subject_ids), satisfied_at__isnull=True, paused_at__isnull=True
        ).values_list("pk", "policy__pause_states")
        if state in (pause_states or [])
    ]
    if not pausing:
        return 0
    return SlaClock.objects.filter(pk__in_ids=pausing, paused_at__isnull=True).update(paused_at=at)


def clocks_reevaluate(
    *, subject_id: int, attributes: Mapping[str, Any], at: datetime
) -> list[SlaClock]:
    """Re-pick the policy after the subject changed (e.g. its priority) and re-target the
    clocks still running, from their original start. An explicit step: the core records it.
    Returns the clocks that changed."""
    policy = policy_for(attributes)
    if policy is None:
        return []
    targets = policy.targets()
    changed = []
    for clock in SlaClock.objects.filter(
        subject_id=subject_id, satisfied_at__isnull=True, breached_at__isnull=True
    ):
        target = targets.get(clock.milestone)
        if not target:
            continue
        fresh = _new_clock(
            subject_id=subject_id,
            milestone=clock.milestone,
            sequence=clock.sequence,
            policy=policy,
            calendar_id=policy.calendar_id if policy.use_policy_calendar else clock.calendar_id,
            target=target,
            started_at=clock.started_at,
        )
        if (
            fresh.target_seconds == clock.target_seconds
            and fresh.wall_clock == clock.wall_clock
            and fresh.calendar_id == clock.calendar_id
            and policy.pk == clock.policy_id
        ):
            continue
        # Conditional, like the tick's claims: a clock breached or met since the read keeps
        # its history.
        if SlaClock.objects.filter(
            pk=clock.pk, satisfied_at__isnull=True, breached_at__isnull=True
        ).update(
            policy=policy,
            calendar_id=fresh.calendar_id,
            target_seconds=fresh.target_seconds,
            wall_clock=fresh.wall_clock,
            due_at=fresh.due_at,
            warn_at=fresh.warn_at,
        ):
            clock.policy = policy
            clock.calendar_id = fresh.calendar_id
            clock.target_seconds = fresh.target_seconds
            clock.wall_clock = fresh.wall_clock
            clock.due_at = fresh.due_at
            clock.warn_at = fresh.warn_at
            changed.append(clock)
    started = {c.milestone for c in SlaClock.objects.filter(subject_id=subject_id)}
    for milestone in STARTING_MILESTONES:
        if milestone in targets and milestone not in started:
            new = _new_clock(
                subject_id=subject_id,
                milestone=milestone,
                sequence=0,
                policy=policy,
                calendar_id=policy.calendar_id,
                target=targets[milestone],
                started_at=at,
            )
            SlaClock.objects.bulk_create([new], ignore_conflicts=True)
            changed.append(new)
    return changed


@dataclass(frozen=True)
class TickResult:
    warned: int
    breached: int
    escalated: int


def clocks_tick(*, now: datetime | None = None, batch: int = 500) -> TickResult:
    """Fire every due warning, breach and escalation exactly once.

    Candidates come from partial indexes on running clocks; each is then claimed with a
    compare-and-set, and the signal is sent inside the claiming transaction. Two tickers
    racing over the same clock both try the update; only one sees a changed row and fires.
    A receiver that fails rolls the claim back, so the next tick fires it again.
    """
    now = now or timezone.now()
    running = {"satisfied_at__isnull": True, "breached_at__isnull": True, "paused_at__isnull": True}
    warned = 0
    # A clock already past due is breached, not warned: the breach supersedes it.
    for clock in SlaClock.objects.filter(
        warn_at__lte=now, due_at__gt=now, warned_at__isnull=True, **running
    ).order_by()[:batch]:
        with transaction.atomic():
            # The claim re-checks the times: a deadline moved later since the read (a
            # re-evaluation) must not fire.
            if SlaClock.objects.filter(
                pk=clock.pk, warned_at__isnull=True, warn_at__lte=now, due_at__gt=now, **running
            ).update(warned_at=now):
                clock.warned_at = now
                clock_fired.send(sender=SlaClock, clock=clock, kind="warning", rule=None, at=now)
                warned += 1
    breached = 0
    for clock in (
        SlaClock.objects.filter(due_at__lte=now, **running)
        .prefetch_related("policy__escalations")
        .order_by()[:batch]
    ):
        with transaction.atomic():
            first = _rule(clock, level=1)
            next_at = _escalation_time(clock, first, breached_at=now) if first else None
            if SlaClock.objects.filter(pk=clock.pk, due_at__lte=now, **running).update(
                breached_at=now, next_escalation_at=next_at
            ):
                clock.breached_at = now
                clock.next_escalation_at = next_at
                clock_fired.send(sender=SlaClock, clock=clock, kind="breach", rule=None, at=now)
                breached += 1
    escalated = 0
    for clock in (
        SlaClock.objects.filter(next_escalation_at__lte=now, satisfied_at__isnull=True)
        .prefetch_related("policy__escalations")
        .order_by()[:batch]
    ):
        level = clock.escalation_level + 1
        rule = _rule(clock, level=level)
        following = _rule(clock, level=level + 1)
        next_at = (
            _escalation_time(clock, following, breached_at=clock.breached_at or now)
            if following
            else None
        )
        with transaction.atomic():
            if SlaClock.objects.filter(
                pk=clock.pk,
                escalation_level=clock.escalation_level,
                next_escalation_at=clock.next_escalation_at,
                satisfied_at__isnull=True,
            ).update(escalation_level=level, next_escalation_at=next_at):
                clock.escalation_level = level
                clock.next_escalation_at = next_at
                if rule is not None:
                    clock_fired.send(
                        sender=SlaClock, clock=clock, kind="escalation", rule=rule, at=now
                    )
                    escalated += 1
    return TickResult(warned=warned, breached=breached, escalated=escalated)


def _rule(clock: SlaClock, *, level: int) -> EscalationRule | None:
    for rule in clock.policy.escalations.all():
        if rule.milestone == clock.milestone and rule.level == level:
            return rule
    return None


def _escalation_time(clock: SlaClock, rule: EscalationRule, *, breached_at: datetime) -> datetime:
    # Wall-clock minutes: an overdue ticket keeps getting more overdue for the customer at
    # night too. Whether the resulting notification waits for opening hours is the rule's
    # `hold_outside_hours`, applied by the core.
    return breached_at + timedelta(minutes=rule.delay_minutes)


def policy_save(
    *, form: "PolicyForm", escalations: "BaseInlineFormSet[Any, Any, Any]", actor: Any
) -> SlaPolicy:
    """Save a validated policy and its escalation rules in one transaction, record who
    changed it (the admin's change log) and drop the cached policies so it applies at once.
    Clocks already running keep the targets they started with."""
    created = form.instance.pk is None
    with transaction.atomic():
        policy: SlaPolicy = form.save()
        escalations.instance = policy
        escalations.save()
        _log_change(actor=actor, instance=policy, created=created)
    calendar_cache_clear()
    return policy


def calendar_save(
    *,
    form: "CalendarForm",
    hours: "BaseInlineFormSet[Any, Any, Any]",
    dates: "BaseInlineFormSet[Any, Any, Any]",
    actor: Any,
) -> BusinessCalendar:
    """Save a validated calendar with its hours and dates; as for policies."""
    with transaction.atomic():
        if form.cleaned_data.get("is_default"):
            BusinessCalendar.objects.filter(is_default=True).exclude(pk=form.instance.pk).update(
                is_default=False
            )
        calendar: BusinessCalendar = form.save()
        for formset in (hours, dates):
            formset.instance = calendar
            formset.save()
        _log_change(actor=actor, instance=calendar, created=False)
    calendar_cache_clear()
    return calendar


def _log_change(*, actor: Any, instance: Any, created: bool) -> None:
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[instance],
        action_flag=ADDITION if created else CHANGE,
        change_message="edited on the SLA pages",
        single_object=True,
    )
