"""Business-time arithmetic of `sla.calendar`: pure unit tests, no database.

Every date below is checked against the installed chinesecalendar data in
`test_chosen_dates_match_the_chinese_calendar_package`, so a package upgrade that changes the
official schedule fails there first, with a clear message, rather than somewhere obscure.
"""

import logging
import time as wall_clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sla.calendar as calendar_module
from sla.calendar import Slot, WorkCalendar, cn_calendar_covers, default_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

HOUR = 3600
WORKING_DAY = 8 * HOUR  # 09:00-12:00 and 13:00-18:00

# One shared instance, so its per-day memo stays warm across hypothesis examples.
CAL = default_calendar()

# Berlin hours that cross both DST changes every day: 00:00-06:00 covers the 02:00->03:00 gap
# in March and the repeated 02:00-03:00 hour in October.
NIGHT_SHIFT = WorkCalendar(
    tz=BERLIN,
    weekly=dict.fromkeys(range(7), (Slot(time(0, 0), time(6, 0)),)),
    use_cn_holidays=False,
)


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def berlin(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


@pytest.fixture
def sla_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture "kefu.sla" directly, whatever logging config the project installs."""
    logger = logging.getLogger("kefu.sla")
    previous_propagate = logger.propagate
    logger.propagate = False  # the handler is attached here; propagating would double-count
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.WARNING, logger="kefu.sla")
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.propagate = previous_propagate


# -- the package data the other tests rely on -------------------------------------------------


@pytest.mark.parametrize(
    ("day", "is_workday"),
    [
        (date(2025, 9, 26), True),  # Friday before the Golden Week
        (date(2025, 9, 27), False),  # ordinary Saturday
        (date(2025, 9, 28), True),  # Sunday, make-up workday for National Day
        (date(2025, 9, 30), True),  # Tuesday, last day before the holiday
        (date(2025, 10, 1), False),  # National Day
        (date(2025, 10, 3), False),  # Friday inside the holiday
        (date(2025, 10, 4), False),  # Saturday inside the holiday
        (date(2025, 10, 6), False),  # Mid-autumn Festival, inside the holiday
        (date(2025, 10, 8), False),  # last holiday day
        (date(2025, 10, 9), True),  # first working day after the holiday
        (date(2025, 10, 10), True),  # Friday
        (date(2025, 10, 11), True),  # Saturday, make-up workday for National Day
        (date(2025, 10, 12), False),  # ordinary Sunday
        (date(2025, 10, 14), True),  # ordinary Tuesday
        (date(2025, 10, 17), True),  # ordinary Friday
        (date(2025, 10, 18), False),  # ordinary Saturday
        (date(2025, 10, 19), False),  # ordinary Sunday
        (date(2025, 10, 20), True),  # ordinary Monday
        (date(2026, 2, 13), True),  # Friday before Spring Festival 2026
        (date(2026, 2, 14), True),  # Saturday, make-up workday for Spring Festival
        (date(2026, 2, 15), False),  # Spring Festival holiday starts
        (date(2026, 2, 23), False),  # Spring Festival holiday ends
        (date(2026, 2, 24), True),  # back to work
        (date(2026, 2, 28), True),  # Saturday, make-up workday for Spring Festival
    ],
)
def test_chosen_dates_match_the_chinese_calendar_package(day: date, is_workday: bool) -> None:
    assert chinese_calendar.is_workday(day) is is_workday


def test_the_package_covers_2024_to_2026_but_not_2099() -> None:
    assert cn_calendar_covers(2024)
    assert cn_calendar_covers(2025)
    assert cn_calendar_covers(2026)
    assert not cn_calendar_covers(2099)


# -- default calendar ---------------------------------------------------------------------------


def test_default_calendar_is_shanghai_weekdays_with_a_lunch_break() -> None:
    cal = default_calendar()
    assert cal.tz == SHANGHAI
    assert cal.use_cn_holidays is True
    hours = (Slot(time(9), time(12)), Slot(time(13), time(18)))
    assert cal.slots_on(date(2025, 10, 14)) == hours
    assert cal.slots_on(date(2025, 10, 18)) == ()
    assert cal == default_calendar()
    assert hash(cal) == hash(default_calendar())


def test_default_calendar_working_days_equal_chinese_calendar_is_workday_2024_to_2026() -> None:
    day = date(2024, 1, 1)
    while day <= date(2026, 12, 31):
        assert CAL.is_working_day(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


# -- within and around a day --------------------------------------------------------------------


def test_add_across_the_lunch_break() -> None:
    assert CAL.add(sh(2025, 10, 14, 11, 50), 20 * 60) == sh(2025, 10, 14, 13, 10)
    assert CAL.between(sh(2025, 10, 14, 11, 50), sh(2025, 10, 14, 13, 10)) == 20 * 60


def test_add_that_ends_exactly_at_closing_returns_the_slot_end() -> None:
    assert CAL.add(sh(2025, 10, 14, 11), HOUR) == sh(2025, 10, 14, 12)
    assert CAL.add(sh(2025, 10, 14, 17), HOUR) == sh(2025, 10, 14, 18)
    assert CAL.add(sh(2025, 10, 14, 17), HOUR + 1) == sh(2025, 10, 15, 9, 0, 1)


def test_start_before_opening_counts_from_opening() -> None:
    assert not CAL.is_open(sh(2025, 10, 14, 7))
    assert CAL.next_open(sh(2025, 10, 14, 7)) == sh(2025, 10, 14, 9)
    assert CAL.add(sh(2025, 10, 14, 7), 10 * 60) == sh(2025, 10, 14, 9, 10)
    assert CAL.between(sh(2025, 10, 14, 0), sh(2025, 10, 14, 9, 30)) == 30 * 60


def test_start_after_closing_counts_from_next_morning() -> None:
    assert CAL.add(sh(2025, 10, 14, 19), 10 * 60) == sh(2025, 10, 15, 9, 10)
    assert CAL.next_open(sh(2025, 10, 14, 18)) == sh(2025, 10, 15, 9)
    assert CAL.between(sh(2025, 10, 14, 17), sh(2025, 10, 14, 23)) == HOUR


def test_is_open_includes_slot_start_and_excludes_slot_end() -> None:
    assert CAL.is_open(sh(2025, 10, 14, 9))
    assert CAL.is_open(datetime(2025, 10, 14, 11, 59, 59, 999999, tzinfo=SHANGHAI))
    assert not CAL.is_open(sh(2025, 10, 14, 12))
    assert CAL.is_open(sh(2025, 10, 14, 13))
    assert not CAL.is_open(sh(2025, 10, 14, 18))
    assert not CAL.is_open(sh(2025, 10, 18, 10))  # Saturday


def test_add_zero_while_open_returns_the_start_itself() -> None:
    start = datetime(2025, 10, 14, 10, 0, 0, 123456, tzinfo=SHANGHAI)
    assert CAL.add(start, 0) == start
    assert CAL.next_open(start) == start
    assert CAL.add(start, 5) == datetime(2025, 10, 14, 10, 0, 5, 123456, tzinfo=SHANGHAI)


def test_add_zero_while_closed_returns_next_opening() -> None:
    assert CAL.add(sh(2025, 10, 14, 12, 30), 0) == sh(2025, 10, 14, 13)
    assert CAL.add(sh(2025, 10, 18, 10), 0) == CAL.next_open(sh(2025, 10, 18, 10))
    assert CAL.add(sh(2025, 10, 18, 10), 0) == sh(2025, 10, 20, 9)


def test_results_are_in_the_calendar_zone_whatever_the_input_zone() -> None:
    start = datetime(2025, 10, 14, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    result = CAL.add(start, 60)
    assert result == sh(2025, 10, 14, 10, 1)
    assert result.tzinfo == SHANGHAI
    assert CAL.next_open(datetime(2025, 10, 13, 23, 0, tzinfo=UTC)).tzinfo == SHANGHAI


def test_between_is_zero_when_end_is_not_after_start() -> None:
    assert CAL.between(sh(2025, 10, 14, 11), sh(2025, 10, 14, 10)) == 0
    assert CAL.between(sh(2025, 10, 14, 11), sh(2025, 10, 14, 11)) == 0


def test_between_floors_partial_seconds() -> None:
    start = datetime(2025, 10, 14, 10, 0, 0, 500000, tzinfo=SHANGHAI)
    assert CAL.between(start, sh(2025, 10, 14, 10, 0, 2)) == 1


# -- weekends, holidays and make-up workdays ----------------------------------------------------


def test_add_across_a_weekend() -> None:
    assert CAL.add(sh(2025, 10, 17, 17, 30), HOUR) == sh(2025, 10, 20, 9, 30)
    assert CAL.between(sh(2025, 10, 17, 17, 30), sh(2025, 10, 20, 9, 30)) == HOUR


def test_start_on_a_non_working_day() -> None:
    assert CAL.add(sh(2025, 10, 18, 10), 10 * 60) == sh(2025, 10, 20, 9, 10)  # Saturday
    assert CAL.add(sh(2025, 10, 3, 10), 60) == sh(2025, 10, 9, 9, 1)  # inside Golden Week


def test_add_across_national_day_golden_week_2025() -> None:
    # One hour left on Tuesday 30 September, the rest after the 1-8 October holiday.
    assert CAL.add(sh(2025, 9, 30, 17), 2 * HOUR) == sh(2025, 10, 9, 10)


def test_between_over_golden_week_counts_only_working_time() -> None:
    assert CAL.between(sh(2025, 9, 30, 17), sh(2025, 10, 9, 10)) == 2 * HOUR
    assert CAL.between(sh(2025, 9, 30, 18), sh(2025, 10, 9, 9)) == 0
    # 26 Sep (Fri), 28 Sep (make-up Sun), 29 and 30 Sep, 9 and 10 Oct, 11 Oct (make-up Sat).
    assert CAL.between(sh(2025, 9, 26), sh(2025, 10, 13)) == 7 * WORKING_DAY


def test_makeup_sunday_2025_09_28_is_a_working_day() -> None:
    assert CAL.is_working_day(date(2025, 9, 28))
    assert CAL.slots_on(date(2025, 9, 28)) == CAL.slots_on(date(2025, 9, 29))
    assert CAL.add(sh(2025, 9, 27, 10), 0) == sh(2025, 9, 28, 9)
    assert CAL.between(sh(2025, 9, 28), sh(2025, 9, 29)) == WORKING_DAY


def test_makeup_saturday_2025_10_11_is_a_working_day() -> None:
    assert CAL.is_working_day(date(2025, 10, 11))
    assert CAL.add(sh(2025, 10, 10, 17), 2 * HOUR) == sh(2025, 10, 11, 10)
    assert not CAL.is_working_day(date(2025, 10, 12))


def test_makeup_saturdays_around_spring_festival_2026_are_working_days() -> None:
    assert CAL.is_working_day(date(2026, 2, 14))
    assert CAL.is_working_day(date(2026, 2, 28))
    assert CAL.add(sh(2026, 2, 13, 17), 2 * HOUR) == sh(2026, 2, 14, 10)
    # Half an hour left on the make-up Saturday, then nine days of holiday.
    assert CAL.add(sh(2026, 2, 14, 17, 30), HOUR) == sh(2026, 2, 24, 9, 30)
    assert CAL.between(sh(2026, 2, 14, 18), sh(2026, 2, 24, 9)) == 0
    assert CAL.add(sh(2026, 2, 27, 17), 2 * HOUR) == sh(2026, 2, 28, 10)


def test_makeup_day_borrows_the_first_weekday_that_has_hours() -> None:
    tuesday_hours = (Slot(time(10), time(16)),)
    cal = WorkCalendar(tz=SHANGHAI, weekly={1: tuesday_hours, 2: tuesday_hours})
    assert not cal.is_working_day(date(2025, 9, 29))  # an ordinary Monday without hours
    assert cal.slots_on(date(2025, 9, 28)) == tuesday_hours  # make-up Sunday
    assert cal.add(sh(2025, 9, 27, 12), HOUR) == sh(2025, 9, 28, 11)


def test_saturday_team_keeps_ordinary_saturdays_but_not_holidays() -> None:
    saturday = (Slot(time(10), time(14)),)
    weekday = (Slot(time(9), time(18)),)
    cal = WorkCalendar(tz=SHANGHAI, weekly={**dict.fromkeys(range(5), weekday), 5: saturday})
    assert cal.slots_on(date(2025, 10, 18)) == saturday  # ordinary Saturday
    assert not cal.is_working_day(date(2025, 10, 4))  # Saturday inside Golden Week
    assert cal.slots_on(date(2025, 10, 11)) == saturday  # make-up Saturday, own hours
    assert not cal.is_working_day(date(2025, 10, 19))  # ordinary Sunday, no hours


def test_without_cn_holidays_the_weekly_hours_alone_decide() -> None:
    cal = WorkCalendar(tz=SHANGHAI, weekly=dict(CAL.weekly), use_cn_holidays=False)
    assert cal.is_working_day(date(2025, 10, 1))  # National Day, a Wednesday
    assert not cal.is_working_day(date(2025, 9, 28))  # make-up Sunday
    assert cal.add(sh(2025, 9, 30, 17), 2 * HOUR) == sh(2025, 10, 1, 10)


# -- custom dates -------------------------------------------------------------------------------


def test_closures_override_the_package() -> None:
    cal = WorkCalendar(
        tz=SHANGHAI,
        weekly=dict(CAL.weekly),
        closures=frozenset({date(2025, 10, 14), date(2025, 9, 28)}),
    )
    assert not cal.is_working_day(date(2025, 10, 14))  # an ordinary Tuesday
    assert cal.slots_on(date(2025, 10, 14)) == ()
    assert cal.add(sh(2025, 10, 13, 17, 30), HOUR) == sh(2025, 10, 15, 9, 30)
    assert not cal.is_working_day(date(2025, 9, 28))  # a make-up Sunday
    assert cal.add(sh(2025, 9, 26, 17, 30), HOUR) == sh(2025, 9, 29, 9, 30)


def test_extra_workdays_override_the_package() -> None:
    cal = WorkCalendar(
        tz=SHANGHAI,
        weekly=dict(CAL.weekly),
        extra_workdays=frozenset({date(2025, 10, 3), date(2025, 10, 18)}),
    )
    assert cal.is_working_day(date(2025, 10, 3))  # a Friday inside Golden Week
    assert cal.add(sh(2025, 9, 30, 17), 2 * HOUR) == sh(2025, 10, 3, 10)
    assert cal.slots_on(date(2025, 10, 18)) == CAL.slots_on(date(2025, 10, 20))  # Saturday
    assert cal.add(sh(2025, 10, 17, 17, 30), HOUR) == sh(2025, 10, 18, 9, 30)


def test_a_closure_wins_over_an_extra_workday_on_the_same_date() -> None:
    day = date(2025, 10, 14)
    cal = WorkCalendar(
        tz=SHANGHAI,
        weekly=dict(CAL.weekly),
        closures=frozenset({day}),
        extra_workdays=frozenset({day}),
    )
    assert not cal.is_working_day(day)


# -- daylight saving time -----------------------------------------------------------------------


def test_spring_forward_night_shift_counts_real_seconds() -> None:
    # 30 March 2025: 02:00 CET jumps to 03:00 CEST, so 00:00-06:00 lasts five real hours.
    assert NIGHT_SHIFT.between(berlin(2025, 3, 30), berlin(2025, 3, 31)) == 5 * HOUR
    assert NIGHT_SHIFT.between(berlin(2025, 3, 29), berlin(2025, 3, 31)) == 11 * HOUR
    result = NIGHT_SHIFT.add(berlin(2025, 3, 30), 3 * HOUR)
    assert result == datetime(2025, 3, 30, 2, 0, tzinfo=UTC)
    assert (result.hour, result.utcoffset()) == (4, timedelta(hours=2))
    assert NIGHT_SHIFT.add(berlin(2025, 3, 29, 5), 2 * HOUR) == berlin(2025, 3, 30, 1)


def test_fall_back_night_shift_counts_the_repeated_hour() -> None:
    # 26 October 2025: 03:00 CEST falls back to 02:00 CET; 00:00-06:00 lasts seven hours.
    assert NIGHT_SHIFT.between(berlin(2025, 10, 26), berlin(2025, 10, 27)) == 7 * HOUR
    result = NIGHT_SHIFT.add(berlin(2025, 10, 26), 6 * HOUR)
    assert (result.hour, result.utcoffset()) == (5, timedelta(hours=1))
    # 02:30 happens twice; the second one (fold=1) is 2.5 real hours after midnight.
    second_0230 = berlin(2025, 10, 26, 2, 30, fold=1)
    assert NIGHT_SHIFT.between(berlin(2025, 10, 26), second_0230) == 2 * HOUR + 30 * 60 + HOUR


def test_slot_edges_at_missing_or_repeated_wall_times_follow_fold_zero() -> None:
    cal = WorkCalendar(
        tz=BERLIN,
        weekly=dict.fromkeys(range(7), (Slot(time(2, 30), time(4)),)),
        use_cn_holidays=False,
    )
    # 02:30 does not exist on 30 March; fold=0 reads it with the CET offset, i.e. 03:30 CEST.
    assert cal.next_open(berlin(2025, 3, 30)) == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert cal.between(berlin(2025, 3, 30), berlin(2025, 3, 31)) == 30 * 60
    # 02:30 happens twice on 26 October; fold=0 means the first, CEST one. Compared in UTC
    # because Python (PEP 495) makes == across zones False for a time in the repeated hour.
    opening = cal.next_open(berlin(2025, 10, 26))
    assert opening.astimezone(UTC) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert cal.between(berlin(2025, 10, 26), berlin(2025, 10, 27)) == 2 * HOUR + 30 * 60


# -- validation and guards ----------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2025, 10, 14, 10)
    aware = sh(2025, 10, 14, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add(naive, 60)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.between(naive, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.between(aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.is_open(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.next_open(naive)


def test_negative_seconds_are_refused() -> None:
    with pytest.raises(ValueError, match="seconds"):
        CAL.add(sh(2025, 10, 14, 10), -1)


def test_calendar_without_slots_raises_instead_of_looping_forever() -> None:
    empty = WorkCalendar(tz=SHANGHAI, weekly={})
    with pytest.raises(ValueError, match="No working slot"):
        empty.add(sh(2025, 10, 14, 10), 60)
    with pytest.raises(ValueError, match="No working slot"):
        empty.next_open(sh(2025, 10, 14, 10))
    assert empty.between(sh(2025, 1, 1), sh(2035, 1, 1)) == 0
    assert not empty.is_open(sh(2025, 10, 14, 10))


def test_calendar_closed_for_over_3700_days_raises() -> None:
    closures = frozenset(date(2025, 1, 1) + timedelta(days=i) for i in range(3702))
    cal = WorkCalendar(tz=SHANGHAI, weekly=dict(CAL.weekly), closures=closures)
    with pytest.raises(ValueError, match="No working slot"):
        cal.add(sh(2025, 1, 1), 1)


def test_slots_are_validated() -> None:
    with pytest.raises(ValueError):
        Slot(time(9), time(9))
    with pytest.raises(ValueError, match=r"time\.max"):
        Slot(time(22), time(0))
    with pytest.raises(ValueError, match="Overlapping"):
        WorkCalendar(tz=SHANGHAI, weekly={0: (Slot(time(9), time(12)), Slot(time(11), time(13)))})


def test_time_max_as_slot_end_means_midnight() -> None:
    cal = WorkCalendar(
        tz=SHANGHAI,
        weekly=dict.fromkeys(range(7), (Slot(time(22), time.max),)),
        use_cn_holidays=False,
    )
    assert cal.between(sh(2025, 10, 14, 22), sh(2025, 10, 15)) == 2 * HOUR
    assert cal.add(sh(2025, 10, 14, 22), 2 * HOUR) == sh(2025, 10, 15)
    assert cal.add(sh(2025, 10, 14, 22), 2 * HOUR + 1) == sh(2025, 10, 15, 22, 0, 1)


def test_thirty_working_days_land_on_the_thirtieth_working_day_evening() -> None:
    # 3 Nov 2025 to 12 Dec 2025 holds exactly 30 working days and no holiday.
    assert CAL.add(sh(2025, 11, 3, 9), 30 * WORKING_DAY) == sh(2025, 12, 12, 18)
    assert CAL.between(sh(2025, 11, 3, 9), sh(2025, 12, 12, 18)) == 30 * WORKING_DAY


def test_large_amounts_are_computed_slot_by_slot_not_second_by_second() -> None:
    cal = default_calendar()  # cold memo on purpose
    started = wall_clock.perf_counter()
    start = sh(2024, 1, 2, 9)
    five_years = 5 * 250 * WORKING_DAY
    end = cal.add(start, five_years)
    assert cal.between(start, end) == five_years
    assert wall_clock.perf_counter() - started < 5


# -- years chinese_calendar does not cover ------------------------------------------------------


def test_uncovered_year_falls_back_to_weekly_hours_and_warns_once(
    sla_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar_module, "_warned_years", set())
    cal = default_calendar()
    # 1 October 2099 is a Thursday: National Day in practice, but no data says so.
    assert cal.is_working_day(date(2099, 10, 1))
    assert not cal.is_working_day(date(2099, 10, 3))  # Saturday
    assert cal.add(sh(2099, 10, 1, 17, 30), HOUR) == sh(2099, 10, 2, 9, 30)
    warnings = [r for r in sla_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2099" in warnings[0].getMessage()
    assert "not covered by chinese-calendar data" in warnings[0].getMessage()


# -- properties ---------------------------------------------------------------------------------

aware_starts = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2026, 12, 31, 23, 59, 59, 999999),
    timezones=st.sampled_from([SHANGHAI, UTC, BERLIN, NEW_YORK]),
)
amounts = st.integers(min_value=0, max_value=60 * 86400)
fast = settings(max_examples=200, deadline=None, database=None)


@fast
@given(start=aware_starts, seconds=amounts)
def test_between_undoes_add(start: datetime, seconds: int) -> None:
    assert CAL.between(start, CAL.add(start, seconds)) == seconds


@fast
@given(start=aware_starts, seconds=amounts)
def test_between_undoes_add_across_dst_changes(start: datetime, seconds: int) -> None:
    assert NIGHT_SHIFT.between(start, NIGHT_SHIFT.add(start, seconds)) == seconds


@fast
@given(start=aware_starts, first=amounts, second=amounts)
def test_add_is_monotonic_in_seconds(start: datetime, first: int, second: int) -> None:
    low, high = sorted((first, second))
    if low == high:
        assert CAL.add(start, low) == CAL.add(start, high)
    else:
        assert CAL.add(start, low) < CAL.add(start, high)


@fast
@given(start=aware_starts, seconds=st.integers(min_value=1, max_value=60 * 86400))
def test_add_lands_inside_a_slot_or_exactly_on_its_end(start: datetime, seconds: int) -> None:
    result = CAL.add(start, seconds)
    assert result.tzinfo == SHANGHAI
    slot_ends = {slot.end for slot in CAL.slots_on(result.date())}
    assert CAL.is_open(result) or result.timetz().replace(tzinfo=None) in slot_ends
