"""Per-socket rate limits: a token bucket, kept in the consumer (one per connection)."""

import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second up to `capacity`; each allowed action takes one."""

    def __init__(
        self, *, rate: float, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1)
        self.clock = clock
        self.tokens = float(self.capacity)
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait_seconds(self) -> float:
        """How long until the next action would be allowed."""
        return 0.0 if self.tokens >= 1 or self.rate <= 0 else (1 - self.tokens) / self.rate
