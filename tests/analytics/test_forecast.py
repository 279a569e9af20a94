"""The contact forecast on a generated history whose weekly and daily pattern is known:
ordinary days, China's holidays and make-up workdays, shop events, the stored run and its
backtest, and the page."""

from datetime import date, datetime, time, timedelta

import numpy as np
import pytest
from django.utils import timezone

from analytics import forecast as forecasting
from analytics.models import ForecastRun, ShopEvent, TicketFact

pytestmark = pytest.mark.django_db

# Contacts per weekday (Monday first) and the shape of a day: nothing at night, a morning
# and an evening peak.
WEEKLY = [100, 90, 90, 95, 110, 60, 50]
SHAPE = np.zeros(48)
SHAPE[16:44] = 1.0  # 08:00–22:00
SHAPE[20:24] += 2.0  # 10:00–12:00
SHAPE[40:42] += 3.0  # 20:00–21:00
SHAPE /= SHAPE.sum()
PEAK = int(np.argmax(SHAPE))


def spread(total: int) -> list[int]:
    """`total` contacts over the day's intervals by SHAPE, rounded to whole contacts so that
    they add up (largest remainders first)."""
    exact = SHAPE * total
    whole = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - whole))[: total - int(whole.sum())]:
        whole[i] += 1
    return [int(n) for n in whole]


