"""Acting on tickets in a real browser: a transfer seen by the receiving team (two agents,
two browsers), and a merge undone from the merged ticket's page."""

import pytest

from tests.browser.helpers import Watched, _orm, _sign_in
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import Message, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def two_teams():  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop makes the ORM refuse this thread).
    front = TeamFactory(name="客服一组", is_default=True)
    logistics = TeamFactory(name="物流组")
    sender = make_agent(teams=[front])
    receiver = make_agent(teams=[logistics])
    ticket = intake(user_id="u-transfer", text="我想问一下积分怎么用").ticket
    return sender.user.username, receiver.user.username, ticket.number


def test_a_transfer_reaches_the_receiving_team_with_its_note(two_teams, live_asgi, browser):
    sender_name, receiver_name, number = two_teams
    receiving = Watched(browser)
    receiver = receiving.page()
    _sign_in(receiver, live_asgi, receiver_name)
    receiver.wait_for_selector("#live-state.up", timeout=10_000)
    assert receiver.locator(f'tr[data-number="{number}"]').count() == 0

    sending = Watched(browser)
    sender = sending.page()
    _sign_in(sender, live_asgi, sender_name)
    sender.goto(f"{live_asgi}/tickets/{number}/")
    sender.select_option('#action-transfer select[name="team"]', label="物流组")
    sender.fill('#action-transfer input[name="note"]', "快递丢了，请物流组跟进")
    sender.click('#action-transfer button[type="submit"]')
    # The ticket left the sender's teams: back to their queue.
    sender.wait_for_url(f"{live_asgi}/", timeout=10_000)

    # The receiver's open queue shows it without a reload, with why it came.
    row = receiver.wait_for_selector(f'tr[data-number="{number}"]', timeout=10_000)
    note = row.query_selector(".transfer-note")
    assert note is not None
    assert "客服一组" in note.inner_text()  # where it came from
    assert "快递丢了，请物流组跟进" in note.inner_text()
    receiver.click(f'tr[data-number="{number}"] a')
    banner = receiver.wait_for_selector("#transfer-note", timeout=10_000)
    assert "快递丢了，请物流组跟进" in banner.inner_text()
    assert "积分" in receiver.inner_text("#timeline")

    # The sender now gets the page of a ticket of another team: its team, not its messages.
    sender.goto(f"{live_asgi}/tickets/{number}/")
    restricted = sender.wait_for_selector("#restricted-ticket", timeout=10_000)
    assert "物流组" in restricted.inner_text()
    assert "积分" not in sender.content()
    sender.click('#restricted-ticket button[value="access"]')
    sender.wait_for_selector("#restricted-ticket", timeout=10_000)

    receiving.assert_clean(receiver)
    # The page of a ticket of another team answers 403, which Chromium reports on the
    # console; anything else it reports is a problem.
    sending.problems = [p for p in sending.problems if "status of 403 (Forbidden)" not in p]
    sending.assert_clean(sender)


@pytest.fixture
def one_customer_two_tickets():  # type: ignore[no-untyped-def]
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    survivor = intake(user_id="u-merge", phone="13800138000", text="订单还没到").ticket
    merged = intake(phone="13800138000", channel="sms", text="请尽快处理我的订单").ticket
    return agent.user.username, survivor.number, merged.number


def test_a_merge_and_its_undo(one_customer_two_tickets, live_asgi, browser):
    username, survivor, merged = one_customer_two_tickets
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, username)
    page.goto(f"{live_asgi}/tickets/{merged}/")
    page.click("#action-merge summary")
    page.fill('#action-merge input[name="into"]', survivor)
    page.fill('#action-merge input[name="reason"]', "同一件事")
    page.click('#action-merge button[type="submit"]')

    page.wait_for_url(f"{live_asgi}/tickets/{survivor}/", timeout=10_000)
    assert _orm(lambda: Message.objects.filter(ticket__number=merged).count()) == 0
    assert "请尽快处理我的订单" in page.inner_text("#timeline")

    page.goto(f"{live_asgi}/tickets/{merged}/")
    assert survivor in page.inner_text("#merged-banner")
    page.click(".merge-undo button[type=submit]")
    page.wait_for_url(f"{live_asgi}/tickets/{merged}/", timeout=10_000)
    assert page.locator("#merged-banner").count() == 0
    ticket = _orm(lambda: Ticket.objects.get(number=merged))
    assert ticket.merged_into_id is None and ticket.is_open
    assert _orm(lambda: Message.objects.filter(ticket__number=merged).count()) == 1
    watched.assert_clean(page)


@pytest.fixture
def pbx_setup():  # type: ignore[no-untyped-def]
    from channels_ingest.phone.services import pbx_issue

    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    intake(phone="13900139000", text="上次的退款", name="李雷")
    _pbx, key = pbx_issue(name="office", default_team=team, actor=None)
    return agent.user.username, key


def test_a_ticket_is_opened_from_the_screen_pop_of_an_answered_call(pbx_setup, live_asgi, browser):
    import httpx

    username, key = pbx_setup
    webhook = f"{live_asgi}/webhooks/phone/office/"
    headers = {"Authorization": f"Token {key}"}
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, username)
    page.wait_for_selector("#live-state.up", timeout=10_000)
    call = {
        "event": "newCall",
        "callId": "pop-9",
        "direction": "in",
        "from": "13900139000",
        "to": "4008001234",
        "queue": "support",
    }
    assert httpx.post(webhook, headers=headers, json=call, timeout=10).status_code == 200
    page.wait_for_selector(".call-pop.state-ringing", timeout=10_000)
    httpx.post(webhook, headers=headers, json={"event": "answer", "callId": "pop-9"}, timeout=10)
    page.wait_for_selector(".call-pop.state-answered", timeout=10_000)

    page.click('.call-pop a[data-field="new-ticket"]')
    page.wait_for_selector("#new-ticket", timeout=10_000)
    assert "李雷" in page.inner_text("#new-ticket")
    page.fill('#new-ticket textarea[name="text"]', "客户来电问退款进度")
    page.click('#new-ticket button[type="submit"]')
    page.wait_for_url("**/tickets/*/", timeout=10_000)
    assert "客户来电问退款进度" in page.inner_text("#timeline")
    ticket = _orm(lambda: Ticket.objects.get(messages__body="客户来电问退款进度"))
    assert ticket.channel == "phone"
    assert _orm(lambda: ticket.calls.get().call_id) == "pop-9"
    watched.assert_clean(page)
