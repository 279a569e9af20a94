"""Live events of the timeline over a real agent websocket: a message on a ticket the agent
may not open reaches them in no form, even while they watch another ticket of the customer."""

import pytest
from channels.db import database_sync_to_async

from tests.factories import TeamFactory, app_message, make_agent
from tests.support.sockets import communicator, receive_until, session_cookie_for
from tickets.models import Status, Ticket
from tickets.services.intake import intake_message

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _customer_with_two_teams() -> tuple[Ticket, Ticket]:
    """Ticket `theirs` (another team, still open) and `mine` (the default team, by SMS) of
    one customer."""
    other = TeamFactory()
    theirs = intake_message(inbound=app_message(user_id="u1", phone="13800138000")).ticket
    Ticket.objects.filter(pk=theirs.pk).update(team=other, assignee=None, status=Status.OPEN)
    mine = intake_message(inbound=app_message(phone="13800138000", channel="sms")).ticket
    return mine, Ticket.objects.get(pk=theirs.pk)


async def test_a_message_on_another_teams_ticket_of_the_customer_is_not_sent_to_the_agent():
    team = await database_sync_to_async(TeamFactory)(is_default=True)
    agent = await database_sync_to_async(make_agent)(teams=[team])
    mine, theirs = await database_sync_to_async(_customer_with_two_teams)()
    assert mine.team_id == team.pk and theirs.team_id != team.pk
    socket = communicator(
        "/ws/agent/", await database_sync_to_async(session_cookie_for)(agent.user)
    )
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "ticket.watch", "number": mine.number})
    await receive_until(socket, "ticket.watching")

    written = "我的身份证11010519491231002X，电话13912345678"
    result = await database_sync_to_async(intake_message)(
        inbound=app_message(user_id="u1", text=written)
    )

    assert result.ticket.pk == theirs.pk
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
