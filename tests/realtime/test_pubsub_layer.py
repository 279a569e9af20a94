"""The Redis pub/sub channel layer (kefu/channel_layer.py): one message per process for a
group, decoded once for all its local sockets; messages to one socket; and a subscription
that was interrupted tells the sockets (they close) instead of leaving them open and deaf."""

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from kefu.channel_layer import SUBSCRIPTION_LOST, RedisPubSubChannelLayer
from tests.support.environment import requires_redis

pytestmark = requires_redis


@pytest.fixture
async def layer():  # type: ignore[no-untyped-def]
    # A prefix of its own: pub/sub channels are shared by the whole Redis server.
    layer = RedisPubSubChannelLayer(
        hosts=[settings.REDIS_URL], prefix=f"test{uuid.uuid4().hex[:8]}", capacity=5
    )
    yield layer
    await layer.flush()


async def test_a_group_message_is_decoded_once_for_all_the_processs_sockets(layer, monkeypatch):
    sockets = [await layer.new_channel() for _ in range(20)]
    for channel in sockets:
        await layer.group_add("team.1", channel)
    decoded: list[bytes] = []
    deserialize = layer.deserialize

    def counted(data: bytes) -> dict:  # type: ignore[type-arg]
        decoded.append(data)
        return deserialize(data)

    monkeypatch.setattr(layer, "deserialize", counted)

    await layer.group_send_many(["team.1"], {"type": "kefu.event", "event": {"n": 1}})
    received = [await asyncio.wait_for(layer.receive(channel), 5) for channel in sockets]

    assert received == [{"type": "kefu.event", "event": {"n": 1}}] * 20
    assert len(decoded) == 1


async def test_group_send_many_reaches_each_group_in_order_and_nobody_else(layer):
    team, board, other = [await layer.new_channel() for _ in range(3)]
    await layer.group_add("team.1", team)
    await layer.group_add("board", board)
    await layer.group_add("team.2", other)

    await layer.group_send_many(["agent.7", "team.1", "board"], {"type": "x", "n": 1})
    await layer.group_send_many(["team.1", "team.2"], {"type": "x", "n": 2})
    await layer.group_send_many([], {"type": "x", "n": 3})

    async def take(channel: str, count: int) -> list[int]:
        return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(count)]

    assert await take(team, 2) == [1, 2]
    assert await take(board, 1) == [1]
    assert await take(other, 1) == [2]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(board), 0.3)


async def test_a_message_to_one_socket_reaches_only_that_socket(layer):
    # tickets/viewers.py answers a newcomer on its own channel.
    first, second = await layer.new_channel(), await layer.new_channel()

    await layer.send(second, {"type": "viewing.here", "connection": "abc"})

    assert await asyncio.wait_for(layer.receive(second), 5) == {
        "type": "viewing.here",
        "connection": "abc",
    }
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(first), 0.3)


async def test_a_socket_that_stopped_reading_keeps_only_its_newest_messages(layer):
    channel = await layer.new_channel()
    await layer.group_add("board", channel)

    for n in range(8):
        await layer.group_send_many(["board"], {"type": "x", "n": n})
    await asyncio.sleep(0.5)  # the reader has queued all eight by now

    kept = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(5)]
    assert kept == [3, 4, 5, 6, 7]


async def test_sockets_are_told_when_the_subscriber_connection_is_cut_and_new_ones_hear(layer):
    channel = await layer.new_channel()
    await layer.group_add("team.1", channel)
    loop_layer = layer._get_layer()
    (shard,) = loop_layer._shards
    host, port = shard._pubsub.connection._writer.get_extra_info("sockname")[:2]
    admin = aioredis.Redis.from_url(settings.REDIS_URL)
    # Only this test's own subscriber connection, by its address.
    await admin.client_kill_filter(_type="pubsub", addr=f"{host}:{port}")

    assert await asyncio.wait_for(layer.receive(channel), 10) == {"type": SUBSCRIPTION_LOST}

    await layer.group_discard("team.1", channel)
    fresh = await layer.new_channel()
    await layer.group_add("team.1", fresh)
    await layer.group_send_many(["team.1"], {"type": "x", "n": 1})
    assert (await asyncio.wait_for(layer.receive(fresh), 5))["n"] == 1
    await admin.aclose()


async def test_installations_on_different_redis_databases_do_not_share_channels():
    # Pub/sub channels are not per database: the database is part of every channel's name.
    on_14 = RedisPubSubChannelLayer(hosts=["redis://127.0.0.1:6379/14"], prefix="kefu")
    on_15 = RedisPubSubChannelLayer(hosts=[{"address": "redis://127.0.0.1:6379", "db": 15}])

    names = (await on_14.new_channel(), on_15._get_layer()._get_group_channel_name("board"))

    assert names[0].startswith("kefu.14.specific.")
    assert names[1] == "asgi.15.__group__board"
    await on_14.flush()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_an_agent_socket_closes_to_reconnect_when_its_process_may_have_missed_events():
    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer

    from kefu.consumers import CLOSE_RECONNECT
    from tests.factories import TeamFactory, make_agent
    from tests.support.sockets import communicator, session_cookie_for

    team = await database_sync_to_async(TeamFactory)(is_default=True)
    agent = await database_sync_to_async(make_agent)(teams=[team])
    cookie = await database_sync_to_async(session_cookie_for)(agent.user)
    socket = communicator("/ws/agent/", cookie)
    connected, _code = await socket.connect()
    assert connected

    get_channel_layer()._get_layer().subscription_lost()

    while (output := await socket.receive_output(timeout=5))["type"] != "websocket.close":
        pass
    assert output == {"type": "websocket.close", "code": CLOSE_RECONNECT}
    await socket.disconnect()
