"""Two tickets created at once must not both take an agent's last place (PostgreSQL: the
agent's row is locked and the load counted again under the lock)."""

import threading

import pytest
from django.db import connection, connections

from tests.factories import app_message, make_agent
from tickets.models import Agent, Channel, ChannelCapacity, Ticket
from tickets.services import assignment
from tickets.services.intake import intake_message

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite serialises)"
    ),
]


def _race(monkeypatch, count: int) -> list[Ticket]:  # type: ignore[no-untyped-def]
    """`count` intakes at once; each has counted the agents' loads (all room) before any of
    them locks an agent, the widest window a race can have."""
    barrier = threading.Barrier(count, timeout=20)
    real_lock = assignment._lock
    waited: set[int] = set()

    def lock_after_everyone_counted(agent_id: int, *, skip_locked: bool) -> bool:
        me = threading.get_ident()
        if me not in waited:
            waited.add(me)
            barrier.wait()
        return real_lock(agent_id, skip_locked=skip_locked)

    monkeypatch.setattr(assignment, "_lock", lock_after_everyone_counted)
    results: list[Ticket] = []
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            inbound = app_message(user_id=f"race-{n}", channel=Channel.CHAT)
            results.append(intake_message(inbound=inbound).ticket)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_tickets_at_once_do_not_both_take_the_last_place(default_team, monkeypatch):
    agent = make_agent(teams=[default_team], capacity=1)

    tickets = _race(monkeypatch, 2)

    assignees = sorted((t.assignee_id for t in tickets), key=lambda a: a or 0)
    assert assignees == [None, agent.pk]
    assert Ticket.objects.filter(assignee=agent, is_open=True).count() == 1


def test_a_channel_limit_holds_under_a_burst_and_the_rest_go_to_colleagues(
    default_team, monkeypatch
):
    first = make_agent(teams=[default_team])
    second = make_agent(teams=[default_team])
    for agent in (first, second):
        ChannelCapacity.objects.create(agent=agent, channel=Channel.CHAT, limit=2)

    tickets = _race(monkeypatch, 5)

    loads = {
        agent.pk: Ticket.objects.filter(assignee=agent, channel=Channel.CHAT).count()
        for agent in Agent.objects.all()
    }
    assert loads == {first.pk: 2, second.pk: 2}
    assert sum(1 for t in tickets if t.assignee_id is None) == 1
