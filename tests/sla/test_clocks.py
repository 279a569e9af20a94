import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from sla.models import Milestone, SlaClock, Tier
from sla.services import clock_satisfy, clocks_start, clocks_tick
from sla.signals import clock_fired
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def fired():  # type: ignore[no-untyped-def]
    calls: list[tuple[int, str, str]] = []

    def receiver(sender, *, clock, kind, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((clock.subject_id, clock.milestone, kind))

    clock_fired.connect(receiver, dispatch_uid="test-fired")
    yield calls
    clock_fired.disconnect(dispatch_uid="test-fired")


def test_regular_clock_is_due_four_business_hours_later_across_lunch():
    # Tuesday 2025-10-14, 10:30 + 4 business hours = 12:00 (1.5 h) + 13:00-15:30 (2.5 h).
    (clock,) = clocks_start(subject_id=1, tier=Tier.REGULAR, started_at=at(2025, 10, 14, 10, 30))

    assert clock.due_at == at(2025, 10, 14, 15, 30)
    # The warning comes at 80 % of the target: 3h12m of business time, 14:42.
    assert clock.warn_at == at(2025, 10, 14, 14, 42)


def test_urgent_clocks_started_on_friday_evening_fall_due_on_monday():
    clocks = clocks_start(subject_id=2, tier=Tier.URGENT, started_at=at(2025, 10, 17, 17, 50))

    due = {clock.milestone: clock.due_at for clock in clocks}
    assert due == {
        Milestone.FIRST_RESPONSE: at(2025, 10, 20, 9, 20),
        Milestone.PLAN: at(2025, 10, 20, 10, 50),
    }


def test_starting_clocks_twice_keeps_the_first():
    clocks_start(subject_id=3, tier=Tier.REGULAR, started_at=at(2025, 10, 14, 9, 0))
    clocks_start(subject_id=3, tier=Tier.REGULAR, started_at=at(2025, 10, 14, 11, 0))

    assert SlaClock.objects.get(subject_id=3).started_at == at(2025, 10, 14, 9, 0)


def test_a_satisfied_clock_records_wall_and_business_time_and_never_fires(fired):
    clocks_start(subject_id=4, tier=Tier.REGULAR, started_at=at(2025, 10, 14, 11, 0))

    assert clock_satisfy(
        subject_id=4, milestone=Milestone.FIRST_RESPONSE, at=at(2025, 10, 14, 14, 0)
    )
    assert not clock_satisfy(
        subject_id=4, milestone=Milestone.FIRST_RESPONSE, at=at(2025, 10, 14, 15, 0)
    )
    result = clocks_tick(now=at(2025, 10, 20, 9, 0))

    clock = SlaClock.objects.get(subject_id=4)
    assert (clock.elapsed_wall_seconds, clock.elapsed_business_seconds) == (3 * 3600, 2 * 3600)
    assert (result.warned, result.breached) == (0, 0)
    assert fired == []


def test_a_tick_fires_the_warning_then_the_breach_once_each(fired):
    clocks_start(subject_id=5, tier=Tier.REGULAR, started_at=at(2025, 10, 14, 10, 30))

    before = clocks_tick(now=at(2025, 10, 14, 14, 41))
    warn = clocks_tick(now=at(2025, 10, 14, 14, 42))
    again = clocks_tick(now=at(2025, 10, 14, 15, 0))
    breach = clocks_tick(now=at(2025, 10, 14, 15, 30))
    after = clocks_tick(now=at(2025, 10, 14, 17, 0))

    assert [(r.warned, r.breached) for r in (before, warn, again, breach, after)] == [
        (0, 0),
        (1, 0),
        (0, 0),
        (0, 1),
        (0, 0),
    ]
    assert fired == [
        (5, Milestone.FIRST_RESPONSE, "warning"),
        (5, Milestone.FIRST_RESPONSE, "breach"),
    ]


def test_two_tickers_that_picked_the_same_due_clock_fire_it_once(fired):
    """The race in slow motion: both tickers read the candidates before either claims."""
    from sla import services

    clocks_start(subject_id=6, tier=Tier.REGULAR, started_at=at(2025, 10, 14, 9, 0))
    now = at(2025, 10, 15, 9, 0)
    candidates = SlaClock.objects.filter(due_at__lte=now, breached_at__isnull=True)
    seen_by_first = list(candidates)
    seen_by_second = list(candidates)

    first = services._fire(
        kind="breach", candidates=candidates, claim={"breached_at": now}, guard={}, batch=10
    )
    second = services._fire(
        kind="breach",
        candidates=SlaClock.objects.filter(pk__in=[c.pk for c in seen_by_second]),
        claim={"breached_at": now},
        guard={},
        batch=10,
    )

    assert len(seen_by_first) == len(seen_by_second) == 1
    assert (first, second) == (1, 0)
    assert [kind for _s, _m, kind in fired] == ["breach"]


def test_a_receiver_that_crashes_leaves_the_breach_unclaimed_for_the_next_tick(fired):
    def broken(sender, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("core went away mid-way")

    clocks_start(subject_id=7, tier=Tier.REGULAR, started_at=at(2025, 10, 14, 9, 0))
    now = at(2025, 10, 15, 9, 0)
    clock_fired.connect(broken, dispatch_uid="broken")
    try:
        with pytest.raises(RuntimeError):
            clocks_tick(now=now)
    finally:
        clock_fired.disconnect(dispatch_uid="broken")

    assert SlaClock.objects.get(subject_id=7).breached_at is None
    fired.clear()
    result = clocks_tick(now=now)
    assert result.breached == 1
    assert fired == [(7, Milestone.FIRST_RESPONSE, "breach")]


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_racing_over_many_due_clocks_fire_each_exactly_once(fired):
    start = at(2025, 10, 14, 9, 0)
    for subject in range(100, 300):
        clocks_start(subject_id=subject, tier=Tier.REGULAR, started_at=start)
    fired.clear()
    now = start + timedelta(days=3)
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            clocks_tick(now=now)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    breaches = [subject for subject, _m, kind in fired if kind == "breach"]
    warnings = [subject for subject, _m, kind in fired if kind == "warning"]
    assert sorted(breaches) == list(range(100, 300))
    assert warnings == []  # a clock already past due is breached, not warned
    assert SlaClock.objects.filter(breached_at__isnull=True).count() == 0
