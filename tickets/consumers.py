"""The agent's websocket: queue updates for their teams, the tickets they have open, and who
else has those open (tickets/viewers.py).

Consumers only authenticate, join groups and forward what `kefu.realtime` publishes.
"""

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from kefu import realtime
from kefu.consumers import CLOSE_FORBIDDEN, EventForwardingMixin
from kefu.roles import Role, has_role
from tickets.models import Team
from tickets.presence_consumer import PresenceMixin
from tickets.selectors import agent_for, team_ids_for, ticket_for
from tickets.services.workflow import ticket_agent_typing
from tickets.viewers import TicketViewingMixin, viewer_of

TYPING_EVERY_SECONDS = 2.0


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


def _agent_typing(user: Any, number: str, is_typing: bool) -> bool:
    """Tell the ticket's chat visitor the agent is typing; False when the user may not see
    the ticket (or is no agent)."""
    ticket = ticket_for(user, number)
    if ticket is None or agent_for(user) is None:
        return False
    ticket_agent_typing(ticket=ticket, is_typing=is_typing)
    return True


class AgentConsumer(
    PresenceMixin, TicketViewingMixin, EventForwardingMixin, AsyncJsonWebsocketConsumer
):
    async def connect(self) -> None:
        self.typing_sent: dict[str, float] = {}
        groups = await database_sync_to_async(_agent_groups)(self.scope.get("user"))
        if groups is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        for group in groups:
            await self.join(group)
        await self.accept()
        await self.presence_start()

    async def disconnect(self, code: int) -> None:
        # The ticket pages it watched lose a viewer; the agent may go offline.
        await self.viewing_stop()
        await self.presence_stop()
        await super().disconnect(code)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if await self.presence_receive(content):
            return
        if isinstance(content, dict) and content.get("type") == "ticket.typing":
            await self._typing(str(content.get("number", "")), content.get("typing") is True)
            return
        if not isinstance(content, dict) or content.get("type") != "ticket.watch":
            await self.send_json({"type": "error", "error": "unknown message"})
            return
        number = str(content.get("number", ""))
        ticket_id = await database_sync_to_async(_watchable_ticket)(self.scope["user"], number)
        if ticket_id is None:
            await self.send_json({"type": "error", "error": "no such ticket"})
            return
        await self.join(realtime.ticket_group(ticket_id))
        await self.send_json({"type": "ticket.watching", "number": number})
        # Watching is the ticket page being open: the other viewers learn of it.
        viewer = await database_sync_to_async(viewer_of)(self.scope["user"])
        await self.viewing_start(ticket_id=ticket_id, number=number, viewer=viewer)

    async def _typing(self, number: str, is_typing: bool) -> None:
        # The reply box sends "typing" every few seconds while the agent writes; passing on
        # at most one per ticket every TYPING_EVERY_SECONDS keeps a fast typist cheap.
        now = time.monotonic()
        last = self.typing_sent.get(number)
        if is_typing and last is not None and now - last < TYPING_EVERY_SECONDS:
            return
        if is_typing:
            self.typing_sent[number] = now
        else:
            self.typing_sent.pop(number, None)
        if not await database_sync_to_async(_agent_typing)(self.scope["user"], number, is_typing):
            await self.send_json({"type": "error", "error": "no such ticket"})
            return
        await self.viewing_typing_set(number=number, typing=is_typing)
