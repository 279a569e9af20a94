"""The Redis channel layer, sending one event to several groups with fewer round trips, and
ending a cancelled receive.

An event goes to three or four groups (the ticket's, its team's, its agent's, the board) and
often nobody is in some of them: an agent who is offline, a board nobody has open, a ticket
no page shows. `channels_redis` asks Redis about each group separately, two round trips even
for an empty one; publishing cost more than a millisecond of the sending process's CPU per
ticket. `group_send_batch` takes several events at once (what waits in the publisher's
backlog: a bulk action of 500 tickets publishes 500 or more), asks about all their groups in
one round trip per Redis host (a Lua script), and sends each event only to its groups that
someone is in.

A socket that closes cancels its receive. On Python 3.11 redis-py sends every command under
`asyncio.wait_for`, which drops a cancellation that arrives just as the send completes
(fixed in 3.12); `channels_redis` then went on with its blocking read, in a loop that only a
message ends, so the closed socket's consumer lived on, polling Redis every 5 s, for as long
as the process did. The layer now checks, after each blocking read, whether its task was
asked to stop.
"""

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer

# The positions (from 1) of the group keys that still have members once the memberships
# older than ARGV[1] are dropped: one command and one short answer for all of a batch's
# groups. As a pipeline of ZREMRANGEBYSCORE and ZCARD per group, reading back two answers
# per group cost the sending thread more than the rest of the send (a batch of 200 events
# has some 600 groups: every event has its own ticket's).
_OCCUPIED = """
local found = {}
for position, key in ipairs(KEYS) do
    redis.call('ZREMRANGEBYSCORE', key, 0, ARGV[1])
    if redis.call('ZCARD', key) > 0 then
        found[#found + 1] = position
    end
end
return found
"""


class RedisChannelLayer(_RedisChannelLayer):
    async def group_send_batch(self, sends: Sequence[tuple[Sequence[str], dict[str, Any]]]) -> None:
        """For each (groups, message) in turn, `group_send(group, message)` to each of its
        groups that has members, once each, in the given order; one round trip per Redis host
        finds the groups of all of them that have members. Memberships past `group_expiry` are
        dropped on the way, as `group_send` drops them."""
        by_host: dict[int, dict[str, None]] = {}  # each host's groups, once each, in order
        for groups, _message in sends:
            for group in groups:
                assert self.require_valid_group_name(group), "Group name not valid"
                by_host.setdefault(self.consistent_hash(group), {})[group] = None
        occupied: set[str] = set()
        expired_before = int(time.time()) - self.group_expiry
        for index, hosted in by_host.items():
            names = list(hosted)
            keys = [self._group_key(group) for group in names]
            found = await self.connection(index).eval(_OCCUPIED, len(keys), *keys, expired_before)
            occupied.update(names[int(position) - 1] for position in found)
        for groups, message in sends:
            for group in dict.fromkeys(groups):  # a group named twice gets the event once
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
