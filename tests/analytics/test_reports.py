"""The supervisors' overview report: figures from the rollups, the period before, drill-down
to the tickets, CSV and XLSX exports that match the page, and who may see it."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.facts import facts_refresh
from tests.factories import intake
from tickets.models import Status
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def week(agent):  # type: ignore[no-untyped-def]
    """Three tickets today: two answered, one of those resolved at first contact."""
    tickets = [
        intake(phone=f"1380013800{n}", text=text).ticket
        for n, text in enumerate(["草莓发霉了", "快递没到", "发票怎么开"])
    ]
    ticket_reply(ticket=tickets[0], author=agent, body="给您退款")
    ticket_set_status(ticket=tickets[0], status=Status.RESOLVED, actor=agent.user)
    ticket_reply(ticket=tickets[1], author=agent, body="在路上了")
    facts_refresh()
    return tickets


def tile(response, key: str) -> str:  # type: ignore[no-untyped-def]
    return next(t for t in response.context["tiles"] if t["key"] == key)["value"]


def test_the_overview_shows_the_periods_figures_and_the_one_before(client, supervisor, week):
    client.force_login(supervisor.user)

    response = client.get("/reports/")

    assert response.status_code == 200
    assert tile(response, "created") == "3"
    assert tile(response, "resolved") == "1"
    assert tile(response, "fcr_rate") == "100.0%"
    before = next(t for t in response.context["tiles"] if t["key"] == "created")["before"]
    assert before == "0"
    chart = response.context["chart"]
    assert sum(chart["contacts"]) == 3 and len(chart["days"]) == 7
    assert sum(sum(channel["data"]) for channel in chart["channels"]) == 3
    assert 'id="report-data"' in response.content.decode()


def test_filters_narrow_the_figures(client, supervisor, week):
    client.force_login(supervisor.user)

    response = client.get("/reports/", {"channel": "sms"})

    assert tile(response, "created") == "0"


def test_a_figure_drills_down_to_the_tickets_it_counts(client, supervisor, week):
    client.force_login(supervisor.user)

    response = client.get("/reports/tickets/resolved/")

    assert response.status_code == 200
    assert [t.number for t in response.context["rows"]] == [week[0].number]
    everything = client.get("/reports/tickets/created/")
    assert {t.number for t in everything.context["rows"]} == {t.number for t in week}


def test_the_csv_export_has_the_pages_daily_rows_and_the_filters_in_its_name(
    client, supervisor, week
):
    client.force_login(supervisor.user)
    today = timezone.localdate()
    start = today - timedelta(days=2)
    query = {"start": start.isoformat(), "end": today.isoformat(), "tier": "regular"}

    page = client.get("/reports/", query)
    response = client.get("/reports/export.csv", query)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="kefu-overview_{start}_{today}_regular.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Day", "Contacts", "First responses"]
    assert [row[0] for row in rows[1:]] == [
        (start + timedelta(days=n)).isoformat() for n in range(3)
    ]
    shown = {row["day"].isoformat(): row["cells"] for row in page.context["daily"]}
    for row in rows[1:]:
        assert row[1] == shown[row[0]][0]  # contacts, as on the page
    assert rows[-1][1] == "1"  # one of the three is on the regular tier


def test_the_xlsx_export_opens_and_matches(client, supervisor, week):
    from openpyxl import load_workbook

    client.force_login(supervisor.user)

    response = client.get("/reports/export.xlsx")

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Day" and len(rows) == 8
    assert rows[-1][1] == 3


def test_a_period_that_ends_before_it_starts_is_refused_with_the_reason(client, supervisor):
    client.force_login(supervisor.user)

    response = client.get("/reports/", {"start": "2026-12-02", "end": "2026-12-01"})

    assert response.status_code == 400
    assert "The period starts after it ends." in response.content.decode()
    assert (
        client.get("/reports/export.csv", {"start": "2026-12-02", "end": "2026-12-01"}).status_code
        == 400
    )


def test_reports_are_for_supervisors(client, agent):
    assert client.get("/reports/").status_code == 302  # to the sign-in
    client.force_login(agent.user)
    for url in ("/reports/", "/reports/export.csv", "/reports/tickets/created/"):
        assert client.get(url).status_code == 403, url


def test_an_unknown_figure_or_format_is_not_found(client, supervisor):
    client.force_login(supervisor.user)

    assert client.get("/reports/tickets/everything/").status_code == 404
    assert client.get("/reports/export.pdf").status_code == 404
