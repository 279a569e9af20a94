"""Reads: calendars as arithmetic objects, clocks with their time left."""

import time
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from sla.calendar import Slot, WorkCalendar
from sla.models import BusinessCalendar, SlaClock, SlaPolicy

# Calendars change rarely and are read on every intake; a short per-process cache keeps the
# hot path to one query while an edit still takes effect within a minute.
_CACHE_SECONDS = 60.0
_cache: dict[int, tuple[float, WorkCalendar]] = {}


def work_calendar(calendar_id: int) -> WorkCalendar:
    hit = _cache.get(calendar_id)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    calendar = BusinessCalendar.objects.get(pk=calendar_id)
    weekly: dict[int, list[Slot]] = {day: [] for day in range(7)}
    for hours in calendar.hours.all():
        weekly[hours.weekday].append(Slot(start=hours.start, end=hours.end))
    closures: set[date] = set()
    extra: set[date] = set()
    for day in calendar.dates.all():
        (extra if day.is_working else closures).add(day.date)
    result = WorkCalendar(
        tz=ZoneInfo(calendar.timezone),
        weekly={day: tuple(sorted(slots, key=lambda s: s.start)) for day, slots in weekly.items()},
        use_cn_holidays=calendar.use_cn_holidays,
        closures=frozenset(closures),
        extra_workdays=frozenset(extra),
    )
    _cache[calendar_id] = (now, result)
    return result


_policy_cache: dict[str, tuple[float, SlaPolicy | None]] = {}


def policy_for_tier(tier: str) -> SlaPolicy | None:
    """The policy of a tier, cached like calendars (read on every new ticket)."""
    hit = _policy_cache.get(tier)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    policy = SlaPolicy.objects.filter(tier=tier).first()
    _policy_cache[tier] = (now, policy)
    return policy


def calendar_cache_clear() -> None:
    _cache.clear()
    _policy_cache.clear()


@dataclass(frozen=True)
class ClockView:
    milestone: str
    milestone_label: str
    state: str
    started_at: datetime
    due_at: datetime
    satisfied_at: datetime | None
    business_seconds_left: int  # negative once overdue
    target_seconds: int


def clocks_for_subject(*, subject_id: int, now: datetime | None = None) -> list[ClockView]:
    now = now or timezone.now()
    views = []
    for clock in SlaClock.objects.filter(subject_id=subject_id).order_by("due_at"):
        calendar = work_calendar(clock.calendar_id)
        end = clock.satisfied_at or now
        if end <= clock.due_at:
            left = calendar.between(end, clock.due_at)
        else:
            left = -calendar.between(clock.due_at, end)
        views.append(
            ClockView(
                milestone=clock.milestone,
                milestone_label=str(clock.get_milestone_display()),
                state=clock.state,
                started_at=clock.started_at,
                due_at=clock.due_at,
                satisfied_at=clock.satisfied_at,
                business_seconds_left=left,
                target_seconds=clock.target_seconds,
            )
        )
    return views


def next_due(*, subject_id: int) -> datetime | None:
    """The earliest due time among the subject's running clocks."""
    clock = (
        SlaClock.objects.filter(
            subject_id=subject_id, satisfied_at__isnull=True, breached_at__isnull=True
        )
        .order_by("due_at")
        .only("due_at")
        .first()
    )
    return clock.due_at if clock else None
