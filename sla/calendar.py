"""Business-time arithmetic for SLA targets: pure Python, no ORM and no Django.

A `WorkCalendar` says when the helpdesk is open, and turns "N business seconds after this
instant" into a real instant (`add`) and back (`between`). The rules:

* Every datetime going in must be timezone-aware (naive ones raise `ValueError`); instants
  coming out of `add` and `next_open` are expressed in the calendar's own zone.
* Whether a date is a working day is decided, first rule that applies wins, by: the custom
  `closures` (closed), the custom `extra_workdays` (open), then, when `use_cn_holidays` is on,
  the `chinese_calendar` package for the days its schedule names (statutory holidays,
  including the weekend days inside a holiday block, are closed; make-up workdays 调休 are
  open), and finally the weekly hours: a date is a working day when its weekday has slots.
  For Monday-to-Friday hours this is exactly `chinese_calendar.is_workday`. A year the
  package has no data for falls back to the weekly hours and is logged once per year on the
  "kefu.sla" logger; `cn_calendar_covers(year)` tells in advance.
* A working day uses its weekday's slots; a working day whose weekday has none (a make-up
  weekend day, an extra working Saturday) borrows the slots of the first of Monday to Friday
  that has some. A non-working day has no slots.
* Slots are local wall-clock times in the calendar's zone. Business time is real elapsed time
  inside them, so a slot that spans a DST change is one hour shorter or longer that day.
* Arithmetic is exact: whole business seconds are added, microseconds of the input are kept.
  `add(t, 0)` is `t` while open and the next opening otherwise; the instant `add` returns for
  N > 0 is inside a slot or exactly at the end of one. `between(a, b)` counts whole business
  seconds in [a, b) and is 0 when b <= a.
* Work is done slot by slot, never second by second, and a search that finds no open slot in
  3,700 consecutive days gives up with `ValueError` instead of looping forever.
"""

from __future__ import annotations

import logging
import operator
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = ["Slot", "WorkCalendar", "cn_calendar_covers", "default_calendar"]

logger = logging.getLogger("kefu.sla")

# Longest run of days without a single open slot that a forward search will cross. Real
# closures (Spring Festival, a long renovation) are far shorter; ten years means the calendar
# can never open, and failing loudly beats an endless loop in a request or a worker.
MAX_IDLE_DAYS = 3700

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)

# Years already reported as missing from chinese-calendar data; the fallback is consulted for
# every day of such a year, and one warning per process and year is enough.
_warned_years: set[int] = set()
_warned_lock = threading.Lock()

# Each calendar memoises its days' spans; bounded so a long-lived process that scans many
# years cannot grow without limit.
_SPAN_CACHE_LIMIT = 8192


