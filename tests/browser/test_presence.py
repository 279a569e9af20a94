"""An agent who switches to away in the header stops getting new tickets; an online
colleague gets them, and the board's count of agents online follows."""

import time

import httpx
import pytest

from tests.browser.helpers import Watched, _orm, _sign_in
from tests.factories import TeamFactory, issue_token, make_agent
from tickets.models import Agent, AgentStatus, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def desk():  # type: ignore[no-untyped-def]
    from tests.support.presence import sockets_reset

    sockets_reset()
    team = TeamFactory(name="客服一组", is_default=True)
    # Neither has signed in yet: both offline until their page opens.
    leaving = make_agent(teams=[team], status=AgentStatus.OFFLINE)
    staying = make_agent(teams=[team], status=AgentStatus.OFFLINE)
    yield leaving, staying, issue_token("browser-presence")
    sockets_reset()


def _status_of(agent_id: int) -> str:
    return str(_orm(lambda: Agent.objects.get(pk=agent_id).status))


def _wait_status(agent_id: int, status: str) -> None:
    deadline = time.monotonic() + 10
    while _status_of(agent_id) != status:
        assert time.monotonic() < deadline, f"agent {agent_id} never became {status}"
        time.sleep(0.1)


def test_an_agent_who_goes_away_gets_no_new_tickets_and_an_online_colleague_does(
    desk, live_asgi, browser
):
    leaving, staying, token = desk
    leaving_name = _orm(lambda: leaving.user.username)
    staying_name = _orm(lambda: staying.user.username)
    watched = Watched(browser)
    theirs = watched.page()
    _sign_in(theirs, live_asgi, leaving_name)
    colleague = Watched(browser).page()
    _sign_in(colleague, live_asgi, staying_name)
    _wait_status(leaving.pk, AgentStatus.ONLINE)
    _wait_status(staying.pk, AgentStatus.ONLINE)
    assert theirs.locator("form[data-presence] select").input_value() == "online"

    theirs.select_option("form[data-presence] select", "away")
    theirs.wait_for_selector("form.presence-away", timeout=10_000)
    _wait_status(leaving.pk, AgentStatus.AWAY)

    numbers = []
    for n in range(3):
        answer = httpx.post(
            f"{live_asgi}/api/v1/inbound/app",
            headers={"Authorization": f"Token {token}"},
            json={"message_id": f"presence-{n}", "user_id": f"u-{n}", "text": "我的快递到哪了"},
            timeout=10,
        )
        assert answer.status_code == 201
        numbers.append(answer.json()["ticket_number"])

    assignees = _orm(
        lambda: list(
            Ticket.objects.filter(number__in=numbers).values_list("assignee_id", flat=True)
        )
    )
    assert assignees == [staying.pk] * 3
    # The colleague's queue shows them without a reload.
    colleague.wait_for_selector(f'tr[data-number="{numbers[-1]}"]', timeout=10_000)

    # Back online: the next ticket can be theirs again (round robin: they were assigned
    # least recently).
    theirs.select_option("form[data-presence] select", "online")
    theirs.wait_for_selector("form.presence-online", timeout=10_000)
    _wait_status(leaving.pk, AgentStatus.ONLINE)
    answer = httpx.post(
        f"{live_asgi}/api/v1/inbound/app",
        headers={"Authorization": f"Token {token}"},
        json={"message_id": "presence-back", "user_id": "u-back", "text": "我的快递到哪了"},
        timeout=10,
    )
    number = answer.json()["ticket_number"]
    assert _orm(lambda: Ticket.objects.get(number=number).assignee_id) == leaving.pk

    watched.assert_clean(theirs)
    # Closing the last page takes the agent offline.
    theirs.close()
    _wait_status(leaving.pk, AgentStatus.OFFLINE)
    colleague.close()
