"""Per-process caches that follow `Revision` tokens in the database.

Building what such a cache holds (a search index, loaded classifiers, the routing table, the
integration tokens) is expensive or on every request's path, and every web or worker process
keeps its own copy. Rather than being told about changes, each copy reads the revision tokens
at most every `check_seconds` and rebuilds when one moved: a writer calls `revision_bump` in
its transaction, and every process sees the change within a few seconds of the commit, at the
cost of one tiny query per check.
"""

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.models import Revision

T = TypeVar("T")

CHECK_SECONDS = 3.0


def revision_bump(*, key: str) -> None:
    """Tell every process that what it caches under `key` changed (seen after commit)."""
    token = Revision.new_token()
    if Revision.objects.filter(key=key).update(token=token, changed_at=timezone.now()):
        return
    try:
        with transaction.atomic():
            Revision.objects.create(key=key, token=token)
    except IntegrityError:
        # Created by a concurrent writer a moment ago.
        Revision.objects.filter(key=key).update(token=token, changed_at=timezone.now())


def revision_tokens(*, keys: Sequence[str]) -> dict[str, str]:
    return dict(Revision.objects.filter(key__in=keys).values_list("key", "token"))


class RevisionCache(Generic[T]):
    # Every cache made, so that `revision_caches_reset` reaches them all.
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


def revision_caches_reset(*, check_seconds: float | None) -> None:
    """Empty every revision cache of this process and have each one, including those made
    later, check its tokens every `check_seconds` from now on (None: each cache's own
    interval). Tests start every case this way, with 0: a test's rows are rolled back
    afterwards, so no cache may keep what one test built."""
    RevisionCache.check_seconds_override = check_seconds
    for cache in RevisionCache.instances:
        cache.clear()
