import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from sla.forecast import breach_probability
from sla.models import BusinessCalendar, EscalationRule, Milestone, SlaClock, SlaPolicy
from sla.selectors import (
    calendar_cache_clear,
    clocks_for_subject,
    compliance,
    policy_for,
    policy_matches,
)
from sla.services import (
    clock_reopen,
    clock_satisfy,
    clock_start_next_response,
    clocks_pause,
    clocks_reevaluate,
    clocks_resume,
    clocks_start,
    clocks_tick,
)
from sla.signals import clock_fired
from tests.support.environment import requires_postgres

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def fired():  # type: ignore[no-untyped-def]
    calls: list[tuple[int, str, str]] = []

    def receiver(sender, *, clock, kind, rule, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((clock.subject_id, clock.milestone, kind if rule is None else rule.action))

    clock_fired.connect(receiver, dispatch_uid="test-fired")
    yield calls
    clock_fired.disconnect(dispatch_uid="test-fired")


@pytest.fixture
def one_hour_policy():  # type: ignore[no-untyped-def]
    """A policy with only a 60-business-minute first response, first in line for tier 'test'."""
    policy = SlaPolicy.objects.create(
        name="test",
        position=0,
        conditions={"tier": ["test"]},
        calendar=BusinessCalendar.objects.get(is_default=True),
        first_response_minutes=60,
        pause_states=["pending_customer"],
    )
    calendar_cache_clear()
    return policy


TEST = {"tier": "test"}


def test_the_seed_policies_are_picked_by_tier_and_channel():
    assert policy_for({"tier": "urgent", "channel": "chat"}).name == "紧急 Urgent"
    assert policy_for({"tier": "regular", "channel": "chat"}).name == "在线聊天 Chat"
    assert policy_for({"tier": "regular", "channel": "app"}).name == "常规 Regular"
    assert policy_for({"tier": "value_added", "channel": "email"}).name == "增值 Value-added"


def test_conditions_match_lists_vip_and_any_tag():
    assert policy_matches({"team": [3, 4]}, {"team": 4})
    assert not policy_matches({"team": [3, 4]}, {"team": 5})
    assert policy_matches({"vip": True}, {"vip": True})
    assert not policy_matches({"vip": True}, {"vip": False})
    assert policy_matches({"tags": ["b2b", "gold"]}, {"tags": ["gold"]})
    assert not policy_matches({"tags": ["b2b"]}, {"tags": []})
    assert policy_matches({}, {"tier": "anything"})


def test_regular_first_response_is_due_four_business_hours_later_across_lunch():
    clocks = clocks_start(
        subject_id=1, attributes={"tier": "regular"}, started_at=at(2025, 10, 14, 10, 30)
    )

    clock = next(c for c in clocks if c.milestone == Milestone.FIRST_RESPONSE)
    assert clock.due_at == at(2025, 10, 14, 15, 30)
    # The warning comes at 80 % of the target: 3h12m of business time, 14:42.
    assert clock.warn_at == at(2025, 10, 14, 14, 42)


def test_urgent_clocks_run_around_the_clock_from_friday_evening():
    clocks = clocks_start(
        subject_id=2, attributes={"tier": "urgent"}, started_at=at(2025, 10, 17, 17, 50)
    )

    due = {clock.milestone: clock.due_at for clock in clocks}
    # A person within 30 minutes and a plan within 2 hours, at night and at the weekend too.
    assert due == {
        Milestone.FIRST_RESPONSE: at(2025, 10, 17, 18, 20),
        Milestone.PLAN: at(2025, 10, 17, 19, 50),
        Milestone.RESOLUTION: at(2025, 10, 18, 1, 50),
    }


def test_urgent_clocks_ignore_the_team_calendar_and_run_on_a_holiday():
    team_hours = BusinessCalendar.objects.get(is_default=True)
    # 2025-10-01 is National Day: the default calendar is closed all day.
    clocks = clocks_start(
        subject_id=21,
        attributes={"tier": "urgent"},
        started_at=at(2025, 10, 1, 3, 0),
        calendar_id=team_hours.pk,
    )

    first = next(c for c in clocks if c.milestone == Milestone.FIRST_RESPONSE)
    assert first.due_at == at(2025, 10, 1, 3, 30)
    assert first.calendar_id != team_hours.pk


def test_warning_minutes_before_due_wins_when_it_comes_first(one_hour_policy):
    one_hour_policy.warning_minutes_before = 30
    one_hour_policy.save()
    calendar_cache_clear()

    (clock,) = clocks_start(subject_id=9, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))

    assert clock.warn_at == at(2025, 10, 14, 9, 30)


