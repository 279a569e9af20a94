"""Contacts per channel and 30-minute interval for the next two weeks (docs/staffing.md).

The method, per channel:

1. **Daily totals** from the per-ticket facts (creation time, channel), by local day.
2. **Day types** from the default business calendar's holiday rules (China's public holidays
   and make-up workdays 调休, or another country's): a day is *special* when it is a day off
   on a weekday (a public holiday) or a working day at the weekend (a make-up workday). Days
   of a past shop event are special too. A special day's total is replaced, for fitting, by
   the average of the same weekday on ordinary days nearby, so that a holiday week does not
   bend the weekly pattern or the trend.
3. **Holt-Winters** (statsmodels' `ExponentialSmoothing`: additive damped trend, additive
   weekly seasonality) fitted to the adjusted daily totals and run forward.
4. **Holidays and make-up workdays ahead** scale their day's total by a factor learned from
   the special days of the history (actual ÷ the ordinary-day value put in its place), or,
   with none in the history, by the ratio of weekend to weekday volume (a holiday behaves
   like a weekend day, a make-up workday like a weekday).
5. **Daily seasonality**: each day's total is spread over its 48 intervals by the channel's
   intraday profile of the last eight weeks, one profile for working days and one for days
   off; a quiet channel's profile leans on all channels' profile.
6. **Shop events** (618, 双11, a promotion) multiply their days by 1 + uplift. They are
   applied when a forecast is read, so editing an event needs no recomputation.

`forecast_compute` fits and stores a `ForecastRun` (nightly from Celery beat, and on demand);
pages read the latest run (`forecast_latest`), never fit a model themselves. The backtest
runs the same method with the last four weeks held out and reports MAPE of the daily totals
(days with contacts) and WAPE of the intervals (Σ|error| ÷ Σ actual, which zeros do not
break).
"""

import logging
import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Case, Count, ExpressionWrapper, IntegerField, Value, When
from django.db.models.functions import ExtractHour, ExtractMinute, TruncDate
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from analytics.models import ForecastRun, ShopEvent, TicketFact
from sla.calendar import Slot, WorkCalendar
from sla.models import BusinessCalendar
from tickets.services.audit import audit_record

logger = logging.getLogger("kefu.analytics.forecast")

INTERVAL_MINUTES = 30
PER_DAY = 24 * 60 // INTERVAL_MINUTES
HORIZON_DAYS = 14
BACKTEST_DAYS = 28
# At least two weeks to fit a weekly pattern; at most a year is read.
MIN_HISTORY_DAYS = 14
MAX_HISTORY_DAYS = 365
PROFILE_DAYS = 56
# How many contacts' worth of the all-channel profile a channel's own profile is blended
# with: a channel with a handful of contacts a day gets mostly the common shape.
PROFILE_PRIOR = 50.0
# Runs kept besides the latest (for a look back in the admin).
RUNS_KEPT = 10


@dataclass(frozen=True)
class DayKinds:
    """Which days are days off for customers, and which of them are out of the ordinary."""

    calendar: WorkCalendar

    def is_off(self, day: date) -> bool:
        return not self.calendar.is_working_day(day)

    def is_special(self, day: date) -> bool:
        """A day off on a weekday (a holiday) or a working day at the weekend (调休)."""
        return self.is_off(day) != (day.weekday() >= 5)


def day_kinds() -> DayKinds:
    """Customers' working days: Monday to Friday under the default business calendar's
    holiday rules (its opening hours and its own closures are the helpdesk's, not the
    customers')."""
    default = BusinessCalendar.objects.filter(is_default=True).first()
    workday = (Slot(start=time(9), end=time(18)),)
    return DayKinds(
        WorkCalendar(
            tz=timezone.get_default_timezone(),
            weekly={day: workday if day < 5 else () for day in range(7)},
            use_cn_holidays=default.use_cn_holidays if default else True,
            holiday_country=default.holiday_country if default else "",
        )
    )


