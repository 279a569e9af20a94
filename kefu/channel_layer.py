"""Kefu's Redis channel layer: Redis pub/sub, so that an event reaches each web process once.

A team's event goes to every agent socket of the team: 200 sockets in one process for a
200-agent team. `channels_redis`'s list-based layer (`channels_redis.core`) keeps a Redis
sorted set per process and a sorted set of members per group; every socket's consumer waits
in `receive` behind one shared lock, and each event wakes all of them to take their copy,
make new tasks and wait again. Profiled under `bench/live.py`, that receiving was the
largest part of the websocket process's time (docs/realtime.md, "Fan-out cost").

`channels_redis.pubsub` publishes a group message once to the group's Redis channel; each
process subscribes once to each group that has a socket of its own, and its one reader puts
the message into the queue of each local member. This subclass adds:

- `group_send_many`: one event to several groups in one pipelined round trip per Redis host.
  A group nobody listens to costs a PUBLISH that reaches nobody; nothing to look up first.
- decoding a message once for all the local sockets it reaches, not once per socket (they
  only read it, as the list-based layer's sockets share one decoded message too);
- a bounded queue per socket (`capacity`, 100 as the list-based layer's): a socket that has
  stopped reading loses its oldest messages instead of growing without limit;
- **no silent gaps**: pub/sub delivers a message to whoever is subscribed at that moment and
  keeps nothing. When a process's subscriber connection fails or has to reconnect (Redis
  restarted, or dropped a subscriber that fell behind), events may have been published
  meanwhile that this process never got. Every socket of the process then receives
  `SUBSCRIPTION_LOST` after what it already had, and closes (`kefu.consumers`), so
  browsers reconnect and re-fetch what they show (`kefu:open`) instead of staying open and
  quietly missing events.

What changes from the list-based layer: a message to a socket (`send(channel_name, …)`, as
the viewers and chat code send) or a group is delivered only if the receiving process is
subscribed when it arrives; nothing waits in Redis for `expiry` seconds. A socket's channel
lives exactly as long as its consumer, so a message to a socket that is gone was lost in
either layer.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from channels_redis.core import BoundedQueue
from channels_redis.pubsub import RedisPubSubChannelLayer as _PubSubLayer
from channels_redis.pubsub import RedisPubSubLoopLayer as _LoopLayer
from channels_redis.pubsub import RedisSingleShardConnection as _Shard
from channels_redis.utils import _wrap_close, create_pool

logger = logging.getLogger("kefu.realtime")

DEFAULT_CAPACITY = 100


# The message every socket of a process receives when the process's Redis subscription
# failed or was renewed: messages may have been missed, so the socket closes and its browser
# reconnects and catches up.
SUBSCRIPTION_LOST = "kefu.subscription_lost"


class RedisPubSubChannelLayer(_PubSubLayer):  # type: ignore[misc]
    """`channels_redis.pubsub.RedisPubSubChannelLayer` with the additions above. CONFIG:
    `hosts`, `prefix`, `capacity` (messages queued per socket, default 100)."""

    def _get_layer(self) -> "_KefuLoopLayer":
        # channels_redis's, making our loop layer: one per event loop, closed with it.
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _KefuLoopLayer(
                *self._args, **self._kwargs, channel_layer=self
            )
            _wrap_close(self, loop)
        assert isinstance(layer, _KefuLoopLayer)
        return layer

    async def group_send_many(self, groups: Iterable[str], message: dict[str, Any]) -> None:
        """`group_send(group, message)` for each group, in the given order, in one round
        trip per Redis host."""
        await self._get_layer().group_send_many(groups, message)


class _KefuLoopLayer(_LoopLayer):  # type: ignore[misc]
    _shards: list["_KefuShard"]
    channels: dict[str, BoundedQueue]
    groups: dict[str, set[str]]

    def __init__(
        self,
        hosts: list[Any] | None = None,
        prefix: str = "asgi",
        *,
        capacity: int = DEFAULT_CAPACITY,
        **kwargs: Any,
    ) -> None:
        super().__init__(hosts, prefix, **kwargs)
        # Pub/sub channels belong to the whole Redis server, not to one of its numbered
        # databases as the list-based layer's keys do: two installations (or test runs)
        # sharing a server on different databases would hear each other's events.
        database = create_pool(self._shards[0].host).connection_kwargs.get("db", 0)
        self.prefix = f"{prefix}.{database}."
        self.capacity = capacity
        self._shards = [_KefuShard(shard.host, self) for shard in self._shards]

    async def _subscribe_to_channel(self, channel: str) -> None:
        # Subscribed first: a reconnect that this subscribe itself makes (Redis is back)
        # ends the sockets that were there before, not this new one; and a subscribe that
        # fails leaves no queue behind.
        await self._get_shard(channel).subscribe(channel)
        self.channels[channel] = BoundedQueue(self.capacity)

    async def receive(self, channel: str) -> dict[str, Any]:
        # channels_redis's receive, with the message already decoded by the shard's reader
        # (once for every local socket it goes to).
        if channel not in self.channels:
            await self._subscribe_to_channel(channel)
        queue = self.channels[channel]
        try:
            message = await queue.get()
        except (asyncio.CancelledError, TimeoutError, GeneratorExit):
            # The consumer is ending: stop listening on its channel.
            if channel in self.channels:
                del self.channels[channel]
                try:
                    await self._get_shard(channel).unsubscribe(channel)
                except BaseException:
                    logger.exception("could not unsubscribe channel %s", channel)
            raise
        assert isinstance(message, dict)
        return message

    async def group_send_many(self, groups: Iterable[str], message: dict[str, Any]) -> None:
        by_shard: dict[int, list[str]] = {}
        for group in groups:
            name = self._get_group_channel_name(group)
            by_shard.setdefault(id(self._get_shard(name)), []).append(name)
        if not by_shard:
            return
        data = self.channel_layer.serialize(message)
        for shard in self._shards:
            names = by_shard.get(id(shard))
            if names:
                await shard.publish_many(names, data)

    def subscription_lost(self) -> None:
        """Tell every socket of this loop that what they were sent meanwhile may be lost."""
        for queue in self.channels.values():
            queue.put_nowait({"type": SUBSCRIPTION_LOST})


class _KefuShard(_Shard):  # type: ignore[misc]
    channel_layer: _KefuLoopLayer

    def __init__(self, host: dict[str, Any], channel_layer: _KefuLoopLayer) -> None:
        super().__init__(host, channel_layer)
        self._watched: Any = None
        self._failing = False

    async def publish_many(self, names: list[str], data: bytes) -> None:
        async with self._lock:
            self._ensure_redis()
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                pipe.publish(name, data)
            await pipe.execute()

    async def subscribe(self, channel: str) -> None:
        await super().subscribe(channel)
        self._watch_reconnects()

    def _watch_reconnects(self) -> None:
        # redis-py reconnects a subscriber by itself and subscribes it again, but what was
        # published in between never arrives: hear of every reconnect.
        connection = self._pubsub.connection if self._pubsub is not None else None
        if connection is not None and connection is not self._watched:
            connection.register_connect_callback(self._reconnected)
            self._watched = connection

    async def _reconnected(self, _connection: Any) -> None:
        logger.warning("channel layer subscriber reconnected: ending this process's sockets")
        self.channel_layer.subscription_lost()

    async def flush(self) -> None:
        await super().flush()
        self._watched = None

    async def _do_receiving(self) -> None:
        while True:
            try:
                if self._pubsub is not None and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    if self._failing:
                        self._failing = False
                        logger.warning("channel layer subscriber works again")
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, TimeoutError, GeneratorExit):
                raise
            except Exception as error:
                # Redis is unreachable: the sockets waiting here would hear nothing more.
                if not self._failing:
                    self._failing = True
                    logger.warning("channel layer subscriber failed (%r)", error)
                    self.channel_layer.subscription_lost()
                await asyncio.sleep(1)

    def _receive_message(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        if name in layer.channels:
            targets: Iterable[str] = (name,)
        elif name in layer.groups:
            targets = layer.groups[name]
        else:
            return
        decoded = layer.channel_layer.deserialize(message["data"])
        for channel in targets:
            queue = layer.channels.get(channel)
            if queue is not None:
                queue.put_nowait(decoded)
