"""Presence over the agent's websocket: the first socket brings the agent online, the last
one closing takes them offline, the page's input brings an idle agent back; the board hears
each change."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from tests.factories import TeamFactory, UserFactory, make_agent
from tests.support.presence import sockets_reset
from tests.support.sockets import communicator, receive_until, session_cookie_for
from tickets.models import Agent, AgentStatus
from tickets.presence_sockets import sockets_open
from tickets.services.presence import presence_sweep

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _sockets(transactional_db):  # type: ignore[no-untyped-def]
    sockets_reset()
    yield
    sockets_reset()


def _offline_agent_and_boss():  # type: ignore[no-untyped-def]
    team = TeamFactory(is_default=True)
    agent = make_agent(teams=[team], status=AgentStatus.OFFLINE)
    boss = UserFactory(role="supervisor")
    return agent, session_cookie_for(agent.user), session_cookie_for(boss)


async def _counted(agent: Agent, sockets: int) -> None:
    """Wait until the agent's open sockets are counted (each socket's presence is written
    in a task of its own, after the socket is accepted)."""
    for _ in range(100):
        if sockets_open([agent.pk])[agent.pk] == sockets:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {sockets} sockets")


async def _status(agent: Agent) -> tuple[str, bool]:
    fresh = await database_sync_to_async(Agent.objects.get)(pk=agent.pk)
    return fresh.status, fresh.status_is_auto


async def test_the_first_socket_brings_the_agent_online_and_the_last_takes_them_offline():
    agent, cookie, boss_cookie = await database_sync_to_async(_offline_agent_and_boss)()
    board = communicator("/ws/board/", boss_cookie)
    assert (await board.connect())[0]

    first = communicator("/ws/agent/", cookie)
    assert (await first.connect())[0]
    event = await receive_until(board, "agent.presence")
    assert event["agent"] == {"id": agent.pk, "user_id": agent.user_id, "status": "online"}
    assert await _status(agent) == (AgentStatus.ONLINE, False)

    second = communicator("/ws/agent/", cookie)
    assert (await second.connect())[0]
    await _counted(agent, 2)
    await first.disconnect()
    assert await _status(agent) == (AgentStatus.ONLINE, False)

    await second.disconnect()
    event = await receive_until(board, "agent.presence")
    assert event["agent"]["status"] == "offline"
    assert await _status(agent) == (AgentStatus.OFFLINE, True)
    await board.disconnect()


async def test_the_agents_own_pages_hear_their_status_change():
    _agent, cookie, _boss = await database_sync_to_async(_offline_agent_and_boss)()
    socket = communicator("/ws/agent/", cookie)
    assert (await socket.connect())[0]
    assert (await receive_until(socket, "agent.presence"))["agent"]["status"] == "online"

    await socket.send_json_to({"type": "presence.heartbeat"})
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_input_on_the_page_brings_an_idle_agent_back():
    agent, cookie, _boss = await database_sync_to_async(_offline_agent_and_boss)()
    socket = communicator("/ws/agent/", cookie)
    assert (await socket.connect())[0]
    assert (await receive_until(socket, "agent.presence"))["agent"]["status"] == "online"
    await database_sync_to_async(Agent.objects.filter(pk=agent.pk).update)(last_activity_at=None)
    await database_sync_to_async(presence_sweep)()
    assert await _status(agent) == (AgentStatus.AWAY, True)
    assert (await receive_until(socket, "agent.presence"))["agent"]["status"] == "away"

    await socket.send_json_to({"type": "presence.activity"})

    assert (await receive_until(socket, "agent.presence"))["agent"]["status"] == "online"
    assert await _status(agent) == (AgentStatus.ONLINE, False)
    await socket.disconnect()


async def test_sockets_that_are_refused_do_not_count():
    user = await database_sync_to_async(UserFactory)()
    cookie = await database_sync_to_async(session_cookie_for)(user)

    connected, code = await communicator("/ws/agent/", cookie).connect()

    assert (connected, code) == (False, 4403)


async def test_a_supervisor_without_an_agent_record_connects_without_presence():
    await database_sync_to_async(TeamFactory)(is_default=True)
    boss = await database_sync_to_async(UserFactory)(role="supervisor")
    cookie = await database_sync_to_async(session_cookie_for)(boss)
    socket = communicator("/ws/agent/", cookie)

    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "presence.activity"})
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()