def test_starting_clocks_twice_keeps_the_first(one_hour_policy):
    clocks_start(subject_id=3, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))
    clocks_start(subject_id=3, attributes=TEST, started_at=at(2025, 10, 14, 11, 0))

    assert SlaClock.objects.get(subject_id=3).started_at == at(2025, 10, 14, 9, 0)


def test_a_satisfied_clock_records_wall_and_business_time_and_never_fires(one_hour_policy, fired):
    clocks_start(subject_id=4, attributes=TEST, started_at=at(2025, 10, 14, 11, 30))

    met = clock_satisfy(
        subject_id=4, milestone=Milestone.FIRST_RESPONSE, at=at(2025, 10, 14, 13, 15)
    )
    again = clock_satisfy(
        subject_id=4, milestone=Milestone.FIRST_RESPONSE, at=at(2025, 10, 14, 15, 0)
    )
    result = clocks_tick(now=at(2025, 10, 20, 9, 0))

    clock = SlaClock.objects.get(subject_id=4)
    assert (met, again) == (True, False)
    assert (clock.elapsed_wall_seconds, clock.elapsed_business_seconds) == (6300, 2700)
    assert result == type(result)(warned=0, breached=0, escalated=0)
    assert fired == []


def test_a_tick_fires_the_warning_then_the_breach_once_each(one_hour_policy, fired):
    clocks_start(subject_id=5, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))

    ticks = [
        clocks_tick(now=at(2025, 10, 14, 9, 47)),
        clocks_tick(now=at(2025, 10, 14, 9, 48)),
        clocks_tick(now=at(2025, 10, 14, 9, 55)),
        clocks_tick(now=at(2025, 10, 14, 10, 0)),
        clocks_tick(now=at(2025, 10, 14, 17, 0)),
    ]

    assert [(t.warned, t.breached) for t in ticks] == [(0, 0), (1, 0), (0, 0), (0, 1), (0, 0)]
    assert fired == [(5, "first_response", "warning"), (5, "first_response", "breach")]


def test_a_clock_found_past_due_is_breached_without_a_warning(one_hour_policy, fired):
    clocks_start(subject_id=6, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))

    clocks_tick(now=at(2025, 10, 15, 9, 0))

    assert fired == [(6, "first_response", "breach")]


def test_two_tickers_that_read_the_same_due_clock_fire_it_once(one_hour_policy, fired):
    """The race in slow motion: the second ticker's claim finds the clock already taken."""
    clocks_start(subject_id=7, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))
    now = at(2025, 10, 15, 9, 0)
    stale = SlaClock.objects.get(subject_id=7)  # what a second ticker read before the first

    first = clocks_tick(now=now)
    claimed_again = SlaClock.objects.filter(
        pk=stale.pk, satisfied_at__isnull=True, breached_at__isnull=True
    ).update(breached_at=now)
    second = clocks_tick(now=now)

    assert (first.breached, claimed_again, second.breached) == (1, 0, 0)
    assert [kind for _s, _m, kind in fired] == ["breach"]


def test_a_receiver_that_crashes_leaves_the_breach_for_the_next_tick(one_hour_policy, fired):
    def broken(sender, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("core went away mid-way")

    clocks_start(subject_id=8, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))
    now = at(2025, 10, 15, 9, 0)
    clock_fired.connect(broken, dispatch_uid="broken")
    try:
        with pytest.raises(RuntimeError):
            clocks_tick(now=now)
    finally:
        clock_fired.disconnect(dispatch_uid="broken")

    assert SlaClock.objects.get(subject_id=8).breached_at is None
    fired.clear()
    assert clocks_tick(now=now).breached == 1
    assert fired == [(8, "first_response", "breach")]


def test_pausing_stops_the_clock_and_resuming_pushes_the_due_time(one_hour_policy, fired):
    clocks_start(subject_id=10, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))

    paused = clocks_pause(subject_id=10, state="pending_customer", at=at(2025, 10, 14, 9, 40))
    quiet = clocks_tick(now=at(2025, 10, 14, 16, 0))
    resumed = clocks_resume(subject_id=10, at=at(2025, 10, 15, 10, 0))

    clock = SlaClock.objects.get(subject_id=10)
    assert (paused, quiet.breached, resumed) == (1, 0, 1)
    # 20 business minutes were left at 09:40; they run again from 10:00 the next day.
    assert clock.due_at == at(2025, 10, 15, 10, 20)
    # Paused for Tuesday 09:40-18:00 (less lunch) and Wednesday 09:00-10:00.
    assert clock.pauses[0]["business_seconds"] == (2 * 60 + 20 + 5 * 60 + 60) * 60
    assert clock.paused_at is None


