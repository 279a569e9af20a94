"""The report pages beyond the overview (SLA, channels, categories, agents, quality,
after-sales): their definitions pinned on tickets built by hand, each table's download equal
to the page, each count leading to the tickets it counts, and only supervisors let in."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.facts import facts_mark, facts_refresh
from analytics.models import TicketFact
from sla.models import Milestone, SlaClock
from sla.services import clocks_tick
from tests.factories import TeamFactory, intake, make_agent
from tests.feedback.factories import review
from tickets.models import Status, Ticket
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db

PAGES = ("sla", "channels", "categories", "agents", "quality", "aftersales")


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def period() -> dict[str, str]:
    today = timezone.localdate()
    return {"start": (today - timedelta(days=6)).isoformat(), "end": today.isoformat()}


def breach_first_response(ticket: Ticket) -> None:
    """The first-response deadline passes: the clock is due a minute ago and the SLA ticker
    runs, as Celery beat would run it."""
    SlaClock.objects.filter(subject_id=ticket.pk, milestone=Milestone.FIRST_RESPONSE).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    assert clocks_tick().breached == 1


@pytest.fixture
def handled(agent):  # type: ignore[no-untyped-def]
    """Three tickets today: answered in time and resolved; answered after the first-response
    deadline passed; not answered yet (its clock still running)."""
    on_time = intake(phone="13800138001", text="草莓发霉了，要退款").ticket
    ticket_reply(ticket=on_time, author=agent, body="给您退款")
    ticket_set_status(ticket=on_time, status=Status.RESOLVED, actor=agent.user)
    late = intake(phone="13800138002", text="快递三天没到").ticket
    breach_first_response(late)
    ticket_reply(ticket=late, author=agent, body="在路上了")
    waiting = intake(phone="13800138003", text="发票怎么开").ticket
    facts_refresh()
    return on_time, late, waiting


def table(response, key: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """A table of a page as {row label: [cell text, …]}."""
    found = next(item for item in response.context["tables"] if item["table"].key == key)
    return {row["label"]: [cell["text"] for cell in row["cells"]] for row in found["rows"]}


def cell_link(response, key: str, label: str, column: int) -> str:  # type: ignore[no-untyped-def]
    found = next(item for item in response.context["tables"] if item["table"].key == key)
    row = next(row for row in found["rows"] if row["label"] == label)
    return row["cells"][column]["href"]


def download(client, path: str, query: dict[str, str]) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = client.get(path, query)
    assert response.status_code == 200, path
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_first_response_attainment_is_met_over_decided_and_counts_a_breach(
    client, supervisor, handled
):
    on_time, late, waiting = handled
    client.force_login(supervisor.user)

    response = client.get("/reports/sla/", period())

    assert response.status_code == 200
    milestones = table(response, "milestones")
    # decided, met, missed, attainment: the waiting ticket's clock is still running.
    assert milestones["First response"] == ["2", "1", "1", "50.0%"]
    tiles = {t["key"]: t["value"] for t in response.context["tiles"]}
    assert tiles["sla_first_response_rate"] == "50.0%"
    overview = client.get("/reports/", period())
    shown = {t["key"]: t["value"] for t in overview.context["tiles"]}
    assert shown["sla_rate"] == tiles["sla_rate"]
    facts = {f.ticket_id: f for f in TicketFact.objects.all()}
    assert facts[on_time.pk].sla_first_response_met is True
    assert facts[late.pk].sla_first_response_met is False
    assert facts[waiting.pk].sla_first_response_met is None
    assert facts[late.pk].sla_policy_id is not None


def test_the_sla_counts_lead_to_the_tickets_they_count(client, supervisor, handled):
    on_time, late, _waiting = handled
    client.force_login(supervisor.user)
    response = client.get("/reports/sla/", period())

    missed = client.get(cell_link(response, "milestones", "First response", 2))
    met = client.get(cell_link(response, "milestones", "First response", 1))

    assert [t.number for t in missed.context["rows"]] == [late.number]
    assert [t.number for t in met.context["rows"]] == [on_time.number]


def test_sla_per_policy_team_and_agent_add_up_to_the_milestones(
    client, supervisor, agent, default_team, handled
):
    client.force_login(supervisor.user)

    response = client.get("/reports/sla/", period())

    milestones = table(response, "milestones")
    decided = int(milestones["First response"][0])
    policies = table(response, "policies")
    assert sum(int(cells[0]) for cells in policies.values()) == decided
    assert table(response, "teams")[default_team.name][:2] == ["2", "50.0%"]
    assert table(response, "agents")[str(agent)][:2] == ["2", "50.0%"]
    chart = response.context["chart"]["charts"]
    assert [c["id"] for c in chart] == ["chart-sla-trend", "chart-sla-teams"]
    assert chart[0]["series"][0]["data"][-1] == 50.0


def test_each_sla_table_downloads_as_the_page_shows_it(client, supervisor, handled):
    client.force_login(supervisor.user)
    query = period()
    page = client.get("/reports/sla/", query)

    for key in ("milestones", "policies", "teams", "agents"):
        rows = download(client, f"/reports/sla/{key}.csv", query)
        shown = table(page, key)
        assert len(rows) - 1 == len(shown), key
        for row in rows[1:]:
            cells = shown[row[0]]
            for value, text in zip(row[1:], cells, strict=True):
                if text.endswith("%"):
                    assert f"{float(value) * 100:.1f}%" == text, (key, row)
                elif text != "—":
                    assert value == text.replace(",", ""), (key, row)


def test_an_export_is_named_after_its_page_table_and_filters(client, supervisor, handled):
    client.force_login(supervisor.user)
    today = timezone.localdate()
    query = {**period(), "channel": "app"}

    response = client.get("/reports/channels/channels.xlsx", query)

    assert response.status_code == 200
    assert (
        f'filename="kefu-channels-channels_{today - timedelta(days=6)}_{today}_app.xlsx"'
        in response["Content-Disposition"]
    )


def test_the_heat_map_counts_each_contact_in_its_local_weekday_and_hour(
    client, supervisor, handled
):
    client.force_login(supervisor.user)

    response = client.get("/reports/channels/", period())

    grid = table(response, "heatmap")
    assert sum(int(n) for cells in grid.values() for n in cells) == 3
    created = timezone.localtime(handled[0].created_at)
    weekday = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ][created.weekday()]
    assert int(grid[weekday][created.hour]) >= 1
    heat = next(c for c in response.context["chart"]["charts"] if c["kind"] == "heatmap")
    assert sum(cell[2] for cell in heat["data"]) == 3


def test_the_channel_table_agrees_with_the_overview_and_drills_down(client, supervisor, handled):
    client.force_login(supervisor.user)

    channels = client.get("/reports/channels/", period())
    overview = client.get("/reports/", period())

    contacts = sum(int(cells[0]) for cells in table(channels, "channels").values())
    assert (
        str(contacts)
        == next(t for t in overview.context["tiles"] if t["key"] == "created")["value"]
    )
    drill = client.get(cell_link(channels, "channels", "App", 0))
    assert len(drill.context["rows"]) == 3


def test_the_repeat_contact_rate_is_per_category(client, supervisor, agent):
    # The same customer writes about logistics, is answered, and writes again; another
    # customer writes once about something else.
    first = intake(phone="13900000001", text="快递三天没到", provider_id="r1").ticket
    ticket_set_status(ticket=first, status=Status.CLOSED, actor=agent.user)
    again = intake(phone="13900000001", text="快递还是没到", provider_id="r2").ticket
    other = intake(phone="13900000002", text="发票怎么开", provider_id="r3").ticket
    Ticket.objects.filter(pk__in=[first.pk, again.pk]).update(category="logistics")
    Ticket.objects.filter(pk=other.pk).update(category="tech")
    facts_mark([first.pk, again.pk, other.pk])
    facts_refresh()
    client.force_login(supervisor.user)

    response = client.get("/reports/categories/", period())

    rows = table(response, "categories")
    logistics = rows["Logistics"]
    # contacts, share, cumulative, repeat contacts, repeat rate
    assert logistics[:5] == ["2", "66.7%", "66.7%", "1", "50.0%"]
    assert list(rows.values())[-1][2] == "100.0%"
    pareto = next(c for c in response.context["chart"]["charts"] if c["kind"] == "pareto")
    assert pareto["counts"][0] == 2
    repeats = client.get(cell_link(response, "categories", "Logistics", 3))
    assert [t.number for t in repeats.context["rows"]] == [again.number]


def test_the_agents_table_has_each_agents_figures_and_quality(client, supervisor, agent, handled):
    on_time, late, _waiting = handled
    review(ticket=on_time, agent=agent, reviewer=supervisor.user)
    review(ticket=late, agent=agent, reviewer=supervisor.user, ratings={"Greeting": "missed"})
    client.force_login(supervisor.user)

    response = client.get("/reports/agents/", period())

    row = table(response, "agents")[str(agent)]
    # contacts, first response, resolved, handling, FCR, reopen, SLA, quality, failed
    assert row[0] == "3" and row[2] == "1" and row[4] == "100.0%"
    quality = client.get("/reports/quality/", period())
    assert table(quality, "quality")[str(agent)][0] == "2"
    assert row[7] == table(quality, "quality")[str(agent)][1]
    scorecard = next(
        r for item in response.context["tables"] for r in item["rows"] if r["label"] == str(agent)
    )["link"]
    assert client.get(scorecard).status_code == 200


def test_the_quality_page_shows_satisfaction_without_answers_as_no_figure(
    client, supervisor, handled
):
    client.force_login(supervisor.user)

    response = client.get("/reports/quality/", period())

    tiles = {tile["key"]: tile["value"] for tile in response.context["tiles"]}
    assert (tiles["csat_rate"], tiles["csat_answered"], tiles["nps"]) == ("—", "0", "—")
    assert table(response, "satisfaction-agents") == {}
    page = response.content.decode()
    assert 'id="satisfaction-rule"' in page and "Not measured yet" not in page


def test_the_after_sales_page_opens_empty(client, supervisor):
    client.force_login(supervisor.user)

    response = client.get("/reports/aftersales/", period())

    assert response.status_code == 200
    assert table(response, "cases") == {} and table(response, "anomalies") == {}


def test_a_second_team_narrows_every_table(client, supervisor, handled):
    other = TeamFactory(name="客服二组")
    make_agent(teams=[other])
    client.force_login(supervisor.user)

    response = client.get("/reports/sla/", {**period(), "team": other.pk})

    assert table(response, "milestones")["First response"] == ["0", "0", "0", "—"]


def test_the_pages_are_for_supervisors(client, agent):
    for page in PAGES:
        assert client.get(f"/reports/{page}/").status_code == 302  # to the sign-in
    client.force_login(agent.user)
    for page in PAGES:
        assert client.get(f"/reports/{page}/").status_code == 403, page
    assert client.get("/reports/sla/milestones.csv").status_code == 403


def test_unknown_pages_tables_and_formats_are_not_found(client, supervisor):
    client.force_login(supervisor.user)

    assert client.get("/reports/everything/").status_code == 404
    assert client.get("/reports/sla/everything.csv").status_code == 404
    assert client.get("/reports/sla/milestones.pdf").status_code == 404


def test_a_bad_period_is_refused_with_the_reason(client, supervisor):
    client.force_login(supervisor.user)
    backwards = {"start": "2026-12-02", "end": "2026-12-01"}

    response = client.get("/reports/channels/", backwards)

    assert response.status_code == 400
    assert "The period starts after it ends." in response.content.decode()
    assert client.get("/reports/channels/heatmap.csv", backwards).status_code == 400
    assert client.get("/reports/sla/", {"agent": "-3"}).status_code == 400
    assert client.get("/reports/sla/", {"agent": "9" * 30}).status_code == 400


def test_the_tabs_lead_to_every_report_page(client, supervisor):
    client.force_login(supervisor.user)

    page = client.get("/reports/").content.decode()

    for name in PAGES:
        assert f'href="/reports/{name}/' in page
    assert 'href="/reports/scorecards/' in page and 'href="/reports/ranking/' in page


def test_the_ticket_figures_come_from_facts_and_rollups_not_from_tickets(
    client, supervisor, default_team, handled
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(supervisor.user)
    for page in PAGES:
        for query in (period(), {**period(), "team": default_team.pk, "channel": "app"}):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"/reports/{page}/", query).status_code == 200
            # The header's bell reads the user's ten latest notifications with their tickets;
            # the report itself reads no ticket (quality and after-sales rows are narrowed
            # through the facts).
            read = [
                q["sql"]
                for q in queries.captured_queries
                if '"tickets_ticket"' in q["sql"] and '"tickets_notification"' not in q["sql"]
            ]
            assert read == [], (page, read)


def test_a_periods_totals_are_the_sum_of_its_days(handled):
    from analytics import reports
    from analytics.metrics import Totals

    today = timezone.localdate()
    filters = reports.Filters(start=today - timedelta(days=6), end=today)

    days = reports.by_day(filters)

    assert sum((t for _d, t in days), Totals()) == reports.period_totals(filters)
    assert reports.period_totals(filters).sla_first_response_decided == 2


def test_the_channel_pages_mix_is_the_reports_channel_mix(client, supervisor, handled):
    from analytics import reports

    client.force_login(supervisor.user)
    today = timezone.localdate()
    filters = reports.Filters(start=today - timedelta(days=6), end=today)

    response = client.get("/reports/channels/", period())

    mix = reports.channel_mix(filters)
    stacked = next(c for c in response.context["chart"]["charts"] if c["kind"] == "stacked")
    assert [sum(s["data"]) for s in stacked["series"]] == [
        sum(per_day.values()) for _code, per_day in sorted(mix.items())
    ]
    assert stacked["series"][0]["data"][-1] == 3


def test_a_team_that_does_not_exist_is_refused_not_a_server_error(client, supervisor):
    client.force_login(supervisor.user)

    for team in ("9" * 30, "999999", "x"):
        assert client.get("/reports/sla/", {"team": team}).status_code == 400, team
    assert client.get("/reports/ranking/", {"month": "99999-01"}).status_code == 400


def test_after_sales_cases_count_opened_closed_cycle_time_and_refunds(client, supervisor):
    from decimal import Decimal

    from aftersales.services import case_complete, case_refund, case_review
    from aftersales.steps import CaseType
    from tests.aftersales.factories import NOW, make_order, open_case

    # Two refund-only cases opened at NOW; one refunded 40 and completed two hours later.
    done = open_case(make_order(), type=CaseType.REFUND_ONLY, amount="40.00")
    case_review(case=done, approve=True, now=NOW)
    case_refund(case=done, amount=Decimal("40.00"), method="balance", reference="R1", now=NOW)
    case_complete(case=done, now=NOW + timedelta(hours=2))
    open_case(make_order(), type=CaseType.REFUND_ONLY, amount="30.00")
    facts_refresh()  # the case facts and rollups the page reads
    client.force_login(supervisor.user)
    day = timezone.localdate(NOW).isoformat()

    response = client.get("/reports/aftersales/", {"start": day, "end": day})

    # opened, closed, cycle time, refunded
    assert table(response, "cases")["Refund only"] == ["2", "1", "2.0 h", "¥40.00"]
    rows = download(client, "/reports/aftersales/cases.csv", {"start": day, "end": day})
    assert rows[1] == ["Refund only", "2", "1", "7200", "40.0"]
    before = timezone.localdate(NOW - timedelta(days=1)).isoformat()
    assert (
        table(client.get("/reports/aftersales/", {"start": before, "end": before}), "cases") == {}
    )
