"""How many agent websockets each agent has open, across every web process.

With Redis (production, CI) each agent has a sorted set of its open sockets scored by when
each expires; a socket's process refreshes its entry every `SOCKET_REFRESH_SECONDS` while
it lives and removes it when the socket closes. A process that dies without closing its
sockets stops refreshing them, and they drop out of the count once expired: the presence
sweep then finds the agent with no socket and marks them offline. Counting and removing
are one MULTI/EXEC, so of two sockets closing at once in two processes exactly one sees
zero left.

Without Redis (embedded mode: one process) the same bookkeeping lives in this process's
memory behind a lock.
"""

import functools
import threading
import time

import redis
from django.conf import settings
from django.db import connection


def _key(agent_id: int) -> str:
    # The database's name keeps two installations (or test runs) on one Redis apart.
    return f"kefu:presence:{connection.settings_dict['NAME']}:{agent_id}"


def _ttl() -> float:
    return float(settings.KEFU_PRESENCE_SOCKET_TTL_SECONDS)


@functools.cache
def _redis() -> redis.Redis | None:
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None


def _clock() -> float:
    return time.time()


_local: dict[int, dict[str, float]] = {}
_local_lock = threading.Lock()


def _local_live(agent_id: int, now: float) -> dict[str, float]:
    sockets = _local.setdefault(agent_id, {})
    for name in [name for name, expires in sockets.items() if expires <= now]:
        del sockets[name]
    return sockets


def socket_open(*, agent_id: int, socket: str) -> int:
    """Count the socket `socket` (a channel name) as open; how many the agent has now."""
    return socket_refresh(agent_id=agent_id, socket=socket)


def socket_refresh(*, agent_id: int, socket: str) -> int:
    """Keep the socket counted for another TTL; how many the agent has open."""
    now = _clock()
    client = _redis()
    if client is None:
        with _local_lock:
            sockets = _local_live(agent_id, now)
            sockets[socket] = now + _ttl()
            return len(sockets)
    key = _key(agent_id)
    pipe = client.pipeline(transaction=True)
    pipe.zadd(key, {socket: now + _ttl()})
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.zcard(key)
    pipe.expire(key, int(_ttl()) + 1)
    return int(pipe.execute()[2])


def socket_close(*, agent_id: int, socket: str) -> int:
    """Stop counting the socket; how many the agent still has open."""
    now = _clock()
    client = _redis()
    if client is None:
        with _local_lock:
            sockets = _local_live(agent_id, now)
            sockets.pop(socket, None)
            return len(sockets)
    key = _key(agent_id)
    pipe = client.pipeline(transaction=True)
    pipe.zrem(key, socket)
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.zcard(key)
    return int(pipe.execute()[2])


def sockets_open(agent_ids: list[int]) -> dict[int, int]:
    """How many live sockets each of the agents has (expired ones left out)."""
    now = _clock()
    client = _redis()
    if client is None:
        with _local_lock:
            return {agent_id: len(_local_live(agent_id, now)) for agent_id in agent_ids}
    pipe = client.pipeline(transaction=False)
    for agent_id in agent_ids:
        pipe.zcount(_key(agent_id), f"({now}", "+inf")
    return {agent_id: int(count) for agent_id, count in zip(agent_ids, pipe.execute(), strict=True)}


def sockets_forget(agent_ids: list[int]) -> None:
    """Drop every socket of these agents (tests, and an agent deleted)."""
    client = _redis()
    if client is None:
        with _local_lock:
            for agent_id in agent_ids:
                _local.pop(agent_id, None)
        return
    if agent_ids:
        client.delete(*[_key(agent_id) for agent_id in agent_ids])
