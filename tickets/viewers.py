"""Who else has a ticket open, and who is writing a reply to it, for the ticket page.

Nothing is stored: the agent sockets watching a ticket (its page; `ticket.watch` checks the
user may see the ticket, so only they are in the ticket's group) tell each other. A socket
that starts watching says hello to the group, and every other watcher answers it directly
with who it is; a socket that closes says goodbye; typing is passed on as it comes. A page
therefore learns of the viewers already there and of those who come and go, and viewing ends
when the socket closes. These messages go between the sockets of one group and never through
a service; what services publish still comes through `kefu.realtime` (docs/realtime.md).
A process that dies without closing its sockets says no goodbye: the pages it served
reconnect elsewhere and say hello again under a new connection, and the others show the old
one until they reload (there is no heartbeat).
"""

import uuid
from typing import TYPE_CHECKING, Any

from kefu import realtime
from tickets import events

if TYPE_CHECKING:
    from channels.generic.websocket import AsyncJsonWebsocketConsumer as _Consumer
else:
    _Consumer = object

# Channel-layer message types between the sockets (handled by the methods below).
HELLO = "viewing.hello"
HERE = "viewing.here"
BYE = "viewing.bye"
TYPING = "viewing.typing"


def viewer_of(user: Any) -> dict[str, Any]:
    """How a viewer is shown to the others: their user id and name."""
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


class TicketViewingMixin(_Consumer):
    """For the agent socket: put before the Channels consumer class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection_id = uuid.uuid4().hex[:16]
        self.viewing: dict[int, str] = {}  # ticket id → number, of the tickets this page shows
        self.viewer: dict[str, Any] | None = None
        self.typing_in: set[int] = set()

    async def viewing_start(self, *, ticket_id: int, number: str, viewer: dict[str, Any]) -> None:
        """This socket's page shows the ticket (the user may see it: checked by the caller,
        which has joined the ticket's group)."""
        self.viewer = viewer
        self.viewing[ticket_id] = number
        await self.channel_layer.group_send(
            realtime.ticket_group(ticket_id),
            {
                "type": HELLO,
                "ticket_id": ticket_id,
                "number": number,
                "viewer": viewer,
                "connection": self.connection_id,
                "reply_to": self.channel_name,
            },
        )

    async def viewing_typing_set(self, *, number: str, typing: bool) -> None:
        """The user is (no longer) writing a reply on this page's ticket `number`."""
        ticket_id = next((pk for pk, shown in self.viewing.items() if shown == number), None)
        if ticket_id is None or self.viewer is None:
            return
        (self.typing_in.add if typing else self.typing_in.discard)(ticket_id)
        await self.channel_layer.group_send(
            realtime.ticket_group(ticket_id),
            {
                "type": TYPING,
                "ticket_id": ticket_id,
                "number": number,
                "viewer": self.viewer,
                "connection": self.connection_id,
                "typing": typing,
            },
        )

    async def viewing_stop(self) -> None:
        """The socket is closing: the others' pages drop this viewer."""
        for ticket_id, number in self.viewing.items():
            await self.channel_layer.group_send(
                realtime.ticket_group(ticket_id),
                {
                    "type": BYE,
                    "ticket_id": ticket_id,
                    "number": number,
                    "connection": self.connection_id,
                },
            )
        self.viewing = {}

    def _from_another(self, message: dict[str, Any]) -> bool:
        return (
            message.get("connection") != self.connection_id
            and message.get("ticket_id") in self.viewing
        )

    # Handlers of the messages above, named after their types by Channels.

    async def viewing_hello(self, message: dict[str, Any]) -> None:
        if not self._from_another(message) or self.viewer is None:
            return
        await self.send_json(
            events.viewer_joined(
                number=message["number"],
                connection=message["connection"],
                viewer=message["viewer"],
                typing=False,
            )
        )
        await self.channel_layer.send(
            message["reply_to"],
            {
                "type": HERE,
                "ticket_id": message["ticket_id"],
                "number": message["number"],
                "viewer": self.viewer,
                "connection": self.connection_id,
                "typing": message["ticket_id"] in self.typing_in,
            },
        )

    async def viewing_here(self, message: dict[str, Any]) -> None:
        if not self._from_another(message):
            return
        await self.send_json(
            events.viewer_joined(
                number=message["number"],
                connection=message["connection"],
                viewer=message["viewer"],
                typing=bool(message.get("typing")),
            )
        )

    async def viewing_bye(self, message: dict[str, Any]) -> None:
        if not self._from_another(message):
            return
        await self.send_json(
            events.viewer_left(number=message["number"], connection=message["connection"])
        )

    async def viewing_typing(self, message: dict[str, Any]) -> None:
        if not self._from_another(message):
            return
        await self.send_json(
            events.viewer_typing(
                number=message["number"],
                connection=message["connection"],
                viewer=message["viewer"],
                typing=bool(message.get("typing")),
            )
        )
