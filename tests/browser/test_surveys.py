"""Surveys in Chromium: a ticket resolved on SMS has its invitation in the outbox, the
customer's "2" is stored as the rating (no new ticket) and a call-back appears in the
supervisor's queue; a chat visitor rates inline in the widget."""

import time
from collections.abc import Callable

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from feedback.models import Callback, Survey
from feedback.services.surveys import survey_settings_update, survey_token
from tests.browser.helpers import PHONE_VIEWPORT, Watched, _orm, _sign_in
from tests.factories import TeamFactory, app_message, make_agent
from tickets.models import Status, Ticket
from tickets.services.intake import intake_message
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = "+8613800138000"


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def people(live_asgi, settings):  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop would refuse the ORM in this thread).
    settings.NOTICE_QUIET_HOURS = ""  # whatever the hour, the SMS goes out at once
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "sms": "channels_ingest.outbox.SmsOutboxBackend",
        "chat": "channels_ingest.chat.delivery.ChatSocketBackend",
    }
    from tickets.delivery import backend_for

    backend_for.cache_clear()
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    supervisor = make_agent(teams=[team], role="supervisor")
    survey_settings_update(actor=None, values={"delay_minutes": 0})
    return {"agent": agent, "supervisor": supervisor, "base": live_asgi}


def test_an_sms_rating_of_two_is_stored_and_makes_a_call_back(people, browser):
    base, agent = people["base"], people["agent"]

    def resolved_sms_ticket() -> str:
        ticket = intake_message(
            inbound=app_message(channel="sms", phone=PHONE, text="快递三天没动了")
        ).ticket
        ticket_reply(ticket=ticket, author=agent, body="您好，已为您催促快递。")
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
        return ticket.number

    number = _orm(resolved_sms_ticket)

    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, base, people["supervisor"].user.username)
    page.goto(f"{base}/outbox/")
    expect(page.locator("body")).to_contain_text(number)
    expect(page.locator("body")).to_contain_text("1–5")

    def reply() -> tuple[int, int, int]:
        before = Ticket.objects.count()
        result = intake_message(inbound=app_message(channel="sms", phone=PHONE, text="2"))
        assert result.ticket.number == number and not result.ticket_opened
        return before, Ticket.objects.count(), Survey.objects.get().score or 0

    before, after, score = _orm(reply)
    assert (after, score) == (before, 2)
    assert _orm(lambda: Ticket.objects.get(number=number).status) == Status.RESOLVED

    page.goto(f"{base}/feedback/callbacks/")
    row = page.locator("#callback-queue tbody tr[data-callback]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(number)
    row.locator("a").first.click()
    expect(page.locator(".callback-detail")).to_contain_text("2/5")
    # The ticket page shows the rating on the timeline.
    page.goto(f"{base}/tickets/{number}/")
    expect(page.locator(".event.survey-answer")).to_contain_text("2/5")
    watched.assert_clean(page)
    assert _orm(lambda: Callback.objects.get().reason) == "low_csat"


def test_a_chat_visitor_rates_inline(people, browser, settings):
    settings.EMBEDDED = True  # the demo chat page exists in embedded mode (or with DEBUG) only
    base, agent = people["base"], people["agent"]
    _orm(lambda: call_command("seed_demo_chat", origin=[base], verbosity=0))

    shop = browser.new_page()
    shop.goto(f"{base}/chat/demo/")
    box = shop.locator("[data-kefu-chat] textarea")
    box.wait_for(timeout=10_000)
    shop.locator("[data-kefu-chat] .dot").wait_for(timeout=10_000)
    expect(shop.locator("[data-kefu-chat] .title")).not_to_have_text("Kefu", timeout=10_000)
    box.fill("会员积分什么时候到账？")
    box.press("Enter")
    shop.wait_for_selector("[data-kefu-chat] .msg.from-visitor:not(.pending)", timeout=10_000)

    assert _eventually(lambda: _orm(lambda: Ticket.objects.filter(channel="chat").exists()))

    def resolve() -> None:
        ticket = Ticket.objects.get(channel="chat")
        ticket_reply(ticket=ticket, author=agent, body="积分明天到账。")
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)

    _orm(resolve)
    stars = shop.locator("[data-kefu-chat] .rate button")
    expect(stars).to_have_count(5, timeout=10_000)
    stars.nth(3).click()  # four stars
    expect(shop.locator("[data-kefu-chat] .rate .thanks")).to_be_visible(timeout=10_000)
    expect(stars.nth(0)).to_be_disabled()
    assert _eventually(lambda: _orm(lambda: Survey.objects.get().score) == 4)
    assert _orm(lambda: Survey.objects.get().answered_via) == "chat"
    assert _orm(lambda: Callback.objects.count()) == 0
    shop.close()


def test_the_one_click_page_fits_a_phone_and_a_second_answer_is_refused(people, browser):
    base, agent = people["base"], people["agent"]

    def emailed_link() -> str:
        ticket = intake_message(
            inbound=app_message(channel="email", email="kim@example.com", text="发票开错了")
        ).ticket
        ticket_reply(ticket=ticket, author=agent, body="已为您重开发票。")
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
        survey = Survey.objects.get(ticket=ticket)
        return f"/feedback/s/{survey_token(survey)}/"

    path = _orm(emailed_link)
    phone = Watched(browser, **PHONE_VIEWPORT)
    page = phone.page()
    page.goto(f"{base}{path}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(".survey-scale label", has_text="5").click()
    page.locator(".survey-tags label", has_text="问题已解决").click()
    page.fill("textarea[name=comment]", "很快")
    page.locator(".survey-form button[type=submit]").click()
    expect(page.locator(".survey-thanks")).to_be_visible()
    phone.assert_clean(page)
    assert _orm(lambda: (Survey.objects.get().score, Survey.objects.get().tags)) == (
        5,
        ["问题已解决"],
    )
    page.goto(f"{base}{path}")
    expect(page.locator(".survey-closed")).to_have_attribute("data-code", "used")
