"""Erlang C against the textbook formula computed independently (exact fractions) and the
classic worked example of call-centre planning.

The worked example (as published, e.g., in Call Centre Helper's "Erlang C formula – made
simple", and in many workforce-management courses): 360 calls in 30 minutes, 240 seconds
average handling time, so 48 erlangs of traffic; with 55 agents the probability that a call
waits is 23.87 %, 86.68 % of calls are answered within 20 seconds, the average speed of
answer is 8.2 seconds and occupancy is 87.3 %.
"""

import math
from fractions import Fraction

import pytest

from analytics import erlang


def erlang_c_by_definition(agents: int, traffic: int) -> Fraction:
    """P(wait) = (Aⁿ/n! · n/(n−A)) / (Σ_{k<n} Aᵏ/k! + Aⁿ/n! · n/(n−A)), exactly."""
    a = Fraction(traffic)
    top = a**agents / math.factorial(agents) * Fraction(agents, agents - traffic)
    bottom = sum(a**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


def test_the_classic_worked_example_48_erlangs_and_55_agents():
    traffic = 360 * 240 / 1800

    waiting = erlang.erlang_c(55, traffic)
    level = erlang.service_level(agents=55, traffic=traffic, aht=240, target_seconds=20)
    speed = erlang.average_speed_of_answer(agents=55, traffic=traffic, aht=240)

    assert traffic == 48.0
    assert waiting == pytest.approx(float(erlang_c_by_definition(55, 48)), rel=1e-12)
    assert round(waiting, 4) == 0.2387
    assert round(level, 4) == 0.8668
    assert round(speed, 1) == 8.2
    assert round(48 / 55, 3) == 0.873


def test_the_service_level_is_the_textbook_formula():
    expected = 1 - float(erlang_c_by_definition(20, 15)) * math.exp(-(20 - 15) * 30 / 180)

    level = erlang.service_level(agents=20, traffic=15.0, aht=180, target_seconds=30)

    assert level == pytest.approx(expected, rel=1e-12)


def test_the_fewest_agents_for_80_percent_in_20_seconds():
    needed = erlang.agents_required(
        contacts=360, interval_seconds=1800, aht=240, service_level_target=0.8, target_seconds=20
    )

    assert needed == 54
    assert erlang.service_level(agents=53, traffic=48.0, aht=240, target_seconds=20) < 0.8
    assert erlang.service_level(agents=54, traffic=48.0, aht=240, target_seconds=20) >= 0.8


def test_a_maximum_occupancy_asks_for_more_agents():
    needed = erlang.agents_required(
        contacts=360,
        interval_seconds=1800,
        aht=240,
        service_level_target=0.8,
        target_seconds=20,
        max_occupancy=0.85,
    )

    # 48/56 is 85.7 % busy, 48/57 is 84.2 %.
    assert needed == 57


def test_large_queues_stay_exact_where_factorials_overflow():
    # 1900 erlangs: 1900**2000 / 2000! is far beyond a double; the recursion is not.
    exact = float(erlang_c_by_definition(2000, 1900))

    assert erlang.erlang_c(2000, 1900.0) == pytest.approx(exact, rel=1e-9)
    assert 0 < exact < 1


def test_no_traffic_needs_no_agents_and_an_unstable_queue_always_waits():
    assert (
        erlang.agents_required(
            contacts=0, interval_seconds=1800, aht=240, service_level_target=0.8, target_seconds=20
        )
        == 0
    )
    assert erlang.erlang_c(10, 10.0) == 1.0
    assert erlang.service_level(agents=10, traffic=12.0, aht=100, target_seconds=20) == 0.0
    assert erlang.average_speed_of_answer(agents=10, traffic=12.0, aht=100) == math.inf


@pytest.mark.parametrize(
    "arguments",
    [
        {"contacts": -1},
        {"service_level_target": 1.0},
        {"service_level_target": 0.0},
        {"max_occupancy": 0.0},
        {"max_occupancy": 1.5},
        {"aht": 0},
    ],
)
def test_impossible_targets_are_refused(arguments):
    values = {
        "contacts": 100,
        "interval_seconds": 1800,
        "aht": 200,
        "service_level_target": 0.8,
        "target_seconds": 20,
        **arguments,
    }
    with pytest.raises(ValueError):
        erlang.agents_required(**values)
