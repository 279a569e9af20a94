"""The one door to the channel layer.

Services call `publish_on_commit`; nothing else in Kefu talks to the channel layer. Events are
plain dicts built by `<app>/events.py`; consumers forward them to the browser unchanged.
"""

import asyncio
import atexit
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger("kefu.realtime")

EVENT_HANDLER = "kefu.event"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def chat_group(address: str) -> str:
    """The open chat widgets of one customer address (the shop's user id, or `visitor:…` for
    an anonymous visitor). Hashed: group names allow only a few ASCII characters."""
    return "chat." + hashlib.sha256(address.encode()).hexdigest()[:40]


BOARD_GROUP = "board"

# A network channel layer (Redis) keeps a connection pool per event loop. `async_to_sync`
# from a plain thread makes a new loop, so a new connection, on every call: tens of
# milliseconds per publish. One long-lived loop per process, in a daemon thread, keeps one
# pool warm, and the request that published does not wait for Redis. One sender on that
# loop takes the events in order from a queue: a burst (an SLA tick firing a thousand
# breaches) would otherwise start as many sends at once, more than the layer's connection
# pool allows, and those over the limit would fail. What is waiting when the sender comes
# round goes out together, up to SEND_BATCH events (`_send_batch`): the Redis layer asks
# once which of their groups have members. One event at a time, a bulk action on 500
# tickets outran the sender (bench/feedback.py: 81,930 of the events of 100,000 resolutions,
# invitations and replies were dropped with the backlog full, and the sender took about 13 %
# of the processes' CPU). Likewise a publishing thread wakes the loop once for what it hands
# over in a row, not once per event (each wake-up is a write to the loop's socket).
QUEUE_LIMIT = 10_000
SEND_BATCH = 200

_Item = tuple[BaseChannelLayer, list[str], dict[str, Any]]


