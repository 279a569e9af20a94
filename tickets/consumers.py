"""The agent's websocket: queue updates for their teams, and the tickets they have open.

Consumers only authenticate, join groups and forward what `kefu.realtime` publishes.
"""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from kefu import realtime
from kefu.roles import Role, has_role
from tickets.models import Team
from tickets.selectors import agent_for, team_ids_for, ticket_for

CLOSE_FORBIDDEN = 4403


def _agent_groups(user: Any) -> list[str] | None:
    if not has_role(user, Role.AGENT):
        return None
    teams = team_ids_for(user)
    if teams is None:
        teams = list(Team.objects.values_list("pk", flat=True))
    groups = [realtime.team_group(team) for team in teams]
    agent = agent_for(user)
    if agent is not None:
        groups.append(realtime.agent_group(agent.pk))
    groups.append(realtime.user_group(user.pk))
    return groups


def _watchable_ticket(user: Any, number: str) -> int | None:
    ticket = ticket_for(user, number)
    return ticket.pk if ticket else None


class AgentConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.joined: list[str] = []
        groups = await database_sync_to_async(_agent_groups)(self.scope.get("user"))
        if groups is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = groups
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "ticket.watch":
            await self.send_json({"type": "error", "error": "unknown message"})
            return
        number = str(content.get("number", ""))
        ticket_id = await database_sync_to_async(_watchable_ticket)(self.scope["user"], number)
        if ticket_id is None:
            await self.send_json({"type": "error", "error": "no such ticket"})
            return
        group = realtime.ticket_group(ticket_id)
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.send_json({"type": "ticket.watching", "number": number})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Forwarded events touch no database: skip Channels' per-message hop to a thread to
        # close stale connections, which otherwise serialises every event for every socket.
        if message.get("type") == realtime.EVENT_HANDLER:
            await self.send_json(message["event"])
            return
        await super().dispatch(message)

    async def kefu_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
