"""The presence part of the agent's websocket: the socket counts while it is open, and the
page tells of the agent's input (`presence.activity`) and that it is still there
(`presence.heartbeat`). Mixed into `tickets.consumers.AgentConsumer`.

Presence writes never hold up the socket: a consumer handles one message at a time, so a
write awaited in a handler would keep every queue event behind it waiting (and, with many
sockets sharing Channels' one database thread, for seconds under load). They run as tasks
of their own, in a thread pool rather than that one thread, one at a time per socket and in
order (the socket's close after its open), and a burst of input while one is running
becomes at most one more write.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from tickets.selectors import agent_for
from tickets.services.presence import (
    ACTIVITY_EVERY_SECONDS,
    presence_active,
    presence_connected,
    presence_disconnected,
    presence_refresh,
)

logger = logging.getLogger("kefu.tickets")

# A page's heartbeats refresh its socket at most this often.
HEARTBEAT_EVERY_SECONDS = 5.0


def _in_thread(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a database function in the pool, with Django's connection care around it."""

    def run(**kwargs: Any) -> Any:
        close_old_connections()
        try:
            return function(**kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False)


def _agent_id(*, user: Any) -> int | None:
    agent = agent_for(user)
    return agent.pk if agent is not None else None


class PresenceMixin:
    """Call `presence_start` once the socket is accepted, `presence_stop` when it closes, and
    `presence_receive` with each frame (True when it was a presence frame)."""

    channel_name: str
    scope: dict[str, Any]

    def _presence_queue(self, step: Callable[[], Any]) -> None:
        """Run `step` (a coroutine function) after the socket's earlier presence steps."""
        previous: asyncio.Task[None] | None = getattr(self, "presence_task", None)

        async def chained() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            try:
                await step()
            except Exception:
                logger.exception("presence update failed")

        self.presence_task = asyncio.get_running_loop().create_task(chained())

    async def presence_start(self) -> None:
        self.presence_agent_id: int | None = None
        self.presence_pending_input = False
        self.presence_refreshed = time.monotonic()
        self.presence_active_at = self.presence_refreshed - ACTIVITY_EVERY_SECONDS  # 1st counts
        user = self.scope.get("user")

        async def start() -> None:
            agent_id = await _in_thread(_agent_id)(user=user)
            if agent_id is None:
                return  # a supervisor without an agent record: no presence
            await _in_thread(presence_connected)(agent_id=agent_id, socket=self.channel_name)
            self.presence_agent_id = agent_id
            self.presence_keepalive = asyncio.get_running_loop().create_task(self._keep_counted())

        self._presence_queue(start)

    async def _keep_counted(self) -> None:
        # While this process lives the socket stays counted, whatever the page does; a
        # process that dies stops refreshing, and the socket expires (tickets/presence_sockets).
        every = settings.KEFU_PRESENCE_SOCKET_TTL_SECONDS / 3
        while True:
            await asyncio.sleep(every)
            if self.presence_agent_id is not None:
                await _in_thread(presence_refresh)(
                    agent_id=self.presence_agent_id, socket=self.channel_name
                )

    async def presence_stop(self) -> None:
        async def stop() -> None:
            # After the socket's start (queued before): its keepalive exists by now.
            keepalive = getattr(self, "presence_keepalive", None)
            if keepalive is not None:
                keepalive.cancel()
            if self.presence_agent_id is not None:
                agent_id, self.presence_agent_id = self.presence_agent_id, None
                await _in_thread(presence_disconnected)(agent_id=agent_id, socket=self.channel_name)

        if hasattr(self, "presence_refreshed"):
            self._presence_queue(stop)
            # The close is written before the consumer goes: its process may be stopping.
            await self.presence_task

    async def presence_receive(self, content: Any) -> bool:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind not in ("presence.activity", "presence.heartbeat"):
            return False
        now = time.monotonic()
        if kind == "presence.activity" and now - self.presence_active_at >= ACTIVITY_EVERY_SECONDS:
            self.presence_active_at = self.presence_refreshed = now

            async def active() -> None:
                if self.presence_agent_id is not None:
                    await _in_thread(presence_active)(
                        agent_id=self.presence_agent_id, socket=self.channel_name
                    )

            self._presence_queue(active)
        elif now - self.presence_refreshed >= HEARTBEAT_EVERY_SECONDS:
            self.presence_refreshed = now

            async def refresh() -> None:
                if self.presence_agent_id is not None:
                    await _in_thread(presence_refresh)(
                        agent_id=self.presence_agent_id, socket=self.channel_name
                    )

            self._presence_queue(refresh)
        return True
