"""The rate limiters' cache: Redis, and this process's memory while Redis cannot be reached.

django-ratelimit counts in a cache (`RATELIMIT_USE_CACHE`, the "ratelimit" alias). With
Django's Redis cache an unreachable Redis raises from inside the limiter, and every page it
guards (the status page, the help centre) answered 500. `FallbackRedisCache` catches the
connection error and counts in a per-process LocMemCache instead: limits still hold within
each web process (a client spread over N processes gets at most N times its rate), and the
pages keep working. A warning is logged when the fallback starts and at most once per
`WARN_SECONDS` while it lasts; Redis is tried again every `RETRY_SECONDS`, so a request
does not wait on a dead server each time, and counting returns to Redis once it answers.
"""

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("kefu.ratelimit")

RETRY_SECONDS = 5.0
WARN_SECONDS = 60.0

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class _Outage:
    """Whether one Redis location is being avoided, shared by the process's threads (Django
    makes a cache object per thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.retry_at = 0.0
        self.warned_at: float | None = None
        self.active = False


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage())


def outages_reset() -> None:
    """Forget every outage this process has seen (tests)."""
    with _outages_lock:
        for outage in _outages.values():
            with outage.lock:
                outage.active = False
                outage.retry_at = 0.0
                outage.warned_at = None


class FallbackRedisCache(RedisCache):
    """Django's Redis cache that falls back to this process's memory when Redis is down."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        self._outage = _outage_for(location)
        local_params = {key: value for key, value in params.items() if key != "OPTIONS"}
        # One name per location: every thread's cache object shares the same memory.
        self._local = LocMemCache(f"kefu-fallback:{location}", local_params)

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        outage = self._outage
        if outage.active and time.monotonic() < outage.retry_at:
            return getattr(self._local, name)(*args, **kwargs)
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except _UNREACHABLE as error:
            self._unreachable(error)
            return getattr(self._local, name)(*args, **kwargs)
        if outage.active:
            with outage.lock:
                if outage.active:
                    outage.active = False
                    outage.warned_at = None
                    logger.warning("Redis cache reachable again; rate limits count in Redis")
        return result

    def _unreachable(self, error: BaseException) -> None:
        outage = self._outage
        now = time.monotonic()
        with outage.lock:
            outage.active = True
            outage.retry_at = now + RETRY_SECONDS
            if outage.warned_at is None or now - outage.warned_at >= WARN_SECONDS:
                outage.warned_at = now
                logger.warning(
                    "Redis cache unreachable (%s); rate limits count per process until it "
                    "answers again",
                    error,
                )

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._run("add", key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._run("get", key, default, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._run("set", key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._run("touch", key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._run("delete", key, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._run("get_many", keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._run("has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._run("incr", key, delta, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._run("set_many", data, timeout, version)

    def delete_many(self, keys: Any, version: Any = None) -> Any:
        return self._run("delete_many", keys, version)

    def clear(self) -> Any:
        self._local.clear()
        return self._run("clear")
