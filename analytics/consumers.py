"""The supervisor board's websocket: forwards board events; supervisors and admins only."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from kefu import realtime
from kefu.consumers import CLOSE_FORBIDDEN, EventForwardingMixin
from kefu.roles import Role, has_role


class BoardConsumer(EventForwardingMixin, AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        allowed = await database_sync_to_async(has_role)(self.scope.get("user"), Role.SUPERVISOR)
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.join(realtime.BOARD_GROUP)
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The board only listens.
        return