@dataclass(frozen=True)
class Slot:
    """Opening hours within one day, as local wall-clock times.

    `start` is inclusive and `end` exclusive. `time.max` as `end` means "until midnight";
    `time(0, 0)` is refused as an end because it would read as the start of the same day.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if not isinstance(self.start, time) or not isinstance(self.end, time):
            raise TypeError("Slot start and end must be datetime.time values")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("Slot times are wall-clock times in the calendar's zone; drop tzinfo")
        if self.end == time(0, 0):
            raise ValueError("A slot cannot end at 00:00; use time.max to mean the end of the day")
        if self.end <= self.start:
            raise ValueError(f"Slot end {self.end} must be after its start {self.start}")


@dataclass(frozen=True)
class WorkCalendar:
    """Opening hours, holidays and the business-time arithmetic over them."""

    tz: ZoneInfo
    weekly: dict[int, tuple[Slot, ...]]
    use_cn_holidays: bool = True
    closures: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    # Another country's public holidays (ISO 3166 code, e.g. "HK", "SG"), from the `holidays`
    # package; empty for none. Applied after the Chinese schedule.
    holiday_country: str = ""
    # Memo of each day's spans: not part of the calendar's identity, never passed in.
    _spans: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.tz, tzinfo):
            raise TypeError("tz must be a tzinfo, e.g. ZoneInfo('Asia/Shanghai')")
        # Frozen, so normalise through object.__setattr__; copying also keeps a caller's later
        # edits to their own dict from silently invalidating the memoised spans.
        object.__setattr__(self, "weekly", _normalise_weekly(self.weekly))
        object.__setattr__(self, "closures", _date_set(self.closures, "closures"))
        object.__setattr__(self, "extra_workdays", _date_set(self.extra_workdays, "extra_workdays"))

    def __hash__(self) -> int:
        # The generated hash would choke on the dict; hashing its frozen view lets calendars
        # serve as cache keys.
        return hash(
            (
                self.tz,
                frozenset(self.weekly.items()),
                self.use_cn_holidays,
                self.closures,
                self.extra_workdays,
                self.holiday_country,
            )
        )

    # -- days ---------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether the helpdesk works on this date at all (see the module docstring)."""
        day = _as_date(day)
        if day in self.closures:
            return False
        if day in self.extra_workdays:
            return True
        if self.use_cn_holidays:
            if cn_calendar_covers(day.year):
                verdict = _cn_verdict(day)
                if verdict is not None:
                    return verdict
            else:
                _warn_uncovered(day.year)
        if self.holiday_country and _is_country_holiday(self.holiday_country, day):
            return False
        return bool(self.weekly.get(day.weekday()))

    def slots_on(self, day: date) -> tuple[Slot, ...]:
        """The slots that apply on this date; empty on a non-working day."""
        day = _as_date(day)
        candidates = self.weekly.get(day.weekday(), ())
        if not candidates:
            candidates = next((self.weekly[d] for d in range(5) if self.weekly.get(d)), ())
        # Decide "no hours at all" before asking about holidays, so a calendar without slots
        # fails fast in the idle-day guard instead of warning about every uncovered year.
        if not candidates or not self.is_working_day(day):
            return ()
        return candidates

    # -- instants -----------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Whether `at` falls inside a slot."""
        at_utc = _to_utc(at, "at")
        stop = self._local_day(at_utc) + _ONE_DAY
        first = next(self._spans_after(at_utc, stop=stop), None)
        return first is not None and first[0] <= at_utc

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, otherwise the start of the next slot."""
        at_utc = _to_utc(at, "at")
        # Unbounded scan: it yields a span or raises ValueError after MAX_IDLE_DAYS empty days.
        start, _end = next(self._spans_after(at_utc))
        return max(start, at_utc).astimezone(self.tz)

    def add(self, start: datetime, seconds: int) -> datetime:
        """The instant `seconds` business seconds after `start`."""
        start_utc = _to_utc(start, "start")
        seconds = operator.index(seconds)
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        remaining = timedelta(seconds=seconds)
        for span_start, span_end in self._spans_after(start_utc):
            cursor = max(span_start, start_utc)
            available = span_end - cursor
            # `<=` rather than `<`: finishing exactly as a slot closes lands on its end, not on
            # the next opening, so a deadline reads 18:00 rather than 09:00 the next morning.
            if remaining <= available:
                return (cursor + remaining).astimezone(self.tz)
            remaining -= available
        raise AssertionError("unreachable: _spans_after either yields or raises")

    def between(self, start: datetime, end: datetime) -> int:
        """Whole business seconds in [start, end); 0 when end <= start."""
        start_utc = _to_utc(start, "start")
        end_utc = _to_utc(end, "end")
        if end_utc <= start_utc:
            return 0
        total = timedelta(0)
        stop = self._local_day(end_utc) + _ONE_DAY
        for span_start, span_end in self._spans_after(start_utc, stop=stop):
            if span_start >= end_utc:
                break
            total += min(span_end, end_utc) - max(span_start, start_utc)
        # Floor, in integer arithmetic: float total_seconds() could round a sub-second
        # remainder up across a whole second.
        return total // _ONE_SECOND

    # -- internals ----------------------------------------------------------------------------

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def _day_spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's slots as UTC (start, end) pairs, memoised per calendar."""
        cached = self._spans.get(day)
        if cached is not None:
            return cached
        spans: list[tuple[datetime, datetime]] = []
        for slot in self.slots_on(day):
            # datetime.combine with a ZoneInfo uses fold=0: a wall time skipped by a DST jump
            # is read with the offset from before the jump (02:30 on a spring-forward night in
            # Berlin is 03:30 CEST), and a repeated wall time means its first occurrence.
            # Converting to UTC before any subtraction is what makes the durations real:
            # same-zone aware arithmetic in Python is wall-clock arithmetic.
            span_start = datetime.combine(day, slot.start, tzinfo=self.tz).astimezone(UTC)
            if slot.end == time.max:
                end_wall = datetime.combine(day + _ONE_DAY, time(0), tzinfo=self.tz)
            else:
                end_wall = datetime.combine(day, slot.end, tzinfo=self.tz)
            spans.append((span_start, end_wall.astimezone(UTC)))
        result = tuple(spans)
        if len(self._spans) >= _SPAN_CACHE_LIMIT:
            self._spans.clear()
        self._spans[day] = result
        return result

    def _spans_after(
        self, instant: datetime, stop: date | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """Yield open spans in time order that end after `instant` (UTC).

        Without `stop` the scan runs until the caller stops consuming or `MAX_IDLE_DAYS` days
        in a row have no slot; with `stop` it ends before that local date.
        """
        # Start a day early: a slot of the previous local day can still be running at
        # `instant` when the fold=0 reading pushes its end past midnight.
        day = self._local_day(instant) - _ONE_DAY
        idle_days = 0
        previous_end: datetime | None = None
        while stop is None or day < stop:
            spans = self._day_spans(day)
            if spans:
                idle_days = 0
            else:
                idle_days += 1
                if idle_days > MAX_IDLE_DAYS:
                    raise ValueError(
                        f"No working slot in {MAX_IDLE_DAYS} consecutive days up to {day}; "
                        "the calendar has no usable opening hours"
                    )
            for span_start, span_end in spans:
                # Around a DST gap the fold=0 reading can make consecutive spans overlap or
                # even invert; clipping keeps them ordered and every second counted once.
                if previous_end is not None and span_start < previous_end:
                    span_start = previous_end
                if span_end <= span_start:
                    continue
                previous_end = span_end
                if span_end > instant:
                    yield span_start, span_end
            try:
                day += _ONE_DAY
            except OverflowError:
                raise ValueError("Ran past date.max looking for an open slot") from None


def cn_calendar_covers(year: int) -> bool:
    """Whether the installed chinese_calendar package has holiday data for `year`."""
    return _cn_covers(operator.index(year))


def default_calendar() -> WorkCalendar:
    """Kefu's stock hours: Monday to Friday 09:00-12:00 and 13:00-18:00 in Asia/Shanghai."""
    day = (Slot(time(9, 0), time(12, 0)), Slot(time(13, 0), time(18, 0)))
    return WorkCalendar(
        tz=ZoneInfo("Asia/Shanghai"),
        weekly=dict.fromkeys(range(5), day),
        use_cn_holidays=True,
    )


@lru_cache(maxsize=256)
def _cn_covers(year: int) -> bool:
    try:
        probe = date(year, 1, 1)
    except ValueError:
        return False
    try:
        chinese_calendar.is_workday(probe)
    except NotImplementedError:
        return False
    return True


# The package re-derives its supported year range on every call; days repeat constantly
# (every SLA on every ticket), so memoising the answer is worth it.
@lru_cache(maxsize=8192)
def _cn_verdict(day: date) -> bool | None:
    """True on a make-up workday, False on a statutory holiday, None on an ordinary day.

    Only days the State Council schedule names override the weekly hours. For a Monday to
    Friday calendar this equals `chinese_calendar.is_workday`; unlike a bare `is_workday`, it
    keeps the ordinary Saturdays of a team that works Saturdays, and the ordinary Fridays
    closed for one that does not work Fridays.
    """
    is_holiday, name = chinese_calendar.get_holiday_detail(day)
    if name is None:
        return None
    return not is_holiday


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays(country, years=year))


