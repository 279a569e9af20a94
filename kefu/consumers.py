"""What Kefu's websocket consumers share: the groups a socket joined, and forwarding what
`kefu.realtime` publishes to them.

Consumers only authenticate, join groups and forward; the events are built by the services'
`events.py` and sent unchanged unless a consumer filters them (`forward`).
"""

import json
from typing import TYPE_CHECKING, Any

from kefu import realtime

if TYPE_CHECKING:
    # What the mixin is mixed into, for the type checker; at run time the consumer's own
    # Channels class comes after it in the MRO.
    from channels.generic.websocket import AsyncWebsocketConsumer as _Consumer
else:
    _Consumer = object

# A socket closed because its user may not have it (no session, or not the role).
CLOSE_FORBIDDEN = 4403


class EventForwardingMixin(_Consumer):
    """Put before the Channels consumer class: `class C(EventForwardingMixin,
    AsyncJsonWebsocketConsumer)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: list[str] = []

    async def join(self, group: str) -> None:
        """Receive what is published to `group` until the socket closes."""
        if group in self.joined:
            return
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.append(group)

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Published events touch no database: skip Channels' per-message hop to a thread to
        # close stale connections, which otherwise serialises every event for every socket.
        if message.get("type") == realtime.EVENT_HANDLER:
            await self.forward(message["event"], text=message.get("text"))
            return
        await super().dispatch(message)

    async def forward(self, event: dict[str, Any], *, text: str | None = None) -> None:
        """Send one published event to the browser (as `send_json` would): `text`, the event
        as JSON, encoded once by `kefu.realtime.publish` for every socket it reaches. A
        consumer that passes on only some events, or encodes them otherwise, overrides
        this."""
        await self.send(text_data=text if text is not None else json.dumps(event))
