"""Reads: calendars as arithmetic objects, policy matching, clocks with their time left,
compliance."""

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from sla.calendar import Slot, WorkCalendar
from sla.models import BusinessCalendar, SlaClock, SlaPolicy

# Calendars and policies change rarely and are read on every intake; a short per-process
# cache keeps the hot path lean while an edit still takes effect within a minute (and at once
# in the process that made it, which calls `calendar_cache_clear`).
_CACHE_SECONDS = 60.0
_cache: dict[int, tuple[float, WorkCalendar]] = {}
_policies: tuple[float, list[SlaPolicy]] | None = None


def work_calendar(calendar_id: int) -> WorkCalendar:
    hit = _cache.get(calendar_id)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    result = _work_calendar_of(BusinessCalendar.objects.get(pk=calendar_id))
    _cache[calendar_id] = (now, result)
    return result


def work_calendars(calendar_ids: set[int]) -> dict[int, WorkCalendar]:
    """Several calendars at once, through the same cache: three queries for those not cached,
    however many they are (an agent's shift hours are a calendar each). Ids of calendars that
    do not exist are left out."""
    now = time.monotonic()
    found: dict[int, WorkCalendar] = {}
    missing: list[int] = []
    for calendar_id in calendar_ids:
        hit = _cache.get(calendar_id)
        if hit is not None and now - hit[0] < _CACHE_SECONDS:
            found[calendar_id] = hit[1]
        else:
            missing.append(calendar_id)
    if missing:
        for calendar in BusinessCalendar.objects.filter(pk__in=missing).prefetch_related(
            "hours", "dates"
        ):
            found[calendar.pk] = _work_calendar_of(calendar)
            _cache[calendar.pk] = (now, found[calendar.pk])
    return found


def _work_calendar_of(calendar: BusinessCalendar) -> WorkCalendar:
    weekly: dict[int, list[Slot]] = {day: [] for day in range(7)}
    for hours in calendar.hours.all():
        weekly[hours.weekday].append(Slot(start=hours.start, end=hours.end))
    closures: set[date] = set()
    extra: set[date] = set()
    for day in calendar.dates.all():
        (extra if day.is_working else closures).add(day.date)
    return WorkCalendar(
        tz=ZoneInfo(calendar.timezone),
        weekly={day: tuple(sorted(slots, key=lambda s: s.start)) for day, slots in weekly.items()},
        use_cn_holidays=calendar.use_cn_holidays,
        closures=frozenset(closures),
        extra_workdays=frozenset(extra),
        holiday_country=calendar.holiday_country,
    )


def default_calendar_id() -> int | None:
    return BusinessCalendar.objects.filter(is_default=True).values_list("pk", flat=True).first()


def active_policies() -> list[SlaPolicy]:
    global _policies
    now = time.monotonic()
    if _policies is not None and now - _policies[0] < _CACHE_SECONDS:
        return _policies[1]
    policies = list(
        SlaPolicy.objects.filter(is_active=True)
        .prefetch_related("escalations")
        .order_by("position", "pk")
    )
    _policies = (now, policies)
    return policies


def calendar_cache_clear() -> None:
    global _policies
    _cache.clear()
    _policies = None


