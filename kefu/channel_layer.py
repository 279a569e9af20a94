"""The Redis channel layer, sending one event to several groups with fewer round trips, and
ending a cancelled receive.

An event goes to three or four groups (the ticket's, its team's, its agent's, the board) and
often nobody is in some of them: an agent who is offline, a board nobody has open, a ticket
no page shows. `channels_redis` asks Redis about each group separately, two round trips even
for an empty one; publishing cost more than a millisecond of the sending process's CPU per
ticket. `group_send_many` asks about all of them in one pipelined round trip per Redis host
and sends only to groups someone is in.

A socket that closes cancels its receive. On Python 3.11 redis-py sends every command under
`asyncio.wait_for`, which drops a cancellation that arrives just as the send completes
(fixed in 3.12); `channels_redis` then went on with its blocking read, in a loop that only a
message ends, so the closed socket's consumer lived on, polling Redis every 5 s, for as long
as the process did. The layer now checks, after each blocking read, whether its task was
asked to stop.
"""

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer


class RedisChannelLayer(_RedisChannelLayer):
    async def group_send_many(self, groups: Iterable[str], message: dict[str, Any]) -> None:
        """`group_send(group, message)` for each group that has members, in the given order.
        Memberships past `group_expiry` are dropped on the way, as `group_send` drops them."""
        ordered = list(groups)
        by_host: dict[int, list[str]] = {}
        for group in ordered:
            assert self.require_valid_group_name(group), "Group name not valid"
            by_host.setdefault(self.consistent_hash(group), []).append(group)
        occupied: set[str] = set()
        expired_before = int(time.time()) - self.group_expiry
        for index, names in by_host.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for group in names:
                key = self._group_key(group)
                pipe.zremrangebyscore(key, min=0, max=expired_before)
                pipe.zcard(key)
            counts = (await pipe.execute())[1::2]
            occupied.update(group for group, count in zip(names, counts, strict=True) if count)
        for group in ordered:
            if group in occupied:
                await self.group_send(group, message)

    async def _brpop_with_clean(self, index: int, channel: str, timeout: int) -> Any:
        member = await super()._brpop_with_clean(index, channel, timeout)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # A cancellation redis-py's send dropped. A message already popped stays in the
            # channel's backup queue, and the next receive puts it back.
            raise asyncio.CancelledError
        return member
