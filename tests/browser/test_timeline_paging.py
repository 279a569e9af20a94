"""The ticket page's timeline in Chromium: the earlier pages an agent opened stay where they
are when a live event brings a new message."""

from datetime import timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.browser.helpers import Watched, _orm, _sign_in
from tests.factories import TeamFactory, intake, issue_token, make_agent
from tickets.models import Channel, Direction, Message, Team, Ticket
from tickets.services.actions import ticket_transfer

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def long_ticket():  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop would refuse the ORM in this thread).
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    ticket = intake(user_id="u-long", text="第一条：草莓坏了").ticket
    start = timezone.now() - timedelta(days=1)
    Message.objects.bulk_create(
        Message(
            ticket=ticket,
            direction=Direction.IN,
            channel=Channel.APP,
            body=f"旧消息{index:03d}",
            created_at=start + timedelta(minutes=index),
        )
        for index in range(80)
    )
    return agent.user.username, ticket.number, issue_token("paging-test")


def test_earlier_messages_stay_open_when_a_new_message_arrives(long_ticket, live_asgi, browser):
    agent_name, number, token = long_ticket
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, agent_name)
    page.goto(f"{live_asgi}/tickets/{number}/")
    page.wait_for_selector("#timeline-latest[data-live-watching]", timeout=10_000)
    assert "旧消息010" not in page.inner_text("#timeline")

    page.click(".timeline-earlier a")
    expect(page.locator("#timeline")).to_contain_text("旧消息010", timeout=10_000)

    response = httpx.post(
        f"{live_asgi}/api/v1/inbound/app",
        headers={"Authorization": f"Token {token}"},
        json={"message_id": "paging-1", "user_id": "u-long", "text": "新消息：还没人回复吗"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    expect(page.locator("#timeline-latest")).to_contain_text("新消息：还没人回复吗", timeout=10_000)

    timeline = page.inner_text("#timeline")
    assert "旧消息010" in timeline  # the earlier page is still there
    assert timeline.count("旧消息079") == 1  # and nothing shows twice
    watched.assert_clean(page)
    watched.context.close()


@pytest.fixture
def watched_ticket():  # type: ignore[no-untyped-def]
    team = TeamFactory(name="客服一组", is_default=True)
    other = TeamFactory(name="物流组")
    agent = make_agent(teams=[team])
    supervisor = make_agent(teams=[team, other], role="supervisor")
    ticket = intake(user_id="u-gone", text="快递三天没动了").ticket
    return agent.user.username, ticket.number, ticket.pk, other.pk, supervisor.user.pk


def test_a_ticket_transferred_away_while_open_shows_what_the_agent_may_see_now(
    watched_ticket, live_asgi, browser
):
    agent_name, number, ticket_pk, other_pk, supervisor_pk = watched_ticket
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, agent_name)
    page.goto(f"{live_asgi}/tickets/{number}/")
    page.wait_for_selector("#timeline-latest[data-live-watching]", timeout=10_000)

    _orm(
        lambda: ticket_transfer(
            ticket=Ticket.objects.get(pk=ticket_pk),
            team=Team.objects.get(pk=other_pk),
            agent=None,
            note="物流问题，转物流组",
            actor=get_user_model().objects.get(pk=supervisor_pk),
        )
    )

    # The page loads itself again: the other team's ticket, without its conversation.
    restricted = page.wait_for_selector("#restricted-ticket", timeout=10_000)
    assert "物流组" in restricted.inner_text()
    assert "快递三天没动了" not in page.content()
    # The page of a ticket of another team answers 403, which Chromium reports on the
    # console; anything else it reports (a failed live request) is a problem.
    watched.problems = [p for p in watched.problems if "status of 403 (Forbidden)" not in p]
    watched.assert_clean(page)
    watched.context.close()