def test_a_state_the_policy_does_not_pause_in_leaves_the_clock_running(one_hour_policy):
    clocks_start(subject_id=11, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))

    assert clocks_pause(subject_id=11, state="pending_internal", at=at(2025, 10, 14, 9, 5)) == 0
    assert SlaClock.objects.get(subject_id=11).paused_at is None


def test_a_next_response_clock_starts_per_customer_message_and_is_met_by_a_reply():
    clocks_start(subject_id=12, attributes={"tier": "regular"}, started_at=at(2025, 10, 14, 9, 0))

    first = clock_start_next_response(subject_id=12, at=at(2025, 10, 14, 10, 0))
    same = clock_start_next_response(subject_id=12, at=at(2025, 10, 14, 10, 5))
    clock_satisfy(subject_id=12, milestone=Milestone.NEXT_RESPONSE, at=at(2025, 10, 14, 11, 0))
    second = clock_start_next_response(subject_id=12, at=at(2025, 10, 14, 11, 30))

    assert first is not None and same is not None and second is not None
    assert (first.sequence, same.sequence, second.sequence) == (1, 1, 2)
    assert first.due_at == at(2025, 10, 14, 15, 0)  # 4 business hours over lunch
    assert SlaClock.objects.filter(subject_id=12, milestone="next_response").count() == 2


def test_reopening_continues_resolution_from_where_it_stopped():
    clocks_start(subject_id=13, attributes={"tier": "regular"}, started_at=at(2025, 10, 14, 9, 0))
    clock_satisfy(subject_id=13, milestone=Milestone.RESOLUTION, at=at(2025, 10, 14, 11, 0))

    reopened = clock_reopen(
        subject_id=13, milestone=Milestone.RESOLUTION, at=at(2025, 10, 15, 9, 0)
    )

    clock = SlaClock.objects.get(subject_id=13, milestone=Milestone.RESOLUTION)
    assert reopened
    assert clock.satisfied_at is None
    # 2 of 24 business hours were used; 22 remain from Wednesday 09:00: all of Wednesday and
    # Thursday, then 6 hours of Friday (lunch in between).
    assert clock.due_at == at(2025, 10, 17, 16, 0)


def test_escalation_levels_fire_in_order_after_their_delays(one_hour_policy, fired):
    for level, action, delay in [(1, "notify_assignee", 0), (2, "notify_supervisor", 30)]:
        EscalationRule.objects.create(
            policy=one_hour_policy,
            milestone="first_response",
            level=level,
            action=action,
            delay_minutes=delay,
        )
    calendar_cache_clear()
    clocks_start(subject_id=14, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))

    at_breach = clocks_tick(now=at(2025, 10, 14, 10, 0))
    early = clocks_tick(now=at(2025, 10, 14, 10, 20))
    later = clocks_tick(now=at(2025, 10, 14, 10, 30))
    after = clocks_tick(now=at(2025, 10, 14, 12, 0))

    assert (at_breach.breached, at_breach.escalated) == (1, 1)
    assert (early.escalated, later.escalated, after.escalated) == (0, 1, 0)
    assert [kind for _s, _m, kind in fired] == ["breach", "notify_assignee", "notify_supervisor"]
    assert SlaClock.objects.get(subject_id=14).escalation_level == 2


def test_a_priority_change_retargets_running_clocks_from_their_start():
    clocks_start(subject_id=15, attributes={"tier": "regular"}, started_at=at(2025, 10, 14, 9, 0))

    changed = clocks_reevaluate(
        subject_id=15, attributes={"tier": "urgent"}, at=at(2025, 10, 14, 9, 10)
    )

    due = dict(SlaClock.objects.filter(subject_id=15).values_list("milestone", "due_at"))
    assert {clock.milestone for clock in changed} == {"first_response", "resolution", "plan"}
    assert due["first_response"] == at(2025, 10, 14, 9, 30)
    assert due["plan"] == at(2025, 10, 14, 11, 10)  # the new milestone starts now


def test_the_ticket_view_of_clocks_shows_time_left_and_pause(one_hour_policy):
    clocks_start(subject_id=16, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))
    clocks_pause(subject_id=16, state="pending_customer", at=at(2025, 10, 14, 9, 15))

    (view,) = clocks_for_subject(subject_id=16, now=at(2025, 10, 14, 16, 0))

    assert (view.state, view.business_seconds_left) == ("paused", 45 * 60)