# --- history ------------------------------------------------------------------------------


@dataclass
class History:
    """Contacts per channel, local day and interval of the day."""

    first_day: date
    days: int
    counts: dict[str, np.ndarray]  # channel → array (days, PER_DAY)

    def day_at(self, index: int) -> date:
        return self.first_day + timedelta(days=index)

    def daily(self, channel: str) -> np.ndarray:
        return np.asarray(self.counts[channel].sum(axis=1), dtype=float)


def history_load(*, end: date, days: int = MAX_HISTORY_DAYS) -> History:
    """The facts' contacts from `days` before `end` (exclusive), counted in the database by
    channel and half hour; trimmed to start at the first day with any contact."""
    tz = timezone.get_default_timezone()
    start = end - timedelta(days=days)
    since = datetime.combine(start, time(), tzinfo=tz)
    until = datetime.combine(end, time(), tzinfo=tz)
    # Grouped by local day and half hour in the database: a year of contacts comes back as
    # at most channels × 17,520 rows, whatever the number of tickets.
    rows = (
        TicketFact.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(
            day=TruncDate("created_at", tzinfo=tz),
            slot=ExpressionWrapper(
                ExtractHour("created_at", tzinfo=tz) * (60 // INTERVAL_MINUTES)
                + Case(
                    When(
                        GreaterThanOrEqual(
                            ExtractMinute("created_at", tzinfo=tz), INTERVAL_MINUTES
                        ),
                        then=Value(1),
                    ),
                    default=Value(0),
                ),
                output_field=IntegerField(),
            ),
        )
        .values("channel", "day", "slot")
        .annotate(n=Count("pk"))
        .values_list("channel", "day", "slot", "n")
    )
    counts: dict[str, np.ndarray] = {}
    for channel, day, slot, n in rows:
        index = (day - start).days
        if not 0 <= index < days:
            continue
        grid = counts.setdefault(channel, np.zeros((days, PER_DAY)))
        grid[index, int(slot)] += n
    if not counts:
        return History(first_day=end, days=0, counts={})
    total = sum(counts.values())
    busy = np.nonzero(np.asarray(total).sum(axis=1))[0]
    first = int(busy[0])
    return History(
        first_day=start + timedelta(days=first),
        days=days - first,
        counts={channel: grid[first:] for channel, grid in counts.items()},
    )


# --- the method ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EventDay:
    uplift_percent: int
    channel: str


def events_by_day(events: Iterable[ShopEvent]) -> dict[date, list[EventDay]]:
    found: dict[date, list[EventDay]] = defaultdict(list)
    for event in events:
        day = event.start
        while day <= event.end:
            found[day].append(EventDay(event.uplift_percent, event.channel))
            day += timedelta(days=1)
    return found


def event_factor(events: Mapping[date, Sequence[EventDay]], day: date, channel: str) -> float:
    """What the shop events of `day` multiply a channel's contacts by (events compound)."""
    factor = 1.0
    for event in events.get(day, ()):
        if not event.channel or event.channel == channel:
            factor *= max(0.0, 1 + event.uplift_percent / 100)
    return factor


def _adjusted(daily: np.ndarray, unusual: Sequence[bool]) -> np.ndarray:
    """The series with unusual days replaced by the mean of the same weekday on ordinary days
    within three weeks (else of all ordinary days)."""
    adjusted = daily.copy()
    ordinary = [i for i in range(len(daily)) if not unusual[i]]
    overall = float(np.mean(daily[ordinary])) if ordinary else float(np.mean(daily))
    for i, is_unusual in enumerate(unusual):
        if not is_unusual:
            continue
        near = [j for j in ordinary if abs(j - i) <= 21 and (j - i) % 7 == 0]
        adjusted[i] = float(np.mean(daily[near])) if near else overall
    return adjusted


def _holt_winters(series: np.ndarray, steps: int) -> np.ndarray:
    """Holt-Winters with an additive damped trend and weekly seasonality; the weekday means
    of the last four weeks when the series is too flat or short for the fit."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    if len(series) >= 2 * 7 and float(np.ptp(series)) > 0:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ExponentialSmoothing(
                    series,
                    trend="add",
                    damped_trend=True,
                    seasonal="add",
                    seasonal_periods=7,
                    initialization_method="estimated",
                ).fit()
                predicted = np.asarray(model.forecast(steps), dtype=float)
            if np.all(np.isfinite(predicted)):
                return np.clip(predicted, 0.0, None)
        except (ValueError, np.linalg.LinAlgError) as error:
            logger.warning("Holt-Winters fit failed (%s); weekday means used", error)
    recent = series[-28:]
    offset = len(series) - len(recent)
    means = [
        float(np.mean([recent[i] for i in range(len(recent)) if (offset + i) % 7 == weekday]))
        if any((offset + i) % 7 == weekday for i in range(len(recent)))
        else float(np.mean(recent))
        for weekday in range(7)
    ]
    return np.array([means[(len(series) + k) % 7] for k in range(steps)], dtype=float)


def _profiles(history: History, kinds: DayKinds) -> dict[tuple[str, bool], np.ndarray]:
    """Intraday shares (summing to 1) per channel and day type (off or not) from the last
    PROFILE_DAYS of the history. A channel's own counts are blended with PROFILE_PRIOR
    contacts' worth of all channels' shape for that day type (or the other day type's, or a
    flat one, when there is none)."""
    first = max(0, history.days - PROFILE_DAYS)
    off = np.array([kinds.is_off(history.day_at(i)) for i in range(first, history.days)])
    totals: dict[tuple[str, bool], np.ndarray] = {}
    for channel, grid in history.counts.items():
        recent = grid[first:]
        for is_off in (False, True):
            totals[(channel, is_off)] = recent[off == is_off].sum(axis=0)
    flat = np.full(PER_DAY, 1.0 / PER_DAY)
    common: dict[bool, np.ndarray] = {}
    for is_off in (False, True):
        together = sum((totals[(c, is_off)] for c in history.counts), start=np.zeros(PER_DAY))
        if together.sum() == 0:
            together = sum(
                (totals[(c, not is_off)] for c in history.counts), start=np.zeros(PER_DAY)
            )
        # One contact's worth of a flat day, so that no interval is ever certain to be empty.
        common[is_off] = (together + flat) / (together.sum() + 1)
    profiles: dict[tuple[str, bool], np.ndarray] = {}
    for channel in history.counts:
        for is_off in (False, True):
            own = totals[(channel, is_off)]
            profiles[(channel, is_off)] = (own + PROFILE_PRIOR * common[is_off]) / (
                own.sum() + PROFILE_PRIOR
            )
    return profiles


def _day_factors(
    daily: np.ndarray,
    adjusted: np.ndarray,
    days: Sequence[date],
    kinds: DayKinds,
    event_days: Sequence[bool],
) -> tuple[float, float]:
    """What a holiday on a weekday and a make-up workday at the weekend multiply the
    ordinary forecast of their weekday by: learned from such days in the history, else the
    weekend-to-weekday ratio (and its inverse)."""
    offset = max(0, len(days) - PROFILE_DAYS)
    weekdays = [adjusted[offset + i] for i, d in enumerate(days[offset:]) if d.weekday() < 5]
    weekends = [adjusted[offset + i] for i, d in enumerate(days[offset:]) if d.weekday() >= 5]
    week_mean = float(np.mean(weekdays)) if weekdays else 0.0
    weekend_mean = float(np.mean(weekends)) if weekends else 0.0
    off_ratio = weekend_mean / week_mean if week_mean > 0 and weekend_mean > 0 else 1.0
    holidays = [
        daily[i] / adjusted[i]
        for i, d in enumerate(days)
        if kinds.is_special(d) and kinds.is_off(d) and adjusted[i] > 0 and not event_days[i]
    ]
    makeups = [
        daily[i] / adjusted[i]
        for i, d in enumerate(days)
        if kinds.is_special(d) and not kinds.is_off(d) and adjusted[i] > 0 and not event_days[i]
    ]
    holiday = float(median(holidays)) if holidays else off_ratio
    makeup = float(median(makeups)) if makeups else 1.0 / off_ratio
    return min(max(holiday, 0.1), 10.0), min(max(makeup, 0.1), 10.0)


def predict(
    history: History,
    *,
    start: date,
    days: int,
    kinds: DayKinds,
    events: Mapping[date, Sequence[EventDay]],
) -> dict[str, np.ndarray]:
    """Contacts per channel and interval for `days` days from `start` (the day after the
    history, or later: the model runs forward over the days between), before the shop events
    of those days. Each array is (days, PER_DAY)."""
    history_days = [history.day_at(i) for i in range(history.days)]
    profiles = _profiles(history, kinds)
    gap = (start - history.day_at(history.days)).days if history.days else 0
    result: dict[str, np.ndarray] = {}
    for channel in sorted(history.counts):
        daily = history.daily(channel)
        event_days = [event_factor(events, d, channel) != 1.0 for d in history_days]
        unusual = [kinds.is_special(d) or event_days[i] for i, d in enumerate(history_days)]
        # Past shop events and holidays are left out of the fit, then learned as factors.
        adjusted = _adjusted(daily, unusual)
        holiday, makeup = _day_factors(daily, adjusted, history_days, kinds, event_days)
        totals = _holt_winters(adjusted, gap + days)[gap:]
        grid = np.zeros((days, PER_DAY))
        for k in range(days):
            day = start + timedelta(days=k)
            total = totals[k]
            if kinds.is_special(day):
                total *= holiday if kinds.is_off(day) else makeup
            grid[k] = total * profiles[(channel, kinds.is_off(day))]
        result[channel] = grid
    return result


def with_events(
    grids: Mapping[str, np.ndarray],
    *,
    start: date,
    events: Mapping[date, Sequence[EventDay]],
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for channel, grid in grids.items():
        scaled = np.array(grid, dtype=float)
        for k in range(scaled.shape[0]):
            scaled[k] *= event_factor(events, start + timedelta(days=k), channel)
        out[channel] = scaled
    return out


def accuracy(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float | int | None]:
    """MAPE of the daily totals (over days with contacts) and WAPE of the intervals."""
    daily_actual = actual.sum(axis=1)
    daily_predicted = predicted.sum(axis=1)
    busy = daily_actual > 0
    mape = (
        float(np.mean(np.abs(daily_actual[busy] - daily_predicted[busy]) / daily_actual[busy]))
        if busy.any()
        else None
    )
    total = float(actual.sum())
    wape = float(np.abs(actual - predicted).sum() / total) if total > 0 else None
    return {"mape": mape, "wape": wape, "days": int(busy.sum())}


# --- stored runs --------------------------------------------------------------------------


def _rounded(grid: np.ndarray) -> list[float]:
    return [round(float(v), 3) for v in grid.reshape(-1)]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.get_default_timezone())


def forecast_compute(*, today: date | None = None) -> ForecastRun:
    """Fit the forecast of the HORIZON_DAYS from `today` (the local date by default) on the
    history before it, backtest the method on the last BACKTEST_DAYS, and store the run."""
    today = today or timezone.localdate()
    kinds = day_kinds()
    events = events_by_day(ShopEvent.objects.all())
    history = history_load(end=today)
    forecast: dict[str, list[float]] = {}
    backtest: dict[str, Any] = {}
    scores: dict[str, dict[str, float | int | None]] = {}
    if history.days >= MIN_HISTORY_DAYS:
        grids = predict(history, start=today, days=HORIZON_DAYS, kinds=kinds, events=events)
        forecast = {channel: _rounded(grid) for channel, grid in grids.items()}
    if history.days >= MIN_HISTORY_DAYS + BACKTEST_DAYS:
        held = history.days - BACKTEST_DAYS
        training = History(
            first_day=history.first_day,
            days=held,
            counts={c: g[:held] for c, g in history.counts.items()},
        )
        cutoff = history.day_at(held)
        predicted = with_events(
            predict(training, start=cutoff, days=BACKTEST_DAYS, kinds=kinds, events=events),
            start=cutoff,
            events=events,
        )
        actual = {c: g[held:] for c, g in history.counts.items()}
        for channel in actual:
            scores[channel] = accuracy(actual[channel], predicted[channel])
        everything_actual = sum(actual.values(), start=np.zeros((BACKTEST_DAYS, PER_DAY)))
        everything_predicted = sum(predicted.values(), start=np.zeros((BACKTEST_DAYS, PER_DAY)))
        scores[""] = accuracy(everything_actual, everything_predicted)
        backtest = {
            "start": _day_start(cutoff).isoformat(),
            "actual": {c: _rounded(g) for c, g in actual.items()},
            "predicted": {c: _rounded(g) for c, g in predicted.items()},
        }
    run = ForecastRun.objects.create(
        computed_at=timezone.now(),
        start=_day_start(today),
        interval_minutes=INTERVAL_MINUTES,
        intervals=HORIZON_DAYS * PER_DAY if forecast else 0,
        history_days=history.days,
        forecast=forecast,
        backtest=backtest,
        accuracy=scores,
    )
    stale = ForecastRun.objects.order_by("-computed_at", "-pk").values_list("pk", flat=True)
    ForecastRun.objects.filter(pk__in=list(stale[RUNS_KEPT + 1 :])).delete()
    return run


@dataclass
class Forecast:
    """A stored run as read: contacts per channel and interval, shop events applied."""

    run: ForecastRun
    start: datetime
    intervals: list[datetime]
    contacts: dict[str, list[float]]
    baseline: dict[str, list[float]]

    def total(self) -> list[float]:
        return [
            sum(values[i] for values in self.contacts.values()) for i in range(len(self.intervals))
        ]


def forecast_latest() -> Forecast | None:
    """The latest stored forecast with the shop events as they stand now; None before the
    first run."""
    run = ForecastRun.objects.order_by("-computed_at", "-pk").first()
    if run is None:
        return None
    start = timezone.localtime(run.start)
    step = timedelta(minutes=run.interval_minutes)
    intervals = [start + step * i for i in range(run.intervals)]
    events = events_by_day(ShopEvent.objects.filter(end__gte=start.date()))
    contacts: dict[str, list[float]] = {}
    for channel, values in run.forecast.items():
        per_day = 24 * 60 // run.interval_minutes
        contacts[channel] = [
            value * event_factor(events, (start + timedelta(days=i // per_day)).date(), channel)
            for i, value in enumerate(values)
        ]
    return Forecast(
        run=run, start=start, intervals=intervals, contacts=contacts, baseline=run.forecast
    )


def shop_event_save(*, form: Any, actor: Any) -> ShopEvent:
    """Store a validated shop event form (new or changed); the forecast shows it at once.
    Audited."""
    with transaction.atomic():
        event: ShopEvent = form.save()
        audit_record(
            actor=actor,
            action="shop_event_saved",
            object_type="shop_event",
            object_id=str(event.pk),
            data={
                "name": event.name,
                "start": event.start.isoformat(),
                "end": event.end.isoformat(),
                "uplift_percent": event.uplift_percent,
                "channel": event.channel,
            },
        )
    return event


def shop_event_delete(*, event: ShopEvent, actor: Any) -> None:
    """Delete a shop event; audited."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="shop_event_deleted",
            object_type="shop_event",
            object_id=str(event.pk),
            data={"name": event.name},
        )
        event.delete()


def mape_display(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value * 100:.1f}%"