def policy_matches(conditions: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    """Whether a subject with `attributes` meets every condition of a policy."""
    for key, wanted in conditions.items():
        value = attributes.get(key)
        if key == "vip":
            if bool(value) != bool(wanted):
                return False
        elif key == "tags":
            if not set(wanted) & set(value or ()):
                return False
        elif value not in wanted and str(value) not in {str(w) for w in wanted}:
            return False
    return True


def policy_for(attributes: Mapping[str, Any]) -> SlaPolicy | None:
    """The first active policy, by position, whose conditions the subject meets."""
    for policy in active_policies():
        if policy_matches(policy.conditions or {}, attributes):
            return policy
    return None


def clock_due_in(clock: SlaClock, *, now: datetime | None = None) -> int:
    """Business seconds until the clock is due (real seconds for a clock on an out-of-hours
    target, see `SlaClock.wall_clock`); negative once overdue. A paused clock keeps the time
    it had left when it was paused."""
    now = now or timezone.now()
    end = clock.satisfied_at or clock.paused_at or now
    if clock.wall_clock:
        return int((clock.due_at - end).total_seconds())
    calendar = work_calendar(clock.calendar_id)
    if end <= clock.due_at:
        return calendar.between(end, clock.due_at)
    return -calendar.between(clock.due_at, end)


@dataclass(frozen=True)
class ClockView:
    milestone: str
    milestone_label: str
    sequence: int
    state: str
    started_at: datetime
    due_at: datetime
    satisfied_at: datetime | None
    breached_at: datetime | None
    paused_at: datetime | None
    business_seconds_left: int  # negative once overdue
    target_seconds: int
    escalation_level: int
    policy_name: str


@dataclass(frozen=True)
class RunningClock:
    due_at: datetime
    warned_at: datetime | None
    breached_at: datetime | None
    paused_at: datetime | None


def clocks_running(*, subject_id: int) -> list[RunningClock]:
    """The subject's clocks not yet satisfied, with only what a summary of them needs (its
    state and next due time): no policies or labels, as `clocks_for_subject` reads for pages.
    Intake asks on every customer message."""
    return [
        RunningClock(*row)
        for row in SlaClock.objects.filter(
            subject_id=subject_id, satisfied_at__isnull=True
        ).values_list("due_at", "warned_at", "breached_at", "paused_at")
    ]


def clocks_running_many(*, subject_ids: Collection[int]) -> dict[int, list[RunningClock]]:
    """`clocks_running` of many subjects in one statement, by subject (a subject with none
    running is left out)."""
    running: dict[int, list[RunningClock]] = {}
    for subject_id, due_at, warned_at, breached_at, paused_at in SlaClock.objects.filter(
        subject_id__in_ids=list(subject_ids), satisfied_at__isnull=True
    ).values_list("subject_id", "due_at", "warned_at", "breached_at", "paused_at"):
        running.setdefault(subject_id, []).append(
            RunningClock(due_at, warned_at, breached_at, paused_at)
        )
    return running


def clocks_for_subject(*, subject_id: int, now: datetime | None = None) -> list[ClockView]:
    """The subject's clocks: every running one, and the last of each milestone otherwise."""
    now = now or timezone.now()
    views = []
    clocks = list(
        SlaClock.objects.filter(subject_id=subject_id)
        .select_related("policy")
        .order_by("milestone", "-sequence")
    )
    shown: set[str] = set()
    for clock in clocks:
        running = clock.satisfied_at is None
        if clock.milestone in shown and not running:
            continue
        shown.add(clock.milestone)
        views.append(
            ClockView(
                milestone=clock.milestone,
                milestone_label=str(clock.get_milestone_display()),
                sequence=clock.sequence,
                state=clock.state,
                started_at=clock.started_at,
                due_at=clock.due_at,
                satisfied_at=clock.satisfied_at,
                breached_at=clock.breached_at,
                paused_at=clock.paused_at,
                business_seconds_left=clock_due_in(clock, now=now),
                target_seconds=clock.target_seconds,
                escalation_level=clock.escalation_level,
                policy_name=clock.policy.name,
            )
        )
    views.sort(key=lambda view: (view.satisfied_at is not None, view.due_at))
    return views


@dataclass(frozen=True)
class Compliance:
    key: str
    total: int  # clocks that ended (met or breached) in the period
    met: int
    breached: int

    @property
    def percent_met(self) -> float | None:
        return round(100.0 * self.met / self.total, 1) if self.total else None


def compliance(
    *, clocks: QuerySet[SlaClock], since: datetime, until: datetime, by: str
) -> list[Compliance]:
    """Share of milestones met on time among `clocks` that were met or breached in
    [since, until), grouped by a clock field (`milestone`, `policy__name`) or an annotation
    the caller added (e.g. the ticket's team)."""
    ended = clocks.filter(
        Q(satisfied_at__gte=since, satisfied_at__lt=until)
        | Q(breached_at__gte=since, breached_at__lt=until)
    )
    rows = (
        ended.values(by)
        .annotate(
            total=Count("pk"),
            breached=Count("pk", filter=Q(breached_at__isnull=False)),
        )
        .order_by(by)
    )
    return [
        Compliance(
            key=str(row[by]),
            total=row["total"],
            met=row["total"] - row["breached"],
            breached=row["breached"],
        )
        for row in rows
    ]
