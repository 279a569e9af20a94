"""A socket with nothing to receive for longer than the layer's blocking read keeps waiting
(redis-py's read timeout is longer than the layer's 5 s BZPOPMIN), and gets the next event."""

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tests.support.environment import requires_redis


@requires_redis
def test_an_idle_receive_outlasts_the_layers_blocking_read():
    layer = get_channel_layer()
    assert layer is not None

    async def idle_then_event() -> tuple[dict, float]:
        channel = await layer.new_channel()
        started = time.monotonic()

        async def later() -> None:
            await asyncio.sleep(7)  # past the 5 s block and redis-py's default 5 s read
            await layer.send(channel, {"type": "test.late"})

        sender = asyncio.create_task(later())
        message = await asyncio.wait_for(layer.receive(channel), timeout=20)
        await sender
        return message, time.monotonic() - started

    message, waited = async_to_sync(idle_then_event)()

    assert message["type"] == "test.late"
    assert waited >= 7
