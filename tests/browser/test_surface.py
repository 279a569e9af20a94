"""The surface in a real browser: the 404 page on a phone in Chinese, the language menu, a
first visit in English from the browser's language, and the screen pop closing on hangup."""

import httpx
import pytest
from playwright.sync_api import expect

from channels_ingest.phone.services import pbx_issue
from tests.browser.helpers import PHONE_VIEWPORT, Watched
from tests.factories import TeamFactory, make_agent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_404_page_fits_a_phone_in_chinese(live_asgi, browser):
    watched = Watched(browser, **PHONE_VIEWPORT)
    page = watched.page()

    response = page.goto(f"{live_asgi}/no-such-page/")

    assert response.status == 404
    assert page.locator("h1").inner_text() == "找不到页面"
    assert page.locator("header.top .brand").is_visible()
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert httpx.get(f"{live_asgi}{icon}", timeout=10).status_code == 200
    # (The console reports the 404 itself; only what the policy refused counts here.)
    assert page.evaluate("window.__cspViolations") == []


def test_a_first_visit_follows_the_browsers_english_and_the_menu_names_languages(
    live_asgi, browser
):
    watched = Watched(browser, locale="en-US")
    page = watched.page()

    page.goto(f"{live_asgi}/accounts/login/")

    assert page.locator("html").get_attribute("lang") == "en"
    options = page.locator("form.lang select option")
    assert options.all_inner_texts() == ["简体中文", "English"]
    assert page.locator("form.lang select").input_value() == "en"
    page.locator("form.lang select").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans", timeout=10_000)
    assert page.locator("form.lang select option").all_inner_texts() == ["简体中文", "English"]
    watched.assert_clean(page)


@pytest.fixture
def pop_setup():  # type: ignore[no-untyped-def]
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    _pbx, key = pbx_issue(name="office", default_team=team, actor=None)
    return agent.user.username, key


def test_the_screen_pop_closes_when_the_caller_hangs_up(pop_setup, live_asgi, browser):
    username, key = pop_setup
    webhook = f"{live_asgi}/webhooks/phone/office/"
    headers = {"Authorization": f"Token {key}"}
    page = browser.new_page()
    page.goto(f"{live_asgi}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_asgi}/")
    page.wait_for_selector("#live-state.up", timeout=10_000)
    ringing = {
        "event": "newCall",
        "callId": "hang-1",
        "direction": "in",
        "from": "13900139000",
        "to": "4008001234",
        "queue": "support",
    }

    httpx.post(webhook, headers=headers, json=ringing, timeout=10)
    page.wait_for_selector(".call-pop.state-ringing", timeout=10_000)
    hangup = {"event": "hangup", "callId": "hang-1", "cause": "noAnswer"}
    assert httpx.post(webhook, headers=headers, json=hangup, timeout=10).status_code == 200

    ended = page.wait_for_selector(".call-pop.state-ended", timeout=10_000)
    assert "已结束" in ended.inner_text() or "Ended" in ended.inner_text()
    page.wait_for_selector(".call-pop", state="detached", timeout=15_000)
    assert page.locator(".call-pop").count() == 0
    page.close()
