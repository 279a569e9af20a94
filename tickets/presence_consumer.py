"""The presence part of the agent's websocket: the socket counts while it is open, and the
page tells of the agent's input (`presence.activity`) and that it is still there
(`presence.heartbeat`). Mixed into `tickets.consumers.AgentConsumer`."""

import asyncio
import contextlib
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings

from tickets.selectors import agent_for
from tickets.services.presence import (
    ACTIVITY_EVERY_SECONDS,
    presence_active,
    presence_connected,
    presence_disconnected,
    presence_refresh,
)

# A page's heartbeats refresh its socket at most this often.
HEARTBEAT_EVERY_SECONDS = 5.0


def _agent_id(user: Any) -> int | None:
    agent = agent_for(user)
    return agent.pk if agent is not None else None


class PresenceMixin:
    """Call `presence_start` once the socket is accepted, `presence_stop` when it closes, and
    `presence_receive` with each frame (True when it was a presence frame)."""

    channel_name: str
    scope: dict[str, Any]
    presence_agent_id: int | None = None

    async def presence_start(self) -> None:
        self.presence_agent_id = await database_sync_to_async(_agent_id)(self.scope.get("user"))
        if self.presence_agent_id is None:
            return  # a supervisor without an agent record: no presence
        self.presence_refreshed = time.monotonic()
        self.presence_active_at = (
            self.presence_refreshed - ACTIVITY_EVERY_SECONDS
        )  # the first counts
        await database_sync_to_async(presence_connected)(
            agent_id=self.presence_agent_id, socket=self.channel_name
        )
        self.presence_keepalive = asyncio.get_running_loop().create_task(self._keep_counted())

    async def _keep_counted(self) -> None:
        # While this process lives the socket stays counted, whatever the page does; a
        # process that dies stops refreshing, and the socket expires (tickets/presence_sockets).
        every = settings.KEFU_PRESENCE_SOCKET_TTL_SECONDS / 3
        while True:
            await asyncio.sleep(every)
            if self.presence_agent_id is not None:
                await sync_to_async(presence_refresh, thread_sensitive=False)(
                    agent_id=self.presence_agent_id, socket=self.channel_name
                )

    async def presence_stop(self) -> None:
        keepalive = getattr(self, "presence_keepalive", None)
        if keepalive is not None:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive
        if self.presence_agent_id is not None:
            agent_id, self.presence_agent_id = self.presence_agent_id, None
            await database_sync_to_async(presence_disconnected)(
                agent_id=agent_id, socket=self.channel_name
            )

    async def presence_receive(self, content: Any) -> bool:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind not in ("presence.activity", "presence.heartbeat"):
            return False
        if self.presence_agent_id is None:
            return True
        now = time.monotonic()
        if kind == "presence.activity" and now - self.presence_active_at >= ACTIVITY_EVERY_SECONDS:
            self.presence_active_at = self.presence_refreshed = now
            await database_sync_to_async(presence_active)(
                agent_id=self.presence_agent_id, socket=self.channel_name
            )
        elif now - self.presence_refreshed >= HEARTBEAT_EVERY_SECONDS:
            self.presence_refreshed = now
            await sync_to_async(presence_refresh, thread_sensitive=False)(
                agent_id=self.presence_agent_id, socket=self.channel_name
            )
        return True
