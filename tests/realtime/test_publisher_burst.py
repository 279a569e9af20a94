"""A burst of events: what waits in the publisher's backlog goes out together and in order,
and a backlog that overflows reports its drops in one line, not one per event."""

import asyncio
import logging
import threading
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from kefu import realtime
from tests.support.environment import requires_redis
from tests.support.sockets import layer_messages

# Below channels_redis's default capacity per channel (100), which would drop the rest.
EVENTS = 60


@requires_redis
def test_a_burst_goes_out_in_batches_in_order_and_only_to_occupied_groups(monkeypatch):
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    occupied = f"burst.{uuid.uuid4().hex[:12]}"
    empty = f"burst.{uuid.uuid4().hex[:12]}"
    async_to_sync(layer.group_add)(occupied, channel)
    held = threading.Event()
    batches: list[int] = []
    send_batch = layer.group_send_batch

    async def counted(sends):  # type: ignore[no-untyped-def]
        batches.append(len(sends))
        while not held.is_set():  # the first send waits until the burst is queued
            await asyncio.sleep(0.01)
        await send_batch(sends)

    monkeypatch.setattr(layer, "group_send_batch", counted, raising=False)
    for index in range(EVENTS):
        realtime.publish([empty, occupied], {"type": "test.burst", "index": index})
    held.set()
    realtime.wait_sent()

    received = [m["event"]["index"] for m in async_to_sync(layer_messages)(layer, channel)]
    async_to_sync(layer.group_discard)(occupied, channel)
    assert received == list(range(EVENTS))
    assert sum(batches) == EVENTS
    # The sender was held on its first batch while the rest waited: they went together.
    assert len(batches) <= 4


class _StuckLayer:
    """A layer whose sends never finish until released: the backlog only grows."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.taken: list[int] = []

    async def group_send_batch(self, sends):  # type: ignore[no-untyped-def]
        self.taken.append(len(sends))
        while not self.release.is_set():
            await asyncio.sleep(0.01)


def test_an_overflowing_backlog_reports_its_drops_once_with_the_count(monkeypatch, caplog):
    monkeypatch.setattr(realtime, "QUEUE_LIMIT", 5)
    monkeypatch.setattr(realtime, "_backlog", realtime._Drops())
    layer = _StuckLayer()
    publisher = realtime._Publisher()
    before = realtime.backlog_dropped()
    try:
        with caplog.at_level(logging.ERROR, logger="kefu.realtime"):
            for index in range(25):
                publisher.submit(layer, ["g"], {"event": {"type": "test.overflow", "i": index}})
            # Everything submitted has been put in the queue, or dropped, once this runs.
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), publisher.loop).result(5)
    finally:
        layer.release.set()
    publisher.wait_sent(5)
    dropped = realtime.backlog_dropped() - before
    messages = [r.getMessage() for r in caplog.records if r.name == "kefu.realtime"]
    # The sender held at most one queue's worth, at most five waited: the rest was dropped.
    assert dropped == 25 - sum(layer.taken)
    assert dropped >= 15
    assert len(messages) == 1
    assert "backlog full (5 events waiting): 1 event(s) not sent" in messages[0]
    assert "test.overflow" in messages[0]


@requires_redis
def test_a_batch_skips_expired_memberships_and_keeps_order_across_groups():
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    stale_channel = async_to_sync(layer.new_channel)()
    live, stale, nobody = (f"batch.{uuid.uuid4().hex[:12]}" for _ in range(3))
    async_to_sync(layer.group_add)(live, channel)
    async_to_sync(layer.group_add)(stale, stale_channel)

    async def expire_and_send() -> None:
        # The stale group's one membership is older than the layer's group expiry.
        connection = layer.connection(layer.consistent_hash(stale))
        await connection.zadd(layer._group_key(stale), {stale_channel: 1})
        await layer.group_send_batch(
            [
                ([nobody, live], {"type": "kefu.event", "index": 0}),
                ([stale], {"type": "kefu.event", "index": 1}),
                ([live, nobody, live], {"type": "kefu.event", "index": 2}),
            ]
        )
        assert await connection.zcard(layer._group_key(stale)) == 0

    async_to_sync(expire_and_send)()
    received = [m["index"] for m in async_to_sync(layer_messages)(layer, channel)]
    stale_received = async_to_sync(layer_messages)(layer, stale_channel)
    async_to_sync(layer.group_discard)(live, channel)
    # A group named twice in one event gets it once.
    assert received == [0, 2]
    assert stale_received == []
