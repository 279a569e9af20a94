"""The one door to the channel layer.

Services call `publish_on_commit`; nothing else in Kefu talks to the channel layer. Events are
plain dicts built by `<app>/events.py`; consumers forward them to the browser unchanged.
"""

import asyncio
import hashlib
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Future
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
# pool warm, and the request that published does not wait for Redis.
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="kefu-realtime", daemon=True).start()
            _loop = loop
        return _loop


async def _send_all(layer: BaseChannelLayer, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:
        await layer.group_send(group, message)


def _log_failure(future: "Future[None]") -> None:
    error = future.exception()
    if error is not None:
        logger.error("realtime publish failed: %r", error)


def publish(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Send `event` to every group. A failing layer is logged, never raised: the write that
    caused the event has already committed, and browsers resynchronise on reconnect."""
    layer = get_channel_layer()
    if layer is None:
        return
    targets = list(groups)
    message = {"type": EVENT_HANDLER, "event": event}
    try:
        if isinstance(layer, InMemoryChannelLayer):
            # The in-memory layer's queues belong to the server's own loop (embedded mode,
            # tests); async_to_sync from a request thread runs there.
            async_to_sync(_send_all)(layer, targets, message)
            return
        future = asyncio.run_coroutine_threadsafe(
            _send_all(layer, targets, message), _publisher_loop()
        )
        future.add_done_callback(_log_failure)
    except Exception:
        logger.exception("realtime publish failed for %s", event.get("type"))


def publish_on_commit(groups: Iterable[str], event: dict[str, Any]) -> None:
    """Publish after the current transaction commits (at once when there is none)."""
    targets = list(groups)
    transaction.on_commit(lambda: publish(targets, event))