def _is_country_holiday(country: str, day: date) -> bool:
    return day in _country_holidays(country, day.year)


def _warn_uncovered(year: int) -> None:
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    logger.warning(
        "Year %d is not covered by chinese-calendar data; statutory holidays and make-up "
        "workdays are ignored and the weekly hours alone decide working days. Upgrade the "
        "chinesecalendar package once the State Council publishes that year's schedule.",
        year,
    )


def _to_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _as_date(value: date) -> date:
    # A datetime is a date too, but its calendar day depends on a zone we would have to guess.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a datetime.date, got {type(value).__name__}")
    return value


def _date_set(values: Iterable[date], name: str) -> frozenset[date]:
    result = frozenset(values)
    for value in result:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"{name} must hold datetime.date values, got {value!r}")
    return result


def _normalise_weekly(weekly: Mapping[int, Iterable[Slot]]) -> dict[int, tuple[Slot, ...]]:
    result: dict[int, tuple[Slot, ...]] = {}
    for weekday, slots in weekly.items():
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(f"weekly keys are weekdays 0 (Monday) to 6 (Sunday), got {weekday!r}")
        ordered = tuple(sorted(slots, key=lambda slot: slot.start))
        for slot in ordered:
            if not isinstance(slot, Slot):
                raise TypeError(f"weekly[{weekday}] must hold Slot values, got {slot!r}")
        for earlier, later in pairwise(ordered):
            if later.start < earlier.end:
                raise ValueError(f"Overlapping slots on weekday {weekday}: {earlier} and {later}")
        result[weekday] = ordered
    return result
