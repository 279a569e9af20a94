"""The breach forecast follows who is on shift (docs/sla.md, "Breach forecast")."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import intake

pytestmark = pytest.mark.django_db

# A Wednesday and an ordinary workday, mid-morning in Shanghai.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _busy_morning(agent):
    """The agent answered 40 tickets in the last half hour; one more waits, due at 16:00."""
    from tickets.models import Message, Ticket
    from tickets.services.workflow import ticket_reply

    for index in range(40):
        ticket_reply(ticket=intake(user_id=f"a{index}").ticket, author=agent, body="好的")
    waiting = intake(user_id="late").ticket
    Message.objects.update(created_at=NOW - timedelta(minutes=30))
    Ticket.objects.filter(pk=waiting.pk).update(sla_due_at=NOW + timedelta(hours=6))
    return waiting


def _roster(agent, rows):
    from analytics import shifts

    csv = "agent,weekday,start,end\n" + "".join(
        f"{agent.user.username},3,{start},{end}\n" for start, end in rows
    )
    shifts.shifts_import(content=csv.encode(), actor=None)


def _forecast_numbers():
    from analytics.selectors import breach_forecast

    return {forecast.number: forecast for forecast in breach_forecast(now=NOW)}


def test_a_fast_team_on_the_teams_hours_is_not_forecast_to_breach(agent):
    waiting = _busy_morning(agent)

    assert waiting.number not in _forecast_numbers()


def test_nobody_on_shift_before_the_deadline_means_the_ticket_breaches(agent):
    waiting = _busy_morning(agent)
    # The only agent's shift ends at ten: nobody answers before the 16:00 deadline.
    _roster(agent, [("09:00", "10:00")])

    forecast = _forecast_numbers()[waiting.number]

    assert forecast.probability == 1.0
    assert forecast.rate_per_hour == 0.0


def test_an_afternoon_shift_before_the_deadline_keeps_the_ticket_off_the_list(agent):
    waiting = _busy_morning(agent)
    # Back from 14:00: two hours on shift before the deadline at the morning's pace.
    _roster(agent, [("09:00", "10:00"), ("14:00", "18:00")])

    assert waiting.number not in _forecast_numbers()


def test_a_second_agent_on_the_teams_hours_counts_as_on_shift(agent, django_user_model):
    from tickets.models import Agent

    waiting = _busy_morning(agent)
    _roster(agent, [("09:00", "10:00")])
    colleague = Agent.objects.create(
        user=django_user_model.objects.create_user(username="colleague")
    )
    colleague.teams.set(agent.teams.all())

    # The colleague keeps the team's hours (no shift of their own): someone works until 16:00.
    assert waiting.number not in _forecast_numbers()


def test_agent_seconds_from_now_are_the_same_read_in_order_or_one_by_one():
    from datetime import time

    from analytics.selectors import _Staffing
    from sla.calendar import Slot, WorkCalendar

    day = WorkCalendar(
        tz=ZoneInfo("Asia/Shanghai"), weekly=dict.fromkeys(range(5), (Slot(time(9), time(18)),))
    )
    late = WorkCalendar(
        tz=ZoneInfo("Asia/Shanghai"), weekly=dict.fromkeys(range(7), (Slot(time(14), time.max),))
    )
    ends = [NOW + timedelta(hours=hours) for hours in (1, 3, 30, 50)]
    staffing = _Staffing([day, late])
    in_order = [staffing.from_now(NOW, end) for end in ends]

    assert in_order == [_Staffing([day, late]).from_now(NOW, end) for end in ends]
    # 10:00 to 11:00: one hour of the day calendar, none of the late one.
    assert in_order[0] == 3600
    assert staffing.from_now(NOW, NOW - timedelta(hours=1)) == 0
