"""Websocket consumers against the configured channel layer (Redis when REDIS_URL is set)."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from tests.factories import TeamFactory, app_message, make_agent
from tests.support.environment import requires_redis
from tests.support.sockets import communicator, receive_until, session_cookie_for
from tickets.services.intake import intake_message

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


async def test_an_agent_socket_receives_ticket_created_after_the_intake_commits():
    team = await database_sync_to_async(TeamFactory)(is_default=True)
    agent = await database_sync_to_async(make_agent)(teams=[team])
    cookie = await database_sync_to_async(session_cookie_for)(agent.user)
    socket = communicator("/ws/agent/", cookie)
    connected, _code = await socket.connect()
    assert connected

    result = await database_sync_to_async(intake_message)(
        inbound=app_message(text="我的快递到哪了", provider_id="ws-1")
    )

    event = await receive_until(socket, "ticket.created")
    assert event["ticket"]["number"] == result.ticket.number
    assert event["ticket"]["team_id"] == team.pk
    assert "phone" not in str(event)
    await socket.disconnect()


async def test_an_agent_of_another_team_hears_nothing():
    team = await database_sync_to_async(TeamFactory)(is_default=True)
    other = await database_sync_to_async(TeamFactory)()
    outsider = await database_sync_to_async(make_agent)(teams=[other])
    cookie = await database_sync_to_async(session_cookie_for)(outsider.user)
    socket = communicator("/ws/agent/", cookie)
    connected, _code = await socket.connect()
    assert connected

    result = await database_sync_to_async(intake_message)(inbound=app_message(provider_id="ws-2"))

    assert result.ticket.team_id == team.pk
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_a_socket_without_a_session_is_refused():
    socket = communicator("/ws/agent/")

    connected, code = await socket.connect()

    assert connected is False
    assert code == 4403


async def test_a_user_without_a_staff_role_is_refused_on_both_sockets():
    from tests.factories import UserFactory

    user = await database_sync_to_async(UserFactory)()
    cookie = await database_sync_to_async(session_cookie_for)(user)

    for path in ("/ws/agent/", "/ws/board/"):
        connected, code = await communicator(path, cookie).connect()
        assert (path, connected, code) == (path, False, 4403)


async def test_the_board_refuses_agents_and_serves_supervisors():
    team = await database_sync_to_async(TeamFactory)(is_default=True)
    agent = await database_sync_to_async(make_agent)(teams=[team])
    boss = await database_sync_to_async(make_agent)(teams=[team], role="supervisor")
    agent_cookie = await database_sync_to_async(session_cookie_for)(agent.user)
    boss_cookie = await database_sync_to_async(session_cookie_for)(boss.user)

    refused, code = await communicator("/ws/board/", agent_cookie).connect()
    board = communicator("/ws/board/", boss_cookie)
    accepted, _ = await board.connect()
    await database_sync_to_async(intake_message)(inbound=app_message(provider_id="ws-3"))
    event = await receive_until(board, "ticket.created")

    assert (refused, code, accepted) == (False, 4403, True)
    assert event["ticket"]["team_id"] == team.pk
    await board.disconnect()


async def test_watching_a_ticket_of_another_team_is_refused():
    team = await database_sync_to_async(TeamFactory)(is_default=True)
    other = await database_sync_to_async(TeamFactory)()
    outsider = await database_sync_to_async(make_agent)(teams=[other])
    result = await database_sync_to_async(intake_message)(inbound=app_message(provider_id="ws-4"))
    cookie = await database_sync_to_async(session_cookie_for)(outsider.user)
    socket = communicator("/ws/agent/", cookie)
    await socket.connect()

    await socket.send_json_to({"type": "ticket.watch", "number": result.ticket.number})

    assert await socket.receive_json_from(timeout=5) == {"type": "error", "error": "no such ticket"}
    await socket.disconnect()
    assert result.ticket.team_id == team.pk


def test_anonymous_users_have_no_role():
    from kefu.roles import Role, has_role, user_roles

    assert user_roles(AnonymousUser()) == set()
    assert [role for role in Role.ALL if has_role(AnonymousUser(), role)] == []


@requires_redis
def test_a_burst_of_events_is_sent_in_order_without_exhausting_the_layers_connections(caplog):
    # An SLA tick can fire a thousand breaches at once. Each event used to start its own
    # send, and those beyond the layer's connection pool failed.
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from kefu import realtime

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("test.burst", channel)
    try:
        with caplog.at_level("ERROR", logger="kefu.realtime"):
            for index in range(1000):
                realtime.publish(["test.burst.empty", "board.none"], {"type": "x", "n": index})
            for index in range(50):  # within the channel's capacity
                realtime.publish(["test.burst"], {"type": "x", "n": index})
            realtime.wait_sent(timeout=60)

        assert [r for r in caplog.records if r.name == "kefu.realtime"] == []

        async def received() -> list[int]:
            return [(await layer.receive(channel))["event"]["n"] for _ in range(50)]

        assert async_to_sync(received)() == list(range(50))
    finally:
        async_to_sync(layer.group_discard)("test.burst", channel)


@requires_redis
def test_one_event_to_several_groups_reaches_each_member_and_skips_empty_groups(monkeypatch):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from kefu import realtime
    from kefu.channel_layer import RedisChannelLayer

    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    in_team, in_both = (async_to_sync(layer.new_channel)() for _ in range(2))
    async_to_sync(layer.group_add)("test.team", in_team)
    async_to_sync(layer.group_add)("test.team", in_both)
    async_to_sync(layer.group_add)("test.board", in_both)
    sent_to: list[str] = []
    group_send = layer.group_send

    async def counted(group, message):  # type: ignore[no-untyped-def]
        sent_to.append(group)
        await group_send(group, message)

    monkeypatch.setattr(layer, "group_send", counted)
    try:
        realtime.publish(["test.nobody", "test.team", "test.board"], {"type": "x", "n": 1})
        realtime.wait_sent(timeout=10)

        assert sent_to == ["test.team", "test.board"]

        async def received(channel: str, count: int) -> list[int]:
            return [(await layer.receive(channel))["event"]["n"] for _ in range(count)]

        assert async_to_sync(received)(in_team, 1) == [1]
        assert async_to_sync(received)(in_both, 2) == [1, 1]  # once per group, as before
    finally:
        for group, channel in (("test.team", in_team), ("test.team", in_both)):
            async_to_sync(layer.group_discard)(group, channel)
        async_to_sync(layer.group_discard)("test.board", in_both)
