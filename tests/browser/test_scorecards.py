"""Scorecards and the SLA page in Chromium: an agent reaches their own scorecard and is
refused a colleague's, a supervisor opens their team's agents, and the SLA page draws its
charts under the Content-Security-Policy."""

import pytest

from analytics.facts import facts_refresh
from tests.browser.helpers import Watched, _sign_in
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import Status
from tickets.services.workflow import ticket_assign, ticket_reply, ticket_set_status

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def people():  # type: ignore[no-untyped-def]
    team = TeamFactory(name="客服一组", is_default=True)
    first = make_agent(teams=[team])
    second = make_agent(teams=[team])
    elsewhere = make_agent(teams=[TeamFactory(name="售后组")])
    supervisor = make_agent(teams=[team], role="supervisor")
    ticket = intake(phone="13900000001", text="快递三天没到").ticket
    ticket_assign(ticket=ticket, agent=first, actor=supervisor.user)
    ticket_reply(ticket=ticket, author=first, body="今天送到")
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=first.user)
    facts_refresh()
    return {
        "first": (first.pk, first.user.username, str(first)),
        "second": (second.pk, second.user.username),
        "elsewhere": (elsewhere.pk,),
        "supervisor": (supervisor.pk, supervisor.user.username),
    }


def test_an_agent_sees_their_own_scorecard_and_no_one_elses(people, live_asgi, browser):
    first_pk, first_name, first_label = people["first"]
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, first_name)

    # The header's link to the agent's own scorecard.
    page.locator("header nav a[href='/reports/scorecards/']").click()

    expect(page).to_have_url(f"{live_asgi}/reports/scorecards/{first_pk}/")
    expect(page.locator("h1")).to_contain_text(first_label)
    # One resolved, better than the team's per-member figure.
    expect(page.locator("#scorecard tr[data-key=resolved] td").first).to_have_text("1 ▲")
    expect(page.locator("#scorecard tr[data-key=fcr_rate] td").first).to_contain_text("100.0%")
    expect(page.locator("html")).to_have_attribute("data-charts-ready", "1", timeout=10_000)
    expect(page.locator("#chart-scorecard canvas")).to_have_count(1)
    expect(page.locator(".report-tabs")).to_have_count(0)  # agents get no report tabs
    watched.assert_clean(page)

    refused = page.goto(f"{live_asgi}/reports/scorecards/{people['second'][0]}/")
    assert refused is not None and refused.status == 403
    refused = page.goto(f"{live_asgi}/reports/sla/")
    assert refused is not None and refused.status == 403
    watched.context.close()


def test_a_supervisor_opens_their_teams_scorecards_only(people, live_asgi, browser):
    _pk, supervisor_name = people["supervisor"]
    first_pk, _name, first_label = people["first"]
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, supervisor_name)

    page.goto(f"{live_asgi}/reports/scorecards/")
    page.locator("#scorecard-agents a", has_text=first_label).click()

    expect(page).to_have_url(f"{live_asgi}/reports/scorecards/{first_pk}/")
    expect(page.locator("#scorecard")).to_contain_text("客服一组")
    watched.assert_clean(page)
    refused = page.goto(f"{live_asgi}/reports/scorecards/{people['elsewhere'][0]}/")
    assert refused is not None and refused.status == 403
    watched.context.close()


def test_the_sla_page_draws_its_charts_and_the_heat_map_draws_too(people, live_asgi, browser):
    _pk, supervisor_name = people["supervisor"]
    watched = Watched(browser)
    page = watched.page()
    _sign_in(page, live_asgi, supervisor_name)

    page.goto(f"{live_asgi}/reports/sla/")

    expect(page.locator("html")).to_have_attribute("data-charts-ready", "2", timeout=10_000)
    for chart in ("#chart-sla-trend", "#chart-sla-teams"):
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
    expect(page.locator("#table-milestones tbody tr").first).to_contain_text("100.0%")
    page.locator("#chart-sla-teams canvas").hover()
    watched.assert_clean(page)

    page.locator(".report-tabs a[href^='/reports/channels/']").click()
    expect(page.locator("html")).to_have_attribute("data-charts-ready", "2", timeout=10_000)
    # The heat map's scale adds layers of its own: at least one canvas drawn.
    expect(page.locator("#chart-heatmap canvas").first).to_be_visible()
    watched.assert_clean(page)
    watched.context.close()
