"""A socket that closes stops receiving: its receive on the Redis layer ends when cancelled,
whatever step of the receive the cancellation lands on. (On Python 3.11, redis-py sends each
command under asyncio.wait_for, which drops a cancellation arriving as the send completes;
the layer's blocking-read loop then ran on for ever.)"""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

from tests.support.environment import requires_redis


@requires_redis
def test_a_receive_ends_when_cancelled_at_any_step():
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    layer.brpop_timeout = 1  # each blocking read 1 s instead of 5: the test waits less

    async def cancel_after(steps: int) -> bool:
        channel = await layer.new_channel()
        receiving = asyncio.ensure_future(layer.receive(channel))
        for _ in range(steps):
            await asyncio.sleep(0)
        receiving.cancel()
        done, _pending = await asyncio.wait([receiving], timeout=3)  # past one blocking read
        return bool(done)

    async def every_step() -> list[int]:
        return [steps for steps in range(40) if not await cancel_after(steps)]

    assert async_to_sync(every_step)() == []
