"""The after-sales report page's time per type and step: read from the case rollups, shown
in English and Chinese, narrowed by the ticket's team and agent (cases without a ticket only
unfiltered), and downloaded as the page shows it."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersales.models import Case, CaseStep
from aftersales.services import case_complete, case_refund, case_review
from aftersales.steps import CaseType, Step
from analytics.casefacts import casefacts_mark
from analytics.facts import facts_refresh
from tests.aftersales.factories import NOW, make_order, open_case
from tests.factories import TeamFactory, intake

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def day() -> dict[str, str]:
    today = timezone.localdate(NOW).isoformat()
    return {"start": today, "end": today}


def refunds(ticket=None) -> None:  # type: ignore[no-untyped-def]
    """Two refund-only cases at NOW (Friday 10:00): both approved an hour later, refunded
    two and four hours after that (over the 12–13 lunch hour), completed at 17:00."""
    for n, hours in enumerate((2, 4)):
        order = make_order(customer=ticket.customer) if ticket and n == 0 else make_order()
        case = open_case(
            order, type=CaseType.REFUND_ONLY, amount="40.00", ticket=ticket if n == 0 else None
        )
        case_review(case=case, approve=True, now=NOW + HOUR)
        case_refund(
            case=case,
            amount=Decimal("40.00"),
            method="balance",
            reference=f"R{n}",
            now=NOW + (1 + hours) * HOUR,
        )
        case_complete(case=case, now=NOW + 7 * HOUR)
    facts_refresh()


def steps_table(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    found = next(item for item in response.context["tables"] if item["table"].key == "steps")
    return {row["label"]: [cell["text"] for cell in row["cells"]] for row in found["rows"]}


def test_the_page_shows_the_average_time_in_each_step_per_type(client, settings, supervisor):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    refunds()
    client.force_login(supervisor.user)

    page = client.get("/reports/aftersales/", day())

    # steps ended, time in step, business time in step, expected business time
    assert steps_table(page) == {
        "Refund only: Submitted": ["2", "1.0 h", "1.0 h", "2.0 h"],
        # 11:00 to 13:00 and to 15:00: wall 3 h on average, business 2 h (lunch left out).
        "Refund only: Approved": ["2", "3.0 h", "2.0 h", "8.0 h"],
        "Refund only: Refunded": ["2", "3.0 h", "3.0 h", "8.0 h"],
    }
    assert "Time in each step per type" in page.content.decode()


def test_the_per_step_table_reads_in_chinese(client, settings, supervisor):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    refunds()
    client.force_login(supervisor.user)

    page = client.get("/reports/aftersales/", day())

    shown = page.content.decode()
    assert "各类型各环节用时" in shown
    assert "环节平均用时" in shown
    assert steps_table(page)["仅退款：已提交"] == ["2", "1.0 小时", "1.0 小时", "2.0 小时"]
    assert "Time in each step per type" not in shown


def test_the_download_is_the_per_step_table_as_the_page_shows_it(client, settings, supervisor):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    refunds()
    client.force_login(supervisor.user)

    response = client.get("/reports/aftersales/steps.csv", day())

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        [
            "Type and step",
            "Steps ended",
            "Time in step (average)",
            "Business time in step (average)",
            "Expected business time",
        ],
        ["Refund only: Submitted", "2", "3600", "3600", "7200"],
        ["Refund only: Approved", "2", "10800", "7200", "28800"],
        ["Refund only: Refunded", "2", "10800", "10800", "28800"],
    ]
    page = steps_table(client.get("/reports/aftersales/", day()))
    assert [row[0] for row in rows[1:]] == list(page)
    xlsx = client.get("/reports/aftersales/steps.xlsx", day())
    assert xlsx.status_code == 200


def test_a_team_or_an_agent_narrows_cases_through_their_ticket(client, settings, supervisor):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    ticket = intake(phone="13800138021", text="草莓坏了要退款").ticket
    refunds(ticket=ticket)  # the first case on the ticket, the second without one
    client.force_login(supervisor.user)
    other = TeamFactory(name="物流组")

    on_team = client.get("/reports/aftersales/", {**day(), "team": ticket.team_id})
    agent = client.get("/reports/aftersales/", {**day(), "agent": ticket.assignee_id or 0})
    elsewhere = client.get("/reports/aftersales/", {**day(), "team": other.pk})

    assert steps_table(on_team)["Refund only: Approved"] == ["1", "2.0 h", "1.0 h", "8.0 h"]
    assert steps_table(agent) == steps_table(on_team)
    assert steps_table(elsewhere) == {}


def test_the_case_figures_are_read_from_the_rollups_not_the_cases(client, settings, supervisor):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    refunds()
    client.force_login(supervisor.user)
    year = {"start": (NOW - timedelta(days=364)).date().isoformat(), "end": day()["end"]}

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/reports/aftersales/", year)

    assert steps_table(page)["Refund only: Submitted"][0] == "2"
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "aftersales_casestep" not in tables
    assert '"aftersales_case"' not in tables


def test_a_step_outside_the_types_flow_still_has_its_row(client, settings, supervisor):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    case = open_case(make_order(), type=CaseType.RETURN_REFUND, now=NOW)
    # Written by hand: a return's flow has no `approved`, but the rows say it was.
    CaseStep.objects.create(case=case, step=Step.APPROVED, at=NOW + HOUR)
    CaseStep.objects.create(case=case, step=Step.WAITING_FOR_RETURN, at=NOW + 3 * HOUR)
    Case.objects.filter(pk=case.pk).update(step=Step.WAITING_FOR_RETURN)
    casefacts_mark([case.pk])
    facts_refresh()
    client.force_login(supervisor.user)

    rows = steps_table(client.get("/reports/aftersales/", day()))

    assert list(rows) == ["Return and refund: Submitted", "Return and refund: Approved"]
    assert rows["Return and refund: Approved"] == ["1", "2.0 h", "—", "—"]