class _Publisher:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self._queue: asyncio.Queue[_Item] | None = None
        # Handed over by publishing threads, not yet in the queue; a wake-up is on its way to
        # the loop while `_waking` is set.
        self._handed: list[_Item] = []
        self._handed_lock = threading.Lock()
        self._waking = False
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self._queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
            self.loop.create_task(self._send_forever())
            started.set()
            self.loop.run_forever()

        threading.Thread(target=run, name="kefu-realtime", daemon=True).start()
        started.wait(timeout=5)

    def submit(self, layer: BaseChannelLayer, groups: list[str], message: dict[str, Any]) -> None:
        with self._handed_lock:
            self._handed.append((layer, groups, message))
            if self._waking:
                return
            self._waking = True
        self.loop.call_soon_threadsafe(self._take_handed)

    def _take_handed(self) -> None:
        """On the loop: move what publishing threads handed over into the queue, in order."""
        assert self._queue is not None
        with self._handed_lock:
            handed, self._handed = self._handed, []
            self._waking = False
        for item in handed:
            try:
                self._queue.put_nowait(item)
            except asyncio.QueueFull:
                _backlog_full(str(item[2]["event"].get("type")))

    async def _send_forever(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < SEND_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await _send_batch(batch)
            except Exception as error:
                _publish_failed(error, count=len(batch))
            else:
                _publish_succeeded()
            finally:
                for _item in batch:
                    self._queue.task_done()

    def wait_sent(self, timeout: float) -> None:
        assert self._queue is not None
        queue = self._queue

        async def sent() -> None:
            self._take_handed()  # handed over by another thread whose wake-up is still coming
            await queue.join()

        asyncio.run_coroutine_threadsafe(sent(), self.loop).result(timeout)

    def unsent(self) -> int:
        with self._handed_lock:
            handed = len(self._handed)
        return handed + (self._queue.qsize() if self._queue is not None else 0)


FAILURE_WARN_SECONDS = 60.0


class _Drops:
    """Events dropped for one reason: counted, and reported at most once per
    FAILURE_WARN_SECONDS with the number dropped since the last report, not a log line per
    event (a burst or an outage drops thousands)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total = 0
        self.unreported = 0
        self.reported_at: float | None = None  # None: nothing dropped since the last reset

    def add(self, count: int) -> int | None:
        """Count `count` more; the number to report now, or None within the interval."""
        now = time.monotonic()
        with self.lock:
            self.total += count
            self.unreported += count
            if self.reported_at is not None and now - self.reported_at < FAILURE_WARN_SECONDS:
                return None
            due, self.unreported, self.reported_at = self.unreported, 0, now
            return due

    def reset(self) -> int | None:
        """Start over once the cause is gone: the number dropped since the last report, or
        None when nothing was being dropped."""
        with self.lock:
            if self.reported_at is None:
                return None
            due, self.unreported, self.reported_at = self.unreported, 0, None
            return due


# While the layer is unreachable (a Redis outage) every event fails: one warning when it
# starts, then at most one per interval with the count, and one when sending works again.
# Dropped events are not replayed; browsers resynchronise when their socket reconnects
# (docs/realtime.md).
_failures = _Drops()
# A full backlog (the layer slower than a burst of events for long) drops each event that
# does not fit, reported the same way.
_backlog = _Drops()


def _publish_failed(error: BaseException, *, count: int = 1) -> None:
    if (due := _failures.add(count)) is not None:
        logger.warning(
            "realtime publish failed (%r); %d event(s) dropped since the last warning", error, due
        )


def _publish_succeeded() -> None:
    if _failures.reported_at is None:  # nothing failing: no lock taken
        return
    if (due := _failures.reset()) is not None:
        logger.warning("realtime publishing works again (%d more event(s) were dropped)", due)


def publish_failures() -> int:
    """How many events this process could not hand to the channel layer since it started."""
    return _failures.total


def _backlog_full(event_type: str) -> None:
    if (due := _backlog.add(1)) is not None:
        logger.error(
            "realtime backlog full (%d events waiting): %d event(s) not sent since the last "
            "report, the last a %s",
            QUEUE_LIMIT,
            due,
            event_type,
        )


def backlog_dropped() -> int:
    """How many events this process dropped because its backlog was full, since it started."""
    return _backlog.total


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _publisher_for_process() -> _Publisher:
    """This process's publisher; a forked process makes its own (the thread is not forked)."""
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.pid != os.getpid() or _publisher.loop.is_closed():
            _publisher = _Publisher()
        return _publisher


def wait_sent(timeout: float = 10.0) -> None:
    """Wait until every event published so far by this process has been sent (tests, and a
    process about to exit)."""
    if _publisher is not None and _publisher.pid == os.getpid():
        _publisher.wait_sent(timeout)


# How long a process that exits cleanly waits for its queued events to go out.
FLUSH_SECONDS = 5.0


@atexit.register
def flush(timeout: float = FLUSH_SECONDS) -> None:
    """Send what this process still has queued before it exits. The sender is a daemon thread,
    which the interpreter stops without notice at exit: without this, events published in
    a process's last moments (a worker's last task, a web worker being recycled) would be
    dropped. Runs at interpreter exit (gunicorn and daphne workers, management commands)
    and when a Celery worker process shuts down (kefu/celery.py). A process killed outright
    (SIGKILL, os._exit) loses what was queued; browsers catch up when they reconnect."""
    publisher = _publisher
    if publisher is None or publisher.pid != os.getpid() or publisher.loop.is_closed():
        return
    try:
        publisher.wait_sent(timeout)
    except Exception:
        logger.warning("realtime: %d events unsent at exit", publisher.unsent())


async def _send_batch(items: list[_Item]) -> None:
    """Send queued events in order; a layer with `group_send_batch` (kefu.channel_layer's
    Redis layer) gets each run of them that is for it together."""
    start = 0
    while start < len(items):
        layer = items[start][0]
        end = start + 1
        while end < len(items) and items[end][0] is layer:
            end += 1
        send_batch = getattr(layer, "group_send_batch", None)
        if send_batch is not None:
            await send_batch([(groups, message) for _layer, groups, message in items[start:end]])
        else:
            for _layer, groups, message in items[start:end]:
                await _send_all(layer, groups, message)
        start = end


async def _send_all(layer: BaseChannelLayer, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:
        await layer.group_send(group, message)


def publish(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Send `event` to every group. A failing layer is logged, never raised: the write that
    caused the event has already committed, and browsers resynchronise on reconnect."""
    layer = get_channel_layer()
    if layer is None:
        return
    targets = list(groups)
    # Encoded here once: a team's event reaches every agent socket of the team, and each
    # socket sends this text as it is instead of encoding the event again (kefu.consumers).
    message = {"type": EVENT_HANDLER, "event": event, "text": json.dumps(event)}
    try:
        if isinstance(layer, InMemoryChannelLayer):
            # The in-memory layer's queues belong to the server's own loop (embedded mode,
            # tests); async_to_sync from a request thread runs there.
            async_to_sync(_send_all)(layer, targets, message)
            return
        _publisher_for_process().submit(layer, targets, message)
    except Exception as error:
        _publish_failed(error)


def publish_on_commit(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Publish after the current transaction commits (at once when there is none)."""
    targets = list(groups)
    transaction.on_commit(lambda: publish(targets, event))
