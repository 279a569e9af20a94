"""The supervisor board's websocket: forwards board events; supervisors and admins only."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from kefu import realtime
from kefu.roles import Role, has_role

CLOSE_FORBIDDEN = 4403


class BoardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.joined = False
        allowed = await database_sync_to_async(has_role)(self.scope.get("user"), Role.SUPERVISOR)
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(realtime.BOARD_GROUP, self.channel_name)
        self.joined = True
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "joined", False):
            await self.channel_layer.group_discard(realtime.BOARD_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The board only listens.
        return

    async def dispatch(self, message: dict[str, Any]) -> None:
        # As in the agent consumer: forwarded events need no database hop.
        if message.get("type") == realtime.EVENT_HANDLER:
            await self.send_json(message["event"])
            return
        await super().dispatch(message)

    async def kefu_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