def test_compliance_counts_met_and_breached_clocks_per_milestone(one_hour_policy):
    for subject, answered in [(20, True), (21, True), (22, False)]:
        clocks_start(subject_id=subject, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))
        if answered:
            clock_satisfy(subject_id=subject, milestone="first_response", at=at(2025, 10, 14, 9, 5))
    clocks_tick(now=at(2025, 10, 14, 11, 0))

    (row,) = compliance(
        clocks=SlaClock.objects.filter(subject_id__in=[20, 21, 22]),
        since=at(2025, 10, 14, 0, 0),
        until=at(2025, 10, 15, 0, 0),
        by="milestone",
    )

    assert (row.key, row.total, row.met, row.breached, row.percent_met) == (
        "first_response",
        3,
        2,
        1,
        66.7,
    )


def test_breach_forecast_is_a_poisson_tail():
    assert breach_probability(ahead=0, rate_per_hour=6, seconds_left=0) == 1.0
    assert breach_probability(ahead=3, rate_per_hour=0, seconds_left=3600) == 1.0
    # Nobody ahead, 6 answers an hour, 30 minutes left: P(no answer in 30 min) = e^-3.
    assert breach_probability(ahead=0, rate_per_hour=6, seconds_left=1800) == pytest.approx(
        0.049787, abs=1e-6
    )
    likely = breach_probability(ahead=10, rate_per_hour=4, seconds_left=3600)
    unlikely = breach_probability(ahead=1, rate_per_hour=12, seconds_left=3600)
    assert likely > 0.99 and unlikely < 0.001


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_racing_over_many_due_clocks_fire_each_exactly_once(fired):
    policy = SlaPolicy.objects.create(
        name="race",
        position=0,
        conditions={"tier": ["race"]},
        calendar=BusinessCalendar.objects.get(is_default=True),
        first_response_minutes=60,
    )
    calendar_cache_clear()
    start = at(2025, 10, 14, 9, 0)
    for subject in range(100, 1100):
        clocks_start(subject_id=subject, attributes={"tier": "race"}, started_at=start)
    fired.clear()
    now = start + timedelta(days=3)
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            while clocks_tick(now=now, batch=100).breached:
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    breaches = sorted(subject for subject, _m, kind in fired if kind == "breach")
    assert breaches == list(range(100, 1100))
    assert SlaClock.objects.filter(policy=policy, breached_at__isnull=True).count() == 0


def test_a_deadline_moved_later_after_the_tick_read_it_does_not_fire(one_hour_policy, fired):
    """A receiver handling the first breach re-targets the second clock to a later deadline
    before the same tick reaches it; the tick's claim must notice."""
    from sla.models import BusinessCalendar

    long_policy = SlaPolicy.objects.create(
        name="long",
        position=1,
        conditions={"tier": ["long"]},
        calendar=BusinessCalendar.objects.get(is_default=True),
        first_response_minutes=600,
    )
    calendar_cache_clear()
    start = at(2025, 10, 14, 9, 0)
    clocks_start(subject_id=30, attributes=TEST, started_at=start)
    clocks_start(subject_id=31, attributes=TEST, started_at=start)

    def retarget(sender, *, clock, kind, **kwargs):  # type: ignore[no-untyped-def]
        if kind == "breach" and clock.subject_id != 31:
            clocks_reevaluate(subject_id=31, attributes={"tier": "long"}, at=clock.breached_at)

    clock_fired.connect(retarget, dispatch_uid="retarget")
    # Make sure subject 30 is reached first by giving it the earlier deadline.
    SlaClock.objects.filter(subject_id=30).update(due_at=at(2025, 10, 14, 9, 59))
    try:
        clocks_tick(now=at(2025, 10, 14, 10, 1))
    finally:
        clock_fired.disconnect(dispatch_uid="retarget")

    moved = SlaClock.objects.get(subject_id=31)
    assert moved.policy == long_policy
    assert moved.breached_at is None
    assert [(subject, kind) for subject, _m, kind in fired] == [(30, "breach")]


def test_a_milestone_can_have_its_own_warning_threshold(one_hour_policy):
    one_hour_policy.resolution_minutes = 600
    one_hour_policy.milestone_warnings = {
        "first_response": {"percent": 50},
        "resolution": {"minutes_before": 60},
    }
    one_hour_policy.save()
    calendar_cache_clear()

    clocks = clocks_start(subject_id=40, attributes=TEST, started_at=at(2025, 10, 14, 9, 0))

    warn = {clock.milestone: clock.warn_at for clock in clocks}
    # First response: half of 60 minutes. Resolution: 600 business minutes from Tuesday 09:00
    # end on Wednesday at 11:00; the warning comes an hour before, not at the policy's 80 %.
    assert warn == {
        "first_response": at(2025, 10, 14, 9, 30),
        "resolution": at(2025, 10, 15, 10, 0),
    }
