"""The realtime publisher of a process that exits cleanly sends what it still had queued."""

import os
import subprocess
import sys
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tests.support.environment import requires_redis
from tests.support.sockets import layer_messages

# Below channels_redis's default capacity per channel (100), which would drop the rest.
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
def test_events_queued_when_a_process_exits_cleanly_are_still_sent():
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    group = f"flush.{uuid.uuid4().hex[:12]}"
    async_to_sync(layer.group_add)(group, channel)

    subprocess.run(  # noqa: S603
        [sys.executable, "-c", PUBLISH_AND_EXIT, group, str(EVENTS)],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "kefu.settings"},
        check=True,
        timeout=60,
    )

    messages = async_to_sync(layer_messages)(layer, channel, quiet=2)
    received = [message["event"]["index"] for message in messages]
    async_to_sync(layer.group_discard)(group, channel)
    assert received == list(range(EVENTS))
