"""Kefu's pages under their own Content-Security-Policy, in Chromium: nothing is refused, and
the live parts (htmx fragments fetched on websocket events) still update without a reload."""

import re

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from channels_ingest.models import OutboxEntry
from tests.browser.helpers import Watched, _orm, _sign_in
from tests.factories import TeamFactory, UserFactory, intake, issue_token, make_agent
from tests.kb.factories import make_article
from tickets.services.notifications import notifications_create

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def csp_setup():  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop would refuse the ORM in this thread).
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    supervisor = make_agent(teams=[team], role="supervisor")
    make_article(
        title="退款多久到账",
        questions=("退款什么时候到账", "钱什么时候退回来"),
        body="退款审核通过后原路退回，一般1-3个工作日到账。",
    )
    return agent.user.username, supervisor.user.username, issue_token("csp-test")


def _post_app_message(base: str, token: str, **fields: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/inbound/app",
        headers={"Authorization": f"Token {token}"},
        json=fields,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["ticket_number"])


def _notify(username: str, text: str) -> None:
    now = timezone.now()
    user = get_user_model().objects.get(username=username)
    notifications_create(
        users=[user], ticket=None, kind="escalation", text=text, deliver_after=now, now=now
    )


def test_queue_ticket_board_and_status_pages_run_under_the_policy_and_stay_live(
    csp_setup, live_asgi, browser
):
    agent_name, supervisor_name, token = csp_setup
    base = live_asgi

    # The queue: a ticket posted through the API appears without a reload.
    agent = Watched(browser)
    page = agent.page()
    _sign_in(page, base, agent_name)
    page.wait_for_selector("#live-state.up", timeout=10_000)
    page.evaluate("window.kefuTestMark = 'same-document'")
    assert page.locator("tr[data-number]").count() == 0
    number = _post_app_message(
        base,
        token,
        message_id="csp-1",
        user_id="u-csp",
        phone="13800138000",
        name="王芳",
        text="橙子坏了三个，我的钱什么时候退回来",
    )
    row = page.wait_for_selector(f'tr[data-number="{number}"]', timeout=10_000)
    assert "橙子坏了三个" in row.inner_text()
    # A notification for this agent shows in the list, marked new.
    _orm(lambda: _notify(agent_name, "主管提醒：请先处理退款"))
    expect(page.locator("#notification-list li.fresh")).to_contain_text("主管提醒", timeout=10_000)
    assert page.evaluate("window.kefuTestMark") == "same-document"
    agent.assert_clean(page)

    # The ticket page: the customer writes again and the timeline shows it in place; the
    # contact reveal and the suggested answer work without inline script.
    page.click(f'tr[data-number="{number}"] a')
    page.wait_for_url(f"**/tickets/{number}/")
    page.wait_for_selector("#live-state.up", timeout=10_000)
    page.evaluate("window.kefuTestMark = 'same-document'")
    assert "+86138****8000" in page.inner_text("#contacts")
    page.click("#reveal button")
    expect(page.locator("#contacts")).to_contain_text("+8613800138000", timeout=10_000)
    assert page.locator("#reveal").count() == 0
    page.click("[data-kb-insert]")
    assert "1-3个工作日" in page.input_value("#id_body")
    _post_app_message(base, token, message_id="csp-2", user_id="u-csp", text="还有两个梨也压坏了")
    expect(page.locator("#timeline")).to_contain_text("还有两个梨也压坏了", timeout=10_000)
    assert page.locator("#sla .clock").count() >= 1
    assert page.evaluate("window.kefuTestMark") == "same-document"
    agent.assert_clean(page)

    # The language switcher submits its form on change.
    page.goto(f"{base}/")
    page.select_option("select[name=language]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=10_000)
    assert "Queue" in page.inner_text("h1")
    agent.assert_clean(page)
    agent.context.close()

    # The board: its counters are fetched again, rendered by the server, on a new ticket.
    supervisor = Watched(browser)
    board = supervisor.page()
    _sign_in(board, base, supervisor_name)
    board.goto(f"{base}/board/")
    board.wait_for_selector("#live-state.up", timeout=10_000)
    board.evaluate("window.kefuTestMark = 'same-document'")
    assert board.inner_text('[data-key="open"]') == "1"
    _post_app_message(base, token, message_id="csp-3", user_id="u-other", text="发票怎么开")
    expect(board.locator('[data-key="open"]')).to_have_text("2", timeout=10_000)
    assert board.evaluate("window.kefuTestMark") == "same-document"
    supervisor.assert_clean(board)
    supervisor.context.close()

    # The customer's status pages: look up, enter the code, read and write on the ticket.
    customer = Watched(browser)
    status = customer.page()
    status.goto(f"{base}/status/")
    customer.assert_clean(status)
    status.fill("input[name=number]", number)
    status.fill("input[name=contact]", "13800138000")
    status.click("button[type=submit]")
    status.wait_for_url("**/status/verify/")
    customer.assert_clean(status)
    body = _orm(lambda: OutboxEntry.objects.filter(kind="code").values_list("body", flat=True)[0])
    code = re.search(r"\b(\d{6})\b", body)
    assert code is not None, body
    status.fill("input[name=code]", code.group(1))
    status.click("button[type=submit]")
    status.wait_for_url(f"**/status/t/{number}/")
    assert "还有两个梨也压坏了" in status.inner_text(".timeline")
    customer.assert_clean(status)
    customer.context.close()


@pytest.fixture
def demo_shop(live_asgi, settings):  # type: ignore[no-untyped-def]
    settings.EMBEDDED = True  # the demo page exists in embedded mode (or with DEBUG) only
    call_command("seed_demo_chat", origin=[live_asgi], verbosity=0)
    return live_asgi


def test_the_demo_shop_page_and_its_chat_widget_run_under_the_policy(demo_shop, browser):
    live_asgi = demo_shop
    shop = Watched(browser)
    page = shop.page()

    page.goto(f"{live_asgi}/chat/demo/?as=anonymous")
    # Connected: the server's hello named the widget (locators pierce its shadow root).
    expect(page.locator("[data-kefu-chat] .title")).not_to_have_text("Kefu", timeout=10_000)

    # Styled (the widget's own stylesheet was not refused): the launcher floats at the corner.
    position = page.evaluate(
        "getComputedStyle(document.querySelector('[data-kefu-chat]').shadowRoot"
        ".querySelector('.launcher')).position"
    )
    assert position == "fixed"
    assert page.evaluate("getComputedStyle(document.querySelector('header')).color") == (
        "rgb(255, 255, 255)"
    )
    shop.assert_clean(page)
    shop.context.close()


@pytest.fixture
def admin_setup():  # type: ignore[no-untyped-def]
    admin = UserFactory(is_staff=True, is_superuser=True)
    ticket = intake(user_id="u-admin", text="后台看看这张工单")
    return admin.username, ticket.ticket.pk


def test_the_admin_runs_under_the_policy(admin_setup, live_asgi, browser):
    username, ticket_id = admin_setup
    staff = Watched(browser)
    page = staff.page()
    page.goto(f"{live_asgi}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_asgi}/admin/")

    for path in [
        "/admin/",
        "/admin/tickets/ticket/",
        f"/admin/tickets/ticket/{ticket_id}/change/",
        "/admin/auth/user/add/",
    ]:
        response = page.goto(f"{live_asgi}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("load")
        staff.assert_clean(page)
    staff.context.close()
