"""Who else has a ticket open and who is typing a reply, between the agent sockets of the
ticket's page (tickets/viewers.py), against the configured channel layer."""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.factories import TeamFactory, app_message, make_agent
from tests.support.sockets import communicator, receive_until, session_cookie_for
from tickets.services.intake import intake_message

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


async def _agent(team: Any, *, name: str, role: str = "agent") -> Any:
    def make() -> Any:
        agent = make_agent(teams=[team], role=role)
        agent.user.first_name = name
        agent.user.save(update_fields=["first_name"])
        return agent

    return await database_sync_to_async(make)()


async def _open_page(agent: Any, number: str) -> WebsocketCommunicator:
    """An agent's socket watching the ticket, as its page does."""
    cookie = await database_sync_to_async(session_cookie_for)(agent.user)
    socket = communicator("/ws/agent/", cookie)
    connected, _code = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "ticket.watch", "number": number})
    await receive_until(socket, "ticket.watching")
    return socket


async def _ticket() -> Any:
    team = await database_sync_to_async(TeamFactory)(is_default=True)
    result = await database_sync_to_async(intake_message)(
        inbound=app_message(text="我的快递到哪了", phone="13800138000")
    )
    return team, result.ticket


async def test_viewers_learn_of_each_other_and_of_who_leaves():
    team, ticket = await _ticket()
    alice = await _agent(team, name="Alice")
    bob = await _agent(team, name="Bob")
    a = await _open_page(alice, ticket.number)

    b = await _open_page(bob, ticket.number)
    bob_seen_by_a = await receive_until(a, "viewing.joined")
    alice_seen_by_b = await receive_until(b, "viewing.joined")
    await b.disconnect()
    left = await receive_until(a, "viewing.left")

    assert bob_seen_by_a["number"] == ticket.number
    assert bob_seen_by_a["viewer"] == {"id": bob.user.pk, "name": "Bob"}
    assert alice_seen_by_b["viewer"] == {"id": alice.user.pk, "name": "Alice"}
    assert left == {
        "type": "viewing.left",
        "number": ticket.number,
        "connection": bob_seen_by_a["connection"],
    }
    # Staff names only: nothing of the customer travels with these events.
    assert "13800138000" not in str([bob_seen_by_a, alice_seen_by_b, left])
    assert "我的快递" not in str([bob_seen_by_a, alice_seen_by_b, left])
    await a.disconnect()


async def test_typing_is_passed_to_the_other_viewers_and_stopping_too():
    team, ticket = await _ticket()
    alice = await _agent(team, name="Alice")
    bob = await _agent(team, name="Bob")
    a = await _open_page(alice, ticket.number)
    b = await _open_page(bob, ticket.number)
    await receive_until(a, "viewing.joined")
    await receive_until(b, "viewing.joined")

    await b.send_json_to({"type": "ticket.typing", "number": ticket.number, "typing": True})
    started = await receive_until(a, "viewing.typing")
    await b.send_json_to({"type": "ticket.typing", "number": ticket.number, "typing": False})
    stopped = await receive_until(a, "viewing.typing")

    assert (started["viewer"]["name"], started["typing"]) == ("Bob", True)
    assert (stopped["viewer"]["name"], stopped["typing"]) == ("Bob", False)
    # The typist's own page is not told about itself.
    assert await b.receive_nothing(timeout=0.3)
    await a.disconnect()
    await b.disconnect()


async def test_a_viewer_who_comes_while_someone_types_sees_them_typing():
    team, ticket = await _ticket()
    alice = await _agent(team, name="Alice")
    bob = await _agent(team, name="Bob")
    a = await _open_page(alice, ticket.number)
    await a.send_json_to({"type": "ticket.typing", "number": ticket.number, "typing": True})

    b = await _open_page(bob, ticket.number)
    alice_seen_by_b = await receive_until(b, "viewing.joined")

    assert (alice_seen_by_b["viewer"]["name"], alice_seen_by_b["typing"]) == ("Alice", True)
    await a.disconnect()
    await b.disconnect()


async def test_an_agent_of_another_team_is_refused_and_nobody_sees_them():
    team, ticket = await _ticket()
    alice = await _agent(team, name="Alice")
    outsider = await _agent(await database_sync_to_async(TeamFactory)(), name="Mallory")
    a = await _open_page(alice, ticket.number)
    cookie = await database_sync_to_async(session_cookie_for)(outsider.user)
    intruder = communicator("/ws/agent/", cookie)
    await intruder.connect()

    await intruder.send_json_to({"type": "ticket.watch", "number": ticket.number})
    refused = await intruder.receive_json_from(timeout=5)
    await intruder.send_json_to({"type": "ticket.typing", "number": ticket.number, "typing": True})
    refused_typing = await intruder.receive_json_from(timeout=5)

    assert refused == {"type": "error", "error": "no such ticket"}
    assert refused_typing == {"type": "error", "error": "no such ticket"}
    assert await a.receive_nothing(timeout=0.5)
    await intruder.disconnect()
    assert await a.receive_nothing(timeout=0.3)
    await a.disconnect()


async def test_a_supervisor_of_no_team_may_view_any_ticket():
    team, ticket = await _ticket()
    alice = await _agent(team, name="Alice")
    boss = await _agent(await database_sync_to_async(TeamFactory)(), name="Boss", role="supervisor")
    a = await _open_page(alice, ticket.number)

    s = await _open_page(boss, ticket.number)
    seen = await receive_until(a, "viewing.joined")

    assert seen["viewer"]["name"] == "Boss"
    await a.disconnect()
    await s.disconnect()


async def test_two_pages_of_the_same_agent_are_two_connections():
    team, ticket = await _ticket()
    alice = await _agent(team, name="Alice")
    first = await _open_page(alice, ticket.number)

    second = await _open_page(alice, ticket.number)
    seen = await receive_until(first, "viewing.joined")
    await second.disconnect()
    left = await receive_until(first, "viewing.left")

    assert seen["viewer"]["id"] == alice.user.pk  # the page leaves its own user out
    assert left["connection"] == seen["connection"]
    await first.disconnect()


def test_viewing_event_payloads():
    from tickets import events

    viewer = {"id": 7, "name": "Alice"}

    assert events.viewer_joined(number="T1", connection="c1", viewer=viewer, typing=False) == {
        "type": "viewing.joined",
        "number": "T1",
        "connection": "c1",
        "viewer": viewer,
        "typing": False,
    }
    assert events.viewer_left(number="T1", connection="c1") == {
        "type": "viewing.left",
        "number": "T1",
        "connection": "c1",
    }
    assert (
        events.viewer_typing(number="T1", connection="c1", viewer=viewer, typing=True)["type"]
        == "viewing.typing"
    )
