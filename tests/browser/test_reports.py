"""The overview report in Chromium: its charts draw under the Content-Security-Policy, a
figure leads to the tickets behind it, and the export downloads the page's rows."""

import csv
import io

import pytest

from analytics.facts import facts_refresh
from tests.browser.helpers import PHONE_VIEWPORT, Watched, _sign_in
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import Status
from tickets.services.workflow import ticket_reply, ticket_set_status

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def reported():  # type: ignore[no-untyped-def]
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    supervisor = make_agent(teams=[team], role="supervisor")
    tickets = [
        intake(phone=f"1390000000{n}", text=text).ticket
        for n, text in enumerate(["快递三天没到", "会员积分没到账", "发票开错了"])
    ]
    ticket_reply(ticket=tickets[0], author=agent, body="今天送到")
    ticket_set_status(ticket=tickets[0], status=Status.RESOLVED, actor=agent.user)
    facts_refresh()
    return supervisor.user.username, tickets


def test_the_overview_draws_its_charts_drills_down_and_exports(reported, live_asgi, browser):
    supervisor_name, tickets = reported
    base = live_asgi
    watched = Watched(browser, accept_downloads=True)
    page = watched.page()
    _sign_in(page, base, supervisor_name)

    page.goto(f"{base}/reports/")

    expect(page.locator("html")).to_have_attribute("data-charts-ready", "3", timeout=10_000)
    for chart in ("#chart-trend", "#chart-channels", "#chart-pareto"):
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
    watched.assert_clean(page)
    # A tooltip, drawn in the canvas: hovering needs no inline style either.
    page.locator("#chart-trend canvas").hover()
    watched.assert_clean(page)

    page.locator(".tile[data-key=resolved] a.n").click()
    expect(page.locator("#drill tbody tr")).to_have_count(1)
    expect(page.locator("#drill")).to_contain_text(tickets[0].number)

    page.goto(f"{base}/reports/")
    with page.expect_download() as download:
        page.click("text=CSV")
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    table = page.locator("#daily tbody tr")
    assert len(rows) - 1 == table.count() == 7
    assert rows[-1][1] == table.nth(6).locator("td").nth(1).inner_text() == "3"
    watched.assert_clean(page)
    watched.context.close()


def test_the_overview_reads_on_a_phone(reported, live_asgi, browser):
    supervisor_name, _tickets = reported
    watched = Watched(browser, **PHONE_VIEWPORT)
    page = watched.page()
    _sign_in(page, live_asgi, supervisor_name)

    page.goto(f"{live_asgi}/reports/")

    expect(page.locator("html")).to_have_attribute("data-charts-ready", "3", timeout=10_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    watched.assert_clean(page)
    watched.context.close()
