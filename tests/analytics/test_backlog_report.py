"""The backlog on the report pages: tickets open now by category and age, each count leading
to its tickets, and the open tickets at the end of each day worked back from the rollups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import reports
from analytics.facts import facts_mark, facts_refresh
from analytics.metrics import Totals
from tests.factories import intake
from tickets.models import Status, Ticket
from tickets.services.workflow import ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def aged(agent):  # type: ignore[no-untyped-def]
    """Open tickets 2 hours, 2 days, 5 days and 10 days old, and one resolved 10 days old
    (not in the backlog)."""
    now = timezone.now()
    made = {}
    for n, (name, age) in enumerate(
        [
            ("fresh", timedelta(hours=2)),
            ("two_days", timedelta(days=2)),
            ("five_days", timedelta(days=5)),
            ("ten_days", timedelta(days=10)),
            ("done", timedelta(days=10)),
        ]
    ):
        ticket = intake(phone=f"1370013700{n}", text="我的快递三天了还没到").ticket
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now - age)
        made[name] = ticket
    ticket_set_status(ticket=made["done"], status=Status.RESOLVED, actor=agent.user)
    facts_mark([t.pk for t in made.values()])
    facts_refresh()
    return made


def backlog_rows(response):  # type: ignore[no-untyped-def]
    table = next(t for t in response.context["tables"] if t["table"].key == "backlog")
    return {row["label"]: row["cells"] for row in table["rows"]}


def test_the_categories_page_shows_the_open_tickets_by_age(client, supervisor, aged):
    client.force_login(supervisor.user)
    category = Ticket.objects.get(pk=aged["fresh"].pk).category

    response = client.get("/reports/categories/")

    assert response.status_code == 200
    rows = backlog_rows(response)
    label = next(label for label in rows if label != "All categories")
    cells = [cell["text"] for cell in rows[label]]
    # Open, under a day, 1–3 days, 3–7 days, over 7 days, the oldest's age.
    assert cells[:5] == ["4", "1", "1", "1", "1"]
    assert cells[5] == "10.0 d"
    assert Ticket.objects.filter(is_open=True, category=category).count() == 4


def test_an_age_bucket_leads_to_its_tickets_oldest_first(client, supervisor, aged):
    client.force_login(supervisor.user)

    over_a_week = client.get("/reports/tickets/backlog_over_7d/")
    everything = client.get("/reports/tickets/backlog/")

    assert over_a_week.status_code == 200
    assert [t.number for t in over_a_week.context["rows"]] == [aged["ten_days"].number]
    assert [t.number for t in everything.context["rows"]] == [
        aged[name].number for name in ("ten_days", "five_days", "two_days", "fresh")
    ]
    assert "open now" in everything.content.decode()


def test_the_period_does_not_change_the_backlog_but_the_filters_do(client, supervisor, aged):
    client.force_login(supervisor.user)
    long_ago = {"start": "2024-01-01", "end": "2024-01-31"}

    old_period = backlog_rows(client.get("/reports/categories/", long_ago))
    other_channel = backlog_rows(client.get("/reports/categories/", {"channel": "email"}))

    assert next(iter(old_period.values()))[0]["text"] == "4"
    assert other_channel == {}


def test_the_open_tickets_at_each_day_end_are_worked_back_from_now():
    days = [
        Totals(created=5, resolved=1),  # two days ago
        Totals(created=3, resolved=4),  # yesterday
        Totals(created=2, resolved=0),  # today
    ]

    ends = reports.open_at_day_ends(10, days)

    # Today ends with 10; yesterday ended with 10 - 2 + 0 = 8; the day before with 8 - 3 + 4.
    assert ends == [9.0, 8.0, 10.0]


def test_the_backlog_chart_ends_today_with_what_is_open_now(client, supervisor, aged):
    client.force_login(supervisor.user)

    response = client.get("/reports/categories/")

    chart = next(c for c in response.context["chart"]["charts"] if c["id"] == "chart-backlog")
    data = chart["series"][0]["data"]
    today = timezone.localdate()
    # What was truly open at the end of each day: created by then, and not the ticket
    # resolved today (nothing here was reopened, so working back is exact).
    created = {
        name: timezone.localdate(Ticket.objects.get(pk=t.pk).created_at) for name, t in aged.items()
    }
    truth = [
        float(
            sum(
                1
                for name, day in created.items()
                if day <= end and not (name == "done" and end >= today)
            )
        )
        for end in (today - timedelta(days=n) for n in range(6, -1, -1))
    ]
    assert data == truth
    assert data[-1] == 4.0 and data[0] >= 2.0


def test_the_board_and_the_report_page_count_the_same_open_tickets(client, supervisor, aged):
    from analytics.selectors import board_counters

    client.force_login(supervisor.user)

    rows = backlog_rows(client.get("/reports/categories/"))

    total = sum(int(cells[0]["text"]) for label, cells in rows.items() if label != "All categories")
    assert total == board_counters()["open"] == 4
