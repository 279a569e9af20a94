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

Erlang A (Palm's M/M/n+M queue; Garnett, Mandelbaum and Reiman 2002) adds that callers hang
up: each waiting caller gives up after an exponentially distributed patience with mean
`patience` seconds, so abandonment rate θ = 1 / patience. It is used where the callers'
patience is known (docs/staffing.md: estimated from the calls the PBX reports). The number of
contacts in the system is a birth–death chain (arrivals λ; departures min(k, n)·μ + max(k − n,
0)·θ), whose stationary distribution is summed directly, in ratios that never overflow. An
arriving caller finds it (Poisson arrivals see time averages) and, with j callers ahead in the
queue, is answered only if they advance j + 1 times before their own patience runs out. In
each step the next advance (an agent freeing up, or someone ahead hanging up) comes at rate
n·μ + m·θ with m still ahead, against their own rate θ; so

    P(answered | j ahead) = a / (a + j + 1),                 a = n·μ / θ
    P(answered within t | j) = a / (a + j + 1) · (1 − I(e^(−θt); a + 1, j + 1))

where I is the regularised incomplete beta function: the time to the agent is a sum of
exponentials at rates θ·(a + 1 + m), m = 0 … j, and e^(−θ·that time) is Beta(a + 1, j + 1)
distributed (a product of independent Beta(a + 1 + m, 1)). The service level is the share of
all callers answered within t (those who hang up count as not answered in time), which for
an infinite patience is Erlang C's.

No package on PyPI was a good fit: the maintained workforce libraries bring an optimisation
suite and pandas with them for these few lines (scipy, already used for the shift plan, has
the incomplete beta function).
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc

__all__ = [
    "ErlangA",
    "agents_required",
    "average_speed_of_answer",
    "erlang_a",
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


@dataclass(frozen=True)
class ErlangA:
    """An M/M/n+M queue's figures for arriving callers."""

    waiting: float  # P(all agents busy on arrival)
    abandoned: float  # P(hanging up before an agent answers)
    service_level: float  # P(answered within the target), over all callers
    occupancy: float  # agents' busy share: the answered callers' load ÷ n


# The queue's tail is summed until a state's probability falls below this share of the total.
_TAIL = 1e-13
_MAX_QUEUE = 100_000


def erlang_a(
    *, agents: int, traffic: float, aht: float, patience: float, target_seconds: float
) -> ErlangA:
    """Erlang A for `traffic` erlangs on `agents` agents, contacts taking `aht` seconds and
    callers waiting `patience` seconds on average before they hang up."""
    if agents < 1:
        raise ValueError("at least one agent")
    if aht <= 0 or patience <= 0 or traffic < 0 or target_seconds < 0:
        raise ValueError(
            "handling time and patience must be positive, traffic and target not negative"
        )
    if traffic == 0:
        return ErlangA(waiting=0.0, abandoned=0.0, service_level=1.0, occupancy=0.0)
    mu = 1.0 / aht
    theta = 1.0 / patience
    rate = traffic * mu
    # Unnormalised stationary weights, scaled by the weight of "all agents busy" (k = n): below
    # it by Erlang B's ratio, the queue above it by λ / (nμ + jθ) per step.
    blocking = erlang_b(agents, traffic)  # P(k = n) among k ≤ n
    below = 1.0 / blocking  # Σ_{k ≤ n} weight / weight(n)
    queue = [1.0]  # weight(n + j) / weight(n), j = 0, 1, …
    total_queue = 1.0
    weight = 1.0
    j = 0
    while j < _MAX_QUEUE:
        j += 1
        weight *= rate / (agents * mu + j * theta)
        queue.append(weight)
        total_queue += weight
        if agents * mu + j * theta > rate and weight < _TAIL * (below + total_queue):
            break
    norm = below - 1.0 + total_queue  # weight(n) counted once
    ahead = np.arange(len(queue), dtype=float)  # j callers ahead on arrival at state n + j
    in_queue = np.asarray(queue) / norm
    a = agents * mu / theta
    answered = a / (a + ahead + 1.0)
    in_time = 1.0 - betainc(a + 1.0, ahead + 1.0, math.exp(-theta * target_seconds))
    waiting = float(in_queue.sum())
    abandoned = float((in_queue * (1.0 - answered)).sum())
    level = (1.0 - waiting) + float((in_queue * answered * in_time).sum())
    return ErlangA(
        waiting=waiting,
        abandoned=abandoned,
        service_level=min(max(level, 0.0), 1.0),
        occupancy=traffic * (1.0 - abandoned) / agents,
    )


def agents_required(
    *,
    contacts: float,
    interval_seconds: float,
    aht: float,
    service_level_target: float,
    target_seconds: float,
    max_occupancy: float = 1.0,
    patience: float | None = None,
) -> int:
    """The fewest agents who answer `service_level_target` (0–1) of `contacts` arriving in
    an interval of `interval_seconds` within `target_seconds`, busy at most `max_occupancy`
    (0–1] of their time. 0 when no contacts are expected. With the callers' mean `patience`
    in seconds, by Erlang A (callers who hang up count against the service level); else by
    Erlang C."""
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
    if patience is not None:
        return _agents_required_a(
            traffic=traffic,
            aht=aht,
            patience=patience,
            service_level_target=service_level_target,
            target_seconds=target_seconds,
            max_occupancy=max_occupancy,
        )
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


def _agents_required_a(
    *,
    traffic: float,
    aht: float,
    patience: float,
    service_level_target: float,
    target_seconds: float,
    max_occupancy: float,
) -> int:
    """Erlang A's fewest agents. Callers who hang up free the queue, so fewer than the offered
    traffic may do; the service level and occupancy bound both improve with every agent."""
    agents = max(1, math.floor(traffic / 2))
    while True:
        figures = erlang_a(
            agents=agents,
            traffic=traffic,
            aht=aht,
            patience=patience,
            target_seconds=target_seconds,
        )
        if figures.service_level >= service_level_target and figures.occupancy <= max_occupancy:
            return agents
        agents += 1
        if agents > MAX_AGENTS:
            raise ValueError("no number of agents meets this service level")