def generate(
    *,
    first: date,
    last: date,
    per_day: dict[date, int] | None = None,
    channel: str = "app",
    scale: float = 1.0,
    trend: float = 0.0,
) -> None:
    """Facts from `first` to `last` (inclusive): WEEKLY × scale (+ trend per day), unless
    `per_day` names the day's total."""
    tz = timezone.get_default_timezone()
    start_id = (
        TicketFact.objects.order_by("-ticket_id").values_list("ticket_id", flat=True).first() or 0
    ) + 1
    facts = []
    day = first
    index = 0
    while day <= last:
        total = (per_day or {}).get(day)
        if total is None:
            total = round(WEEKLY[day.weekday()] * scale + trend * index)
        for slot, n in enumerate(spread(total)):
            at = datetime.combine(day, time(slot // 2, 30 * (slot % 2) + 10), tzinfo=tz)
            for _ in range(n):
                facts.append(
                    TicketFact(
                        ticket_id=start_id + len(facts),
                        created_at=at,
                        channel=channel,
                        tier="regular",
                        customer_id=1,
                        is_open=False,
                        refreshed_at=at,
                    )
                )
        day += timedelta(days=1)
        index += 1
    TicketFact.objects.bulk_create(facts, batch_size=2000)


def daily_totals(grid: np.ndarray) -> list[float]:
    return [float(v) for v in grid.sum(axis=1)]


def test_ordinary_weeks_are_forecast_with_their_weekly_and_daily_pattern():
    # Ten weeks without a holiday (2025-07-07 to 2025-09-14), forecast from Monday 09-15.
    generate(first=date(2025, 7, 7), last=date(2025, 9, 14))

    run = forecasting.forecast_compute(today=date(2025, 9, 15))

    grid = np.array(run.forecast["app"]).reshape(14, 48)
    expected = [WEEKLY[(date(2025, 9, 15) + timedelta(days=k)).weekday()] for k in range(13)]
    # The last day (Sunday 09-28) is a make-up workday for National Day: not ordinary.
    errors = [abs(f - e) / e for f, e in zip(daily_totals(grid)[:13], expected, strict=True)]
    assert max(errors) < 0.05
    assert int(np.argmax(grid[0])) == PEAK
    assert grid[0][:16].sum() < 1.0  # the night stays quiet
    assert run.history_days == 70
    assert run.intervals == 14 * 48


def test_the_backtest_of_a_regular_history_is_accurate_and_stored():
    generate(first=date(2025, 7, 7), last=date(2025, 9, 14), trend=0.3)

    run = forecasting.forecast_compute(today=date(2025, 9, 15))

    assert run.accuracy["app"]["days"] == 28
    assert run.accuracy["app"]["mape"] < 0.05
    assert run.accuracy[""]["mape"] == pytest.approx(run.accuracy["app"]["mape"])
    assert len(run.backtest["actual"]["app"]) == 28 * 48
    assert len(run.backtest["predicted"]["app"]) == 28 * 48
    assert run.backtest["start"].startswith("2025-08-18")


def test_holidays_ahead_look_like_weekend_days_and_make_up_workdays_like_weekdays():
    # History without holidays; the forecast from 2025-09-22 reaches National Day.
    generate(first=date(2025, 7, 7), last=date(2025, 9, 21))

    run = forecasting.forecast_compute(today=date(2025, 9, 22))

    totals = daily_totals(np.array(run.forecast["app"]).reshape(14, 48))
    by_day = {date(2025, 9, 22) + timedelta(days=k): total for k, total in enumerate(totals)}
    weekday_mean = sum(WEEKLY[:5]) / 5
    weekend_mean = sum(WEEKLY[5:]) / 2
    # Wednesday 10-01, a public holiday: a Wednesday scaled by weekend ÷ weekday volume.
    assert by_day[date(2025, 10, 1)] == pytest.approx(90 * weekend_mean / weekday_mean, rel=0.08)
    # Sunday 09-28, a make-up workday: a Sunday scaled the other way.
    assert by_day[date(2025, 9, 28)] == pytest.approx(50 * weekday_mean / weekend_mean, rel=0.08)
    # An ordinary Sunday stays a Sunday.
    assert by_day[date(2025, 9, 21 + 7)] != by_day[date(2025, 10, 5)]
    assert by_day[date(2025, 10, 5)] == pytest.approx(50, rel=0.08)


def test_holidays_in_the_history_are_learned_and_do_not_bend_the_usual_weeks():
    holidays = [date(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)]  # weekdays off for National Day
    per_day = {day: 3 * WEEKLY[day.weekday()] for day in holidays}
    generate(first=date(2025, 8, 4), last=date(2025, 11, 2), per_day=per_day)
    kinds = forecasting.day_kinds()
    history = forecasting.history_load(end=date(2025, 11, 3))

    ordinary = forecasting.predict(history, start=date(2025, 11, 3), days=7, kinds=kinds, events={})
    new_year = forecasting.predict(
        history, start=date(2025, 12, 29), days=7, kinds=kinds, events={}
    )

    assert daily_totals(ordinary["app"]) == pytest.approx(WEEKLY, rel=0.05)
    totals = dict(
        zip(
            [date(2025, 12, 29) + timedelta(days=k) for k in range(7)],
            daily_totals(new_year["app"]),
            strict=True,
        )
    )
    # Thursday 2026-01-01 is a holiday: three times a Thursday, as National Day was.
    assert totals[date(2026, 1, 1)] == pytest.approx(3 * WEEKLY[3], rel=0.08)
    # Monday 12-29 is an ordinary Monday.
    assert totals[date(2025, 12, 29)] == pytest.approx(WEEKLY[0], rel=0.08)


def test_shop_events_lift_their_days_on_their_channel_when_read():
    generate(first=date(2025, 7, 7), last=date(2025, 9, 14))
    generate(first=date(2025, 7, 7), last=date(2025, 9, 14), channel="phone", scale=0.5)
    forecasting.forecast_compute(today=date(2025, 9, 15))
    plain = forecasting.forecast_latest()
    assert plain is not None

    ShopEvent.objects.create(
        name="秋季大促",
        start=date(2025, 9, 17),
        end=date(2025, 9, 18),
        uplift_percent=50,
        channel="app",
    )
    lifted = forecasting.forecast_latest()

    assert lifted is not None
    day = slice(2 * 48, 3 * 48)  # Wednesday 09-17
    assert sum(lifted.contacts["app"][day]) == pytest.approx(1.5 * sum(plain.contacts["app"][day]))
    assert sum(lifted.contacts["phone"][day]) == pytest.approx(sum(plain.contacts["phone"][day]))
    before = slice(1 * 48, 2 * 48)
    assert sum(lifted.contacts["app"][before]) == pytest.approx(sum(plain.contacts["app"][before]))
    assert lifted.run.pk == plain.run.pk  # no recomputation


def test_a_past_shop_event_is_left_out_of_the_usual_weeks():
    promotion = {date(2025, 8, 25) + timedelta(days=k): 4 * WEEKLY[k] for k in range(7)}
    generate(first=date(2025, 7, 7), last=date(2025, 9, 14), per_day=promotion)
    ShopEvent.objects.create(
        name="818", start=date(2025, 8, 25), end=date(2025, 8, 31), uplift_percent=300
    )

    run = forecasting.forecast_compute(today=date(2025, 9, 15))

    totals = daily_totals(np.array(run.forecast["app"]).reshape(14, 48))[:7]
    assert totals == pytest.approx(WEEKLY, rel=0.05)


def test_too_little_history_stores_an_empty_forecast():
    generate(first=date(2025, 9, 8), last=date(2025, 9, 14))

    run = forecasting.forecast_compute(today=date(2025, 9, 15))

    assert run.forecast == {} and run.intervals == 0 and run.accuracy == {}
    assert run.history_days == 7


def test_only_the_latest_runs_are_kept():
    generate(first=date(2025, 9, 1), last=date(2025, 9, 14))
    for _ in range(forecasting.RUNS_KEPT + 3):
        forecasting.forecast_compute(today=date(2025, 9, 15))

    assert ForecastRun.objects.count() == forecasting.RUNS_KEPT + 1
