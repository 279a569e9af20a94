"""The board's wall screen in Chromium at 1920×1080: its tiles in Chinese and English, nothing
refused by the policy, nothing off the screen, and a socket that comes back by itself."""

import pytest

from analytics.facts import facts_refresh
from tests.browser.helpers import Watched, _sign_in
from tests.browser.test_csp import _post_app_message
from tests.factories import TeamFactory, intake, issue_token, make_agent
from tickets.models import Status
from tickets.services.workflow import ticket_reply, ticket_set_status

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WALL = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}


@pytest.fixture
def wall_setup():  # type: ignore[no-untyped-def]
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    supervisor = make_agent(teams=[team], role="supervisor")
    for n, text in enumerate(["草莓发霉了，要退款", "发票怎么开", "快递三天没到了"]):
        ticket = intake(phone=f"1380013800{n}", text=text).ticket
        if n < 2:
            ticket_reply(ticket=ticket, author=agent, body="好的，马上处理")
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
    facts_refresh()
    return supervisor.user.username, issue_token("wall-test")


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    """Nothing to scroll, and no tile's figure cut short."""
    return bool(
        page.evaluate(
            "document.documentElement.scrollHeight <= window.innerHeight"
            " && document.documentElement.scrollWidth <= window.innerWidth"
            " && Array.from(document.querySelectorAll('#tiles .n'))"
            ".every(function (n) { return n.scrollWidth <= n.clientWidth; })"
        )
    )


def test_the_wall_screen_shows_its_tiles_fits_and_reconnects(wall_setup, live_asgi, browser):
    username, token = wall_setup
    base = live_asgi
    wall = Watched(browser, **WALL)
    page = wall.page()
    sockets = []

    def through(ws):  # type: ignore[no-untyped-def]
        # Every board socket the page opens passes here, on to the real server.
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket("**/ws/board/", through)
    _sign_in(page, base, username)
    page.goto(f"{base}/board/tv/")
    page.wait_for_selector("#live-state.up", timeout=10_000)

    # Chinese first: the tiles of the day, with their trend lines.
    assert page.inner_text('[data-key="resolution_rate_today"]') == "66.7%"
    assert "今日解决率" in page.inner_text("#tiles")
    assert "按类别积压" in page.inner_text(".backlog")
    assert page.locator(".tile .spark polyline").count() >= 4
    assert page.locator("header nav, a, form, button").count() == 0
    assert fits_the_screen(page)
    wall.assert_clean(page)

    # The socket drops: the badge says so, the page opens a new one by itself and catches up.
    sockets[-1].close()
    expect(page.locator("#live-state.down")).to_have_count(1, timeout=5_000)
    page.wait_for_selector("#live-state.up", timeout=15_000)
    assert len(sockets) == 2
    _post_app_message(base, token, message_id="wall-1", user_id="u-wall", text="橙子坏了")
    expect(page.locator('[data-key="open"]')).to_have_text("2", timeout=10_000)
    assert fits_the_screen(page)
    wall.assert_clean(page)

    # English, for the same screen.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page.reload()
    page.wait_for_selector("#live-state.up", timeout=10_000)
    assert "Resolution rate today" in page.inner_text("#tiles")
    assert "CSAT today" in page.inner_text("#tiles")
    assert "Backlog by category" in page.inner_text(".backlog")
    assert fits_the_screen(page)
    wall.assert_clean(page)
    wall.context.close()
