"""The satisfaction and quality page in Chromium: CSAT and NPS drawn under the
Content-Security-Policy, a CSAT count leading to the tickets rated, a table downloaded as the
page shows it."""

import csv
import io

import pytest

from analytics.facts import facts_refresh
from feedback.models import Survey
from feedback.services.surveys import Answer, survey_answer, survey_invite
from tests.browser.helpers import Watched, _sign_in
from tests.factories import TeamFactory, make_agent
from tests.feedback.surveys_support import answered_and_resolved, configure, customer_ticket
from tickets.models import Channel
from tickets.services.workflow import ticket_assign

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def rated(settings):  # type: ignore[no-untyped-def]
    """Three email tickets of one agent, invited and rated 5, 2 and not at all."""
    settings.KEFU_DELIVERY_BACKENDS = {
        **settings.KEFU_DELIVERY_BACKENDS,
        "email": "channels_ingest.outbox.OutboxBackend",
    }
    settings.KEFU_PUBLIC_URL = "https://kefu.shop.example"
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    supervisor = make_agent(teams=[team], role="supervisor")
    configure(delay_minutes=0, fatigue_days=0)
    tickets = []
    for index, score in enumerate([5, 2, None]):
        ticket = customer_ticket(
            channel=Channel.EMAIL, phone=None, email=f"rate{index}@example.com", text="发票开错了"
        )
        ticket_assign(ticket=ticket, agent=agent, actor=supervisor.user)
        answered_and_resolved(ticket, agent)
        survey = Survey.objects.get(ticket=ticket)
        survey_invite(survey_id=survey.pk)
        survey.refresh_from_db()
        if score is not None:
            survey_answer(survey=survey, answer=Answer(score=score), via="web")
        tickets.append(ticket)
    facts_refresh()
    return supervisor.user.username, str(agent), tickets


def test_the_satisfaction_page_draws_csat_drills_down_and_exports(rated, live_asgi, browser):
    supervisor_name, agent_label, tickets = rated
    watched = Watched(browser, accept_downloads=True)
    page = watched.page()
    _sign_in(page, live_asgi, supervisor_name)

    page.goto(f"{live_asgi}/reports/quality/")

    expect(page.locator("html")).to_have_attribute("data-charts-ready", "1", timeout=10_000)
    expect(page.locator("#chart-satisfaction-trend canvas")).to_have_count(1)
    expect(page.locator(".tile[data-key=csat_rate] .n")).to_have_text("50.0%")
    expect(page.locator(".tile[data-key=csat_response_rate] .n")).to_have_text("66.7%")
    watched.assert_clean(page)

    with page.expect_download() as download:
        page.locator("a[href*='/reports/quality/satisfaction-agents.csv']").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert rows[1][:6] == [agent_label, "3", "2", "0.6667", "1", "0.5"]

    page.locator(".tile[data-key=csat_answered] a.n").click()
    expect(page.locator("#drill tbody tr")).to_have_count(2)
    for ticket in tickets[:2]:
        expect(page.locator("#drill")).to_contain_text(ticket.number)
    watched.assert_clean(page)
    watched.context.close()
