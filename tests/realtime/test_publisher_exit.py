"""The realtime publisher of a process that exits cleanly sends what it still had queued."""

import asyncio
import os
import subprocess
import sys
import uuid

from channels.layers import get_channel_layer

from tests.support.environment import requires_redis

# Below the layer's capacity per socket (100), which would drop the oldest.
EVENTS = 90

PUBLISH_AND_EXIT = """
import sys
import django

django.setup()
from kefu import realtime

for index in range(int(sys.argv[2])):
    realtime.publish([sys.argv[1]], {"type": "test.flush", "index": index})
sys.exit(0)
"""


@requires_redis
async def test_events_queued_when_a_process_exits_cleanly_are_still_sent():
    layer = get_channel_layer()
    assert layer is not None
    # Subscribed in this test's event loop, which stays open while the other process sends.
    channel = await layer.new_channel()
    group = f"flush.{uuid.uuid4().hex[:12]}"
    await layer.group_add(group, channel)

    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", PUBLISH_AND_EXIT, group, str(EVENTS)],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "kefu.settings"},
        check=True,
        timeout=60,
    )

    received: list[int] = []
    while True:
        try:
            message = await asyncio.wait_for(layer.receive(channel), timeout=2)
        except TimeoutError:
            break
        received.append(message["event"]["index"])
    await layer.group_discard(group, channel)
    assert received == list(range(EVENTS))
