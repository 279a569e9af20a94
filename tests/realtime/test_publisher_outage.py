"""While Redis is down, publishing drops events with one warning; when Redis answers again,
the same process's events reach sockets again."""

import asyncio
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from redis.exceptions import ConnectionError as RedisConnectionError

from kefu import realtime
from tests.support.environment import requires_redis


@requires_redis
def test_publishing_resumes_when_redis_answers_again(monkeypatch, caplog):
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    group = f"outage.{uuid.uuid4().hex[:12]}"
    async_to_sync(layer.group_add)(group, channel)
    monkeypatch.setattr(realtime, "_failures", realtime._Drops())
    before = realtime.publish_failures()

    async def refused(sends):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    with caplog.at_level(logging.WARNING, logger="kefu.realtime"):
        with monkeypatch.context() as down:
            down.setattr(layer, "group_send_batch", refused, raising=False)
            for index in range(3):
                realtime.publish([group], {"type": "test.outage", "index": index})
                realtime.wait_sent()  # one send each: the first warns, the others are counted
        realtime.publish([group], {"type": "test.outage", "index": 3})
        realtime.wait_sent()

    async def receive() -> int:
        message = await asyncio.wait_for(layer.receive(channel), timeout=5)
        return int(message["event"]["index"])

    received = async_to_sync(receive)()
    async_to_sync(layer.group_discard)(group, channel)
    messages = [r.getMessage() for r in caplog.records if r.name == "kefu.realtime"]
    assert received == 3
    assert realtime.publish_failures() - before == 3
    assert len(messages) == 2
    assert "dropped since the last warning" in messages[0]
    assert "works again (2 more event(s) were dropped)" in messages[1]
