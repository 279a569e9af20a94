"""The seeded SLA defaults follow the retailer's service rules, and a policy can set a
different first-response target for tickets that arrive outside working hours."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.models import BusinessCalendar, EscalationRule, Milestone, SlaClock, SlaPolicy
from sla.selectors import calendar_cache_clear, clocks_for_subject, policy_for
from sla.services import clocks_pause, clocks_reevaluate, clocks_resume, clocks_start

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTER_SALES = {"tier": "regular", "category": "after_sales", "channel": "email"}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def due(clocks: list[SlaClock]) -> dict[str, datetime]:
    return {clock.milestone: clock.due_at for clock in clocks}


def test_regular_first_response_is_four_business_hours():
    policy = policy_for({"tier": "regular", "channel": "email"})
    assert policy.name == "常规 Regular"
    assert policy.first_response_minutes == 4 * 60
    assert policy.calendar.is_default


def test_urgent_is_thirty_minutes_and_a_plan_in_two_hours_on_a_24_7_calendar():
    policy = policy_for({"tier": "urgent", "channel": "phone"})
    assert (policy.first_response_minutes, policy.plan_minutes) == (30, 120)
    assert policy.use_policy_calendar
    assert not policy.calendar.use_cn_holidays
    assert sorted(policy.calendar.hours.values_list("weekday", flat=True)) == list(range(7))

    # Sunday 02:00.
    clocks = clocks_start(
        subject_id=1, attributes={"tier": "urgent"}, started_at=at(2025, 10, 19, 2)
    )
    assert due(clocks)[Milestone.FIRST_RESPONSE] == at(2025, 10, 19, 2, 30)
    assert due(clocks)[Milestone.PLAN] == at(2025, 10, 19, 4, 0)


def test_value_added_has_a_plan_within_24_hours():
    policy = policy_for({"tier": "value_added", "channel": "email"})
    assert policy.name == "增值 Value-added"
    assert policy.plan_minutes == 24 * 60


def test_after_sales_answers_in_five_minutes_inside_working_hours():
    assert policy_for(AFTER_SALES).name == "售后 After-sales"
    clocks = clocks_start(subject_id=2, attributes=AFTER_SALES, started_at=at(2025, 10, 14, 10, 0))

    first = next(c for c in clocks if c.milestone == Milestone.FIRST_RESPONSE)
    assert first.due_at == at(2025, 10, 14, 10, 5)
    assert not first.wall_clock


def test_after_sales_answers_within_24_hours_outside_working_hours():
    # Friday 20:00: closed. Five business minutes would be Monday 09:05; the rule is 24 hours.
    clocks = clocks_start(subject_id=3, attributes=AFTER_SALES, started_at=at(2025, 10, 17, 20, 0))

    first = next(c for c in clocks if c.milestone == Milestone.FIRST_RESPONSE)
    assert first.wall_clock
    assert first.target_seconds == 24 * 3600
    assert first.due_at == at(2025, 10, 18, 20, 0)
    # The warning at 80 % of the target, in real time too.
    assert first.warn_at == at(2025, 10, 18, 15, 12)
    # Milestones without an out-of-hours target keep business time.
    resolution = next(c for c in clocks if c.milestone == Milestone.RESOLUTION)
    assert not resolution.wall_clock
    assert resolution.due_at > at(2025, 10, 22)


def test_an_out_of_hours_clock_counts_its_time_left_in_real_time():
    clocks_start(subject_id=6, attributes=AFTER_SALES, started_at=at(2025, 10, 17, 20, 0))

    (view,) = [
        v
        for v in clocks_for_subject(subject_id=6, now=at(2025, 10, 17, 22, 0))
        if v.milestone == Milestone.FIRST_RESPONSE
    ]
    # The calendar is closed all night, but the customer was promised 24 real hours.
    assert view.business_seconds_left == 22 * 3600


def test_a_paused_out_of_hours_clock_is_pushed_back_by_real_time():
    policy = SlaPolicy.objects.get(name="售后 After-sales")
    SlaPolicy.objects.filter(pk=policy.pk).update(pause_states=["pending_customer"])
    calendar_cache_clear()
    clocks_start(subject_id=4, attributes=AFTER_SALES, started_at=at(2025, 10, 17, 20, 0))
    clocks_pause(subject_id=4, state="pending_customer", at=at(2025, 10, 17, 21, 0))
    clocks_resume(subject_id=4, at=at(2025, 10, 17, 23, 0))

    first = SlaClock.objects.get(subject_id=4, milestone=Milestone.FIRST_RESPONSE)
    assert first.due_at == at(2025, 10, 18, 22, 0)


def test_reevaluating_keeps_the_out_of_hours_rule_from_the_original_start():
    clocks_start(
        subject_id=5,
        attributes={"tier": "regular", "channel": "email"},
        started_at=at(2025, 10, 17, 20),
    )
    clocks_reevaluate(subject_id=5, attributes=AFTER_SALES, at=at(2025, 10, 17, 20, 30))

    first = SlaClock.objects.get(subject_id=5, milestone=Milestone.FIRST_RESPONSE)
    assert first.policy.name == "售后 After-sales"
    assert first.wall_clock
    assert first.due_at == at(2025, 10, 18, 20, 0)


def test_an_out_of_hours_target_without_the_hours_target_is_ignored():
    policy = SlaPolicy.objects.create(
        name="plan only outside",
        position=0,
        conditions={"tier": ["probe"]},
        calendar=BusinessCalendar.objects.get(is_default=True),
        first_response_minutes=60,
        out_of_hours_minutes={"plan": 30},
    )
    calendar_cache_clear()
    assert policy.out_of_hours_targets() == {}


@pytest.mark.parametrize(
    "name", ["紧急 Urgent", "常规 Regular", "增值 Value-added", "售后 After-sales", "在线聊天 Chat"]
)
def test_every_seeded_policy_escalates_every_milestone_it_sets(name):
    policy = SlaPolicy.objects.get(name=name)
    milestones = set(policy.targets())
    rules = EscalationRule.objects.filter(policy=policy)
    assert milestones
    assert {rule.milestone for rule in rules} == milestones
    for milestone in milestones:
        levels = sorted(r.level for r in rules if r.milestone == milestone)
        assert levels[:2] == [1, 2]


def test_the_last_urgent_level_notifies_the_head_and_reassigns():
    policy = SlaPolicy.objects.get(name="紧急 Urgent")
    for milestone in (Milestone.FIRST_RESPONSE, Milestone.PLAN):
        last = EscalationRule.objects.filter(policy=policy, milestone=milestone).order_by("-level")[
            0
        ]
        assert last.action == "head_reassign"
        assert not last.hold_outside_hours
    assert not EscalationRule.objects.filter(action="raise_priority", policy=policy).exists()


def test_the_urgent_calendar_is_open_at_any_instant():
    from sla.selectors import work_calendar

    calendar = work_calendar(SlaPolicy.objects.get(name="紧急 Urgent").calendar_id)
    start = at(2025, 10, 1, 0, 0)  # National Day
    for hour in range(0, 24 * 8, 5):
        assert calendar.is_open(start + timedelta(hours=hour, minutes=59, seconds=59))
