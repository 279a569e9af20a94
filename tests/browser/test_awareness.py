"""Staying aware, in Chromium against a real ASGI server: two agents on one ticket (viewing,
typing, the warning before a reply that would cross another), the bell counting live, the
keyboard, and SLA countdowns moving on screen."""

import re
from typing import Any

import pytest

from tests.browser.helpers import Watched, _orm, _sign_in
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import Direction, Message
from tickets.services.notifications import notifications_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _named_agent(team: Any, name: str) -> Any:
    agent = make_agent(teams=[team])
    agent.user.first_name = name
    agent.user.save(update_fields=["first_name"])
    return agent


@pytest.fixture
def two_agents():  # type: ignore[no-untyped-def]
    # Made before the browser starts: Django refuses ORM calls from Playwright's thread.
    team = TeamFactory(name="客服一组", is_default=True)
    alice = _named_agent(team, "Alice")
    bob = _named_agent(team, "Bob")
    tickets = [intake(user_id=f"u{index}", text=f"第 {index} 个问题").ticket for index in range(3)]
    return {
        "alice": alice.user.username,
        "alice_id": alice.user.pk,
        "bob": bob.user.username,
        "bob_id": bob.user.pk,
        "numbers": [ticket.number for ticket in tickets],
    }


def _replies(number: str) -> list[str]:
    return _orm(
        lambda: list(
            Message.objects.filter(
                ticket__number=number, direction=Direction.OUT, is_automatic=False
            )
            .order_by("pk")
            .values_list("body", flat=True)
        )
    )


def _on_ticket(watched: Watched, base: str, username: str, number: str) -> Any:
    from playwright.sync_api import expect

    page = watched.page()
    _sign_in(page, base, username)
    page.goto(f"{base}/tickets/{number}/")
    expect(page.locator(f'[data-live-ticket="{number}"][data-live-watching]')).to_have_count(1)
    return page


def test_two_agents_on_one_ticket_see_each_other_and_a_crossing_reply_is_held_back(
    two_agents, live_asgi, browser
):
    from playwright.sync_api import expect

    number = two_agents["numbers"][0]
    a_context, b_context = Watched(browser), Watched(browser)
    a = _on_ticket(a_context, live_asgi, two_agents["alice"], number)
    b = _on_ticket(b_context, live_asgi, two_agents["bob"], number)

    # Each sees the other viewing, never themselves.
    expect(a.locator(f'#viewer-list [data-viewer="{two_agents["bob_id"]}"]')).to_have_count(1)
    expect(b.locator(f'#viewer-list [data-viewer="{two_agents["alice_id"]}"]')).to_have_count(1)
    expect(a.locator("#ticket-viewers")).to_contain_text("Bob")
    expect(a.locator(f'#viewer-list [data-viewer="{two_agents["alice_id"]}"]')).to_have_count(0)

    # Bob types: Alice sees it.
    b.locator("#id_body").press_sequentially("马上为您处理")
    expect(a.locator("#agents-typing")).to_be_visible()
    expect(a.locator("#agents-typing")).to_contain_text("Bob")

    # Bob sends first; Alice, who loaded the page before it, is warned and nothing is sent.
    b.locator(
        "form.reply .buttons > button[name=kind][value=reply]:not([data-send-anyway])"
    ).click()
    expect(b.locator("#timeline")).to_contain_text("马上为您处理")
    a.locator("#id_body").fill("请提供订单号")
    a.locator(
        "form.reply .buttons > button[name=kind][value=reply]:not([data-send-anyway])"
    ).click()
    expect(a.locator("#reply-overtaken")).to_be_visible()
    assert _replies(number) == ["马上为您处理"]

    # She chooses to send anyway.
    a.locator("#reply-send-anyway").click()
    expect(a.locator("#reply-overtaken")).to_be_hidden()
    expect(a.locator("#timeline")).to_contain_text("请提供订单号")
    assert _replies(number) == ["马上为您处理", "请提供订单号"]

    # Bob leaves: Alice no longer sees him.
    b_context.context.close()
    expect(a.locator(f'#viewer-list [data-viewer="{two_agents["bob_id"]}"]')).to_have_count(0)
    expect(a.locator("#ticket-viewers")).to_be_hidden()
    a_context.assert_clean(a)
    a_context.context.close()


def test_the_bell_counts_a_new_notification_without_a_reload(two_agents, live_asgi, browser):
    from playwright.sync_api import expect

    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, two_agents["alice"])
    # A page without a live badge of its own: the bell opens the agent socket.
    page.goto(f"{live_asgi}/aftersales/")
    expect(page.locator('#bell-socket[data-live-state="up"]')).to_have_count(1)
    expect(page.locator("#bell-count")).to_be_hidden()
    page.evaluate("window.kefuTestMark = 'same-document'")
    title = page.title()

    def notify() -> None:
        from django.contrib.auth.models import User
        from django.utils import timezone

        now = timezone.now()
        notifications_create(
            users=[User.objects.get(username=two_agents["alice"])],
            ticket=None,
            kind="escalation",
            text="T1: 首次响应已超时",
            deliver_after=now,
            now=now,
        )

    _orm(notify)

    expect(page.locator("#bell-count")).to_have_attribute("data-count", "1")
    expect(page.locator("#bell-count")).to_be_visible()
    expect(page).to_have_title(f"(1) {title}")
    page.locator("#bell summary").click()
    expect(page.locator("#bell-list")).to_contain_text("首次响应已超时")
    assert page.evaluate("window.kefuTestMark") == "same-document"

    page.locator("#bell-list button").first.click()
    expect(page.locator("#bell-count")).to_have_attribute("data-count", "0")
    expect(page).to_have_title(title)
    watched.assert_clean(page)
    watched.context.close()


