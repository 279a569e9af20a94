"""Erlang C: how many agents a queue of contacts needs to meet a service level.

The model (A. K. Erlang, 1917; the textbook call-centre queue M/M/n): contacts arrive at
random (Poisson) at `rate` per second, each takes an agent `aht` seconds on average
(exponentially distributed), nobody hangs up, and `agents` agents serve one queue. With the
offered traffic A = rate × aht (in erlangs) and n > A agents:

    P(wait) = C(n, A) = n·B / (n − A·(1 − B)),   B = Erlang B(n, A)
    service level = P(answered within t) = 1 − C(n, A) · exp(−(n − A) · t / aht)
    average speed of answer = C(n, A) · aht / (n − A)
    occupancy = A / n

Erlang B is computed by its recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)), which
stays between 0 and 1 at every step, so no factorial or power of A is ever formed and the
result is exact to floating point for thousands of agents (the textbook sum of Aᵏ/k!
overflows a double beyond about 170 agents).

Erlang A (abandonment) needs the customers' patience, which Kefu does not record, so it is
not used: Erlang C errs on the safe side (more agents), as no caller gives up.

No package on PyPI was a good fit: the maintained workforce libraries bring an optimisation
suite and pandas with them for these few lines.
"""

import math

__all__ = [
    "agents_required",
    "average_speed_of_answer",
    "erlang_b",
    "erlang_c",
    "service_level",
]

# More agents than any one interval of one channel plausibly needs; a search that would pass
# it has been asked something impossible (a service level of 100 % in zero seconds).
MAX_AGENTS = 10_000


def erlang_b(agents: int, traffic: float) -> float:
    """Probability that a contact finds all `agents` busy in a loss system (Erlang B)."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a contact waits (Erlang C); 1.0 when the queue is unstable
    (`agents` <= `traffic`)."""
    if traffic < 0:
        raise ValueError("traffic must not be negative")
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def service_level(*, agents: int, traffic: float, aht: float, target_seconds: float) -> float:
    """Share of contacts answered within `target_seconds` (0.0 for an unstable queue)."""
    if aht <= 0:
        raise ValueError("the average handling time must be positive")
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(agents, traffic)
    return 1.0 - waiting * math.exp(-(agents - traffic) * target_seconds / aht)


def average_speed_of_answer(*, agents: int, traffic: float, aht: float) -> float:
    """Average wait in seconds over all contacts (infinite for an unstable queue)."""
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht / (agents - traffic)


def agents_required(
    *,
    contacts: float,
    interval_seconds: float,
    aht: float,
    service_level_target: float,
    target_seconds: float,
    max_occupancy: float = 1.0,
) -> int:
    """The fewest agents who answer `service_level_target` (0–1) of `contacts` arriving in
    an interval of `interval_seconds` within `target_seconds`, busy at most `max_occupancy`
    (0–1] of their time. 0 when no contacts are expected."""
    if contacts < 0:
        raise ValueError("contacts must not be negative")
    if not 0 < service_level_target < 1:
        raise ValueError("the service level target must be between 0 and 1 (exclusive)")
    if not 0 < max_occupancy <= 1:
        raise ValueError("the maximum occupancy must be in (0, 1]")
    if interval_seconds <= 0 or aht <= 0 or target_seconds < 0:
        raise ValueError("interval, handling time and target must be positive")
    if contacts == 0:
        return 0
    traffic = contacts * aht / interval_seconds
    # Occupancy A/n <= max means n >= A/max; the queue is stable only above A.
    agents = max(math.floor(traffic) + 1, math.ceil(traffic / max_occupancy - 1e-9))
    while (
        service_level(agents=agents, traffic=traffic, aht=aht, target_seconds=target_seconds)
        < service_level_target
    ):
        agents += 1
        if agents > MAX_AGENTS:
            raise ValueError("no number of agents meets this service level")
    return agents
