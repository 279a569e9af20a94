"""Breach forecasting: the chance that a waiting ticket is not answered in time.

Model: the team answers waiting tickets as a Poisson process at its recent rate (answers per
business hour). A ticket with `ahead` tickets in front of it is answered once `ahead + 1`
answers have happened; it breaches if fewer than that happen in the business time it has
left. So P(breach) = P(N < ahead + 1) for N ~ Poisson(rate × time left), a plain Poisson CDF.
It needs no training, explains itself ("7 ahead, 3/h, 40 min left") and errs pessimistic for
a team that has been idle (rate near zero → breach likely), which is what a supervisor wants.
"""

import math


def breach_probability(*, ahead: int, rate_per_hour: float, seconds_left: int) -> float:
    """Chance in [0, 1] that fewer than `ahead + 1` answers come in `seconds_left`."""
    if seconds_left <= 0:
        return 1.0
    expected = max(rate_per_hour, 0.0) * seconds_left / 3600.0
    if expected == 0.0:
        return 1.0
    needed = ahead + 1
    # Sum P(N = k) for k < needed in log space, which stays finite for large expectations.
    log_expected = math.log(expected)
    total = 0.0
    for k in range(needed):
        total += math.exp(k * log_expected - expected - math.lgamma(k + 1))
    return min(max(total, 0.0), 1.0)
