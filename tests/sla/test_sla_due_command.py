from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("sla_due", *args, stdout=out)
    return out.getvalue().strip()


def test_adding_minutes_across_golden_week_lands_after_the_holiday():
    assert run("--start", "2025-09-30T17:00:00+08:00", "--minutes", "120") == (
        "2025-10-09T10:00:00+08:00"
    )


def test_the_answer_is_given_in_the_calendars_zone_whatever_the_input_offset():
    assert run("--start", "2025-10-14T02:30:00Z", "--minutes", "20") == "2025-10-14T10:50:00+08:00"


def test_minutes_between_two_instants_skip_lunch_and_the_night():
    assert run("--start", "2025-10-14T11:00:00+08:00", "--end", "2025-10-15T10:00:00+08:00") == (
        "420"
    )


def test_minutes_between_backwards_are_negative():
    assert run("--start", "2025-10-14T12:00:00+08:00", "--end", "2025-10-14T11:00:00+08:00") == (
        "-60"
    )


def test_a_named_calendar_is_used():
    from sla.models import BusinessCalendar, BusinessHours

    weekend = BusinessCalendar.objects.create(name="weekend shop", use_cn_holidays=False)
    BusinessHours.objects.create(calendar=weekend, weekday=5, start="10:00", end="16:00")

    assert (
        run("--start", "2025-10-17T12:00:00+08:00", "--minutes", "60", "--calendar", "weekend shop")
        == "2025-10-18T11:00:00+08:00"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "yesterday", "--minutes", "5"], "not an ISO 8601"),
        (["--start", "2025-10-14T10:00:00", "--minutes", "5"], "give a UTC offset"),
        (["--start", "2025-10-14T10:00:00+08:00", "--minutes", "-5"], "0 or more"),
        (["--start", "2025-10-14T10:00:00+08:00", "--minutes", "5", "--calendar", "nope"], "nope"),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("sla_due", *args, stdout=StringIO())
