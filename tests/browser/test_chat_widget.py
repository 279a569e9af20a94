import time
from collections.abc import Callable

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.factories import TeamFactory, make_agent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def chat_setup(live_asgi, settings):  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop would refuse the ORM in this thread).
    settings.EMBEDDED = True  # the demo page exists in embedded mode (or with DEBUG) only
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    call_command("seed_demo_chat", origin=[live_asgi], verbosity=0)
    return live_asgi, agent.user.username


def test_a_demo_visitor_writes_the_queue_shows_it_and_the_agents_answer_comes_back_live(
    chat_setup, browser
):
    base, username = chat_setup
    agent = browser.new_page()
    agent.goto(f"{base}/accounts/login/")
    agent.fill("input[name=username]", username)
    agent.fill("input[name=password]", "pw-for-tests")
    agent.click("button[type=submit]")
    agent.wait_for_url(f"{base}/")
    agent.wait_for_selector("#live-state.up", timeout=10_000)
    assert agent.locator("tr[data-number]").count() == 0

    shop = browser.new_page()
    shop.goto(f"{base}/chat/demo/")
    # The widget lives in a shadow root; Playwright's CSS locators pierce it.
    box = shop.locator("[data-kefu-chat] textarea")
    box.wait_for(timeout=10_000)
    # Locators, not wait_for_function: the page's CSP forbids the eval that the latter uses.
    shop.locator("[data-kefu-chat] .dot").wait_for(timeout=10_000)
    expect(shop.locator("[data-kefu-chat] .title")).not_to_have_text("Kefu", timeout=10_000)
    box.fill("我买的橙子坏了两个，可以换吗")
    box.press("Enter")
    shop.wait_for_selector("[data-kefu-chat] .msg.from-visitor:not(.pending)", timeout=10_000)

    row = agent.wait_for_selector("tr[data-number]", timeout=10_000)
    assert "我买的橙子坏了两个" in row.inner_text()

    # And back: the agent answers from the ticket page, the widget shows it without a reload.
    agent.click("tr[data-number] a")
    agent.wait_for_selector("#live-state.up", timeout=10_000)
    agent.fill("form.reply textarea", "可以换，我们明天送新的过去")
    # The reply is a form post that comes back to the ticket page: waited for, since closing
    # a page while a navigation commits can hang Chromium's close for good.
    with agent.expect_navigation():
        agent.click("button[value=reply]")
    answer = shop.wait_for_selector("[data-kefu-chat] .msg.from-agent", timeout=10_000)
    assert "我们明天送新的过去" in answer.inner_text()
    shop.close()
    agent.close()


def test_a_visitor_who_signs_in_on_the_same_browser_keeps_the_anonymous_conversation(
    chat_setup, browser
):
    base, _username = chat_setup
    context = browser.new_context()  # one browser profile: the same localStorage
    shop = context.new_page()
    shop.goto(f"{base}/chat/demo/?as=anonymous")
    box = shop.locator("[data-kefu-chat] textarea")
    box.wait_for(timeout=10_000)
    box.fill("还没登录时问的：西瓜什么时候到？")
    box.press("Enter")
    shop.wait_for_selector("[data-kefu-chat] .msg.from-visitor:not(.pending)", timeout=10_000)
    stored = "Object.keys(localStorage).filter(k => k.endsWith(':visitor')).length"
    assert shop.evaluate(stored) == 1

    shop.goto(f"{base}/chat/demo/")  # now signed in as the demo user
    earlier = shop.wait_for_selector("[data-kefu-chat] .msg.from-visitor", timeout=10_000)
    assert "西瓜什么时候到" in earlier.inner_text()
    # Greeted: the anonymous id is forgotten, a later anonymous visitor here starts afresh.
    assert _eventually(lambda: shop.evaluate(stored) == 0)
    context.close()


def test_the_agent_sees_the_visitor_typing_and_the_visitor_sees_the_agent_typing(
    chat_setup, browser
):
    base, username = chat_setup
    shop = browser.new_page()
    shop.goto(f"{base}/chat/demo/?as=anonymous")
    box = shop.locator("[data-kefu-chat] textarea")
    box.wait_for(timeout=10_000)
    box.fill("草莓还有货吗")
    box.press("Enter")
    shop.wait_for_selector("[data-kefu-chat] .msg.from-visitor:not(.pending)", timeout=10_000)

    agent = browser.new_page()
    agent.goto(f"{base}/accounts/login/")
    agent.fill("input[name=username]", username)
    agent.fill("input[name=password]", "pw-for-tests")
    agent.click("button[type=submit]")
    agent.wait_for_url(f"{base}/")
    agent.click("tr[data-number] a")
    agent.wait_for_selector("#live-state.up", timeout=10_000)
    assert agent.locator("#chat-typing").is_hidden()

    # The visitor's typing goes to the ticket's watchers: wait until the page is one.
    agent.wait_for_selector("#timeline-latest[data-live-watching]", timeout=10_000)
    box.press_sequentially("还有", delay=50)
    agent.wait_for_selector("#chat-typing", state="visible", timeout=10_000)

    agent.locator("form.reply textarea").press_sequentially("有的", delay=50)
    shop.wait_for_selector("[data-kefu-chat] .typing", state="visible", timeout=10_000)
    shop.close()
    agent.close()