def test_the_keyboard_moves_through_the_queue_and_works_the_ticket_page(
    two_agents, live_asgi, browser
):
    from playwright.sync_api import expect

    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, two_agents["alice"])
    expect(page.locator("#live-state.up")).to_have_count(1)
    rows = page.locator("#queue-rows tr[data-number]")
    expect(rows).to_have_count(3)
    order = [rows.nth(index).get_attribute("data-number") for index in range(3)]

    page.keyboard.press("j")
    expect(page.locator("tr.kbd-focus")).to_have_attribute("data-number", order[0])
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("tr.kbd-focus")).to_have_attribute("data-number", order[2])
    page.keyboard.press("k")
    expect(page.locator("tr.kbd-focus")).to_have_attribute("data-number", order[1])
    expect(page.locator("tr.kbd-focus")).to_have_count(1)

    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    expect(page.locator("#keys-help")).to_contain_text("j")
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()

    # The live queue may redraw its rows at any moment: the chosen one stays chosen.
    expect(page.locator("tr.kbd-focus")).to_have_attribute("data-number", order[1])
    # The ticket page's own document is what counts (its scripts, not every static file
    # of a busy test server, make it work).
    with page.expect_navigation(
        url=f"**/tickets/{order[1]}/", wait_until="domcontentloaded", timeout=60_000
    ):
        page.keyboard.press("Enter")

    # r: the reply box; keys typed there are text, not shortcuts.
    page.keyboard.press("r")
    expect(page.locator("#id_body")).to_be_focused()
    page.keyboard.type("jk?")
    expect(page.locator("#id_body")).to_have_value("jk?")
    expect(page.locator("#keys-help")).to_be_hidden()
    page.locator("#id_body").fill("")
    page.locator("h1").click()

    # n: a note; Ctrl+Enter sends it as a note.
    page.keyboard.press("n")
    expect(page.locator("form.reply")).to_have_class(re.compile("mode-note"))
    page.keyboard.type("内部记录")
    page.keyboard.press("Control+Enter")
    page.wait_for_load_state()
    expect(page.locator("#timeline")).to_contain_text("内部记录")
    assert _orm(
        lambda: list(
            Message.objects.filter(ticket__number=order[1], direction=Direction.NOTE).values_list(
                "body", flat=True
            )
        )
    ) == ["内部记录"]

    # /: the reply box with "/" in it, for the macro picker.
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#id_body")).to_be_focused()
    expect(page.locator("#id_body")).to_have_value("/")
    page.locator("#id_body").fill("")
    page.locator("h1").click()

    # t: the transfer card, open, its team ready to pick.
    page.keyboard.press("t")
    expect(page.locator("#action-transfer")).to_have_attribute("open", "")
    expect(page.locator("#action-transfer select[name=team]")).to_be_focused()
    page.locator("h1").click()

    # a: assign to me.
    page.keyboard.press("a")
    page.wait_for_load_state()
    expect(page.locator(".meta")).to_contain_text("Alice")
    watched.assert_clean(page)
    watched.context.close()


def test_sla_countdowns_move_on_screen(two_agents, live_asgi, browser):
    from playwright.sync_api import expect

    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, two_agents["alice"])
    number = two_agents["numbers"][0]

    def due_soon() -> None:
        # Two hours from now, whatever the business calendar says of today: a deadline after
        # a weekend shows in days and hours, which do not move in five seconds.
        from datetime import timedelta

        from django.utils import timezone

        from sla.models import Milestone, SlaClock
        from tickets.models import Ticket

        ticket = Ticket.objects.get(number=number)
        due = timezone.now() + timedelta(hours=2)
        SlaClock.objects.filter(
            subject_id=ticket.pk, milestone=Milestone.FIRST_RESPONSE, satisfied_at=None
        ).update(due_at=due, warn_at=due - timedelta(minutes=30))
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)

    _orm(due_soon)
    page.goto(f"{live_asgi}/tickets/{number}/")
    countdown = page.locator("#sla [data-sla-due]").first
    expect(countdown).to_have_text(re.compile(r"\d"))
    before = countdown.inner_text()

    expect(countdown).not_to_have_text(before, timeout=5_000)
    # The queue shows the same instants to the minute.
    page.goto(f"{live_asgi}/")
    expect(page.locator(f'tr[data-number="{number}"] [data-sla-due]')).to_have_text(
        re.compile(r"\d")
    )
    watched.assert_clean(page)
    watched.context.close()
