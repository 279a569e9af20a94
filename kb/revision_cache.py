"""An in-process cache that follows `Revision` tokens in the database.

Building what it holds (a search index, loaded classifiers) is expensive, and every web or
worker process keeps its own copy. Rather than being told about changes, each copy reads the
revision tokens at most every `check_seconds` and rebuilds when one moved: a supervisor's edit
reaches every process within a few seconds, at the cost of one tiny query per check.
"""

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

CHECK_SECONDS = 3.0


class RevisionCache(Generic[T]):
    # Every cache made, so that tests can start each case from empty caches.
    instances: "list[RevisionCache[Any]]" = []
    # When set, every cache checks this often instead (tests check on every call).
    check_seconds_override: float | None = None

    def __init__(
        self,
        keys: tuple[str, ...],
        build: Callable[[], T],
        *,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.keys = keys
        self.check_seconds = check_seconds
        self._build = build
        self._lock = threading.Lock()
        self._value: T | None = None
        self._tokens: dict[str, str] | None = None
        self._next_check = 0.0
        RevisionCache.instances.append(self)

    def get(self) -> T:
        value = self._value
        if value is not None and time.monotonic() < self._next_check:
            return value
        with self._lock:
            if self._value is not None and time.monotonic() < self._next_check:
                return self._value
            from kb.selectors import revision_tokens

            # Tokens first, then the build: a change made during the build moves the token
            # again, and the next check rebuilds.
            tokens = revision_tokens(keys=self.keys)
            if self._value is None or tokens != self._tokens:
                self._value = self._build()
                self._tokens = tokens
            override = RevisionCache.check_seconds_override
            interval = self.check_seconds if override is None else override
            self._next_check = time.monotonic() + interval
            return self._value

    def peek(self) -> T | None:
        """What is held now, without checking or building."""
        return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None
            self._tokens = None
            self._next_check = 0.0
