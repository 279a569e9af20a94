"""The board's tiles of the day: resolution rate, first-contact resolution and repeat contacts
from the report code (and equal to the overview and its CSV on the same day), today's CSAT,
the backlog by category with its age, the trends of the last seven days, and the wall screen."""

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from aftersales.models import Shipment, ShipmentAnomaly
from analytics.facts import facts_mark, facts_refresh
from analytics.reports import Filters, period_totals
from analytics.selectors import anomaly_trend, backlog_by_category, overdue_action_trend
from analytics.views import sparkline
from feedback.models import ComplaintReview, Survey
from tests.aftersales.factories import make_order
from tests.factories import UserFactory, intake
from tests.feedback.complaints_support import complaint_ticket, reviewed
from tickets.models import Status, Ticket
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def midnight(days_ago: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time.min))


@pytest.fixture
def today_tickets(agent):  # type: ignore[no-untyped-def]
    """Four contacts today from three customers: two resolved with one answer each (one of
    them followed by the same customer's second ticket on the same matter), one answered and
    open, one waiting."""
    refund = intake(phone="13800138001", text="草莓发霉了，要退款").ticket
    ticket_reply(ticket=refund, author=agent, body="给您退款")
    ticket_set_status(ticket=refund, status=Status.RESOLVED, actor=agent.user)
    intake(phone="13800138001", text="草莓发霉了，退款还没到")
    invoice = intake(phone="13800138002", text="发票怎么开").ticket
    ticket_reply(ticket=invoice, author=agent, body="在订单页申请")
    ticket_set_status(ticket=invoice, status=Status.RESOLVED, actor=agent.user)
    late = intake(phone="13800138003", text="快递没到").ticket
    ticket_reply(ticket=late, author=agent, body="在路上了")
    facts_refresh()


def test_todays_rates_on_the_board_are_the_overviews_and_its_exports(
    client, supervisor, today_tickets
):
    client.force_login(supervisor.user)
    day = timezone.localdate().isoformat()
    period = {"start": day, "end": day}

    board = client.get("/board/counters/").json()
    overview = client.get("/reports/", period)
    export = client.get("/reports/export.csv", period)

    # 2 resolved of 4 contacts; the second ticket on the mould makes one repeat contact.
    assert board["resolution_rate_today"] == 0.5
    assert board["repeat_rate_today"] == 0.25
    assert board["resolution_rate_today_display"] == "50.0%"
    assert board["repeat_rate_today_display"] == "25.0%"
    assert board["fcr_rate_today"] is not None
    tiles = {t["key"]: t["value"] for t in overview.context["tiles"]}
    for key in ("resolution_rate", "fcr_rate", "repeat_rate"):
        assert board[f"{key}_today_display"] == tiles[key], key
    header, *rows = csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")))
    (row,) = rows
    cells = dict(zip(header, row, strict=True))
    assert cells["Day"] == day
    assert float(cells["Resolution rate"]) == round(board["resolution_rate_today"], 4)
    assert float(cells["First-contact resolution"]) == round(board["fcr_rate_today"], 4)
    assert float(cells["Repeat contacts"]) == round(board["repeat_rate_today"], 4)


def test_the_rate_tiles_trend_ends_with_today(client, supervisor, today_tickets):
    client.force_login(supervisor.user)

    trends = client.get("/board/counters/").json()["trends"]

    # Six days without contacts have no rate: only today is on the line.
    assert trends["resolution_rate"]["points"] == "100.0,12.0"
    assert trends["resolution_rate"]["title"].endswith(f"{timezone.localdate():%m-%d} 50.0%")
    assert trends["resolution_rate"]["title"].count("—") == 6


def survey(ticket: Ticket, *, invited_at: datetime, score: int | None, n: int) -> Survey:
    return Survey.objects.create(
        kind="csat",
        trigger="resolved",
        key=f"csat:test:{n}",
        ticket=ticket,
        customer=ticket.customer,
        channel=ticket.channel,
        created_at=invited_at,
        invited_at=invited_at,
        nonce="0" * 16,
        score=score,
        answered_at=None if score is None else invited_at + timedelta(minutes=5),
    )


def test_todays_csat_is_the_share_of_fours_and_fives_among_todays_answers(client, supervisor):
    morning = midnight(0) + timedelta(minutes=1)
    tickets = [intake(user_id=f"s{n}").ticket for n in range(5)]
    for n, score in enumerate([5, 4, 2, None]):
        survey(tickets[n], invited_at=morning, score=score, n=n)
    survey(tickets[4], invited_at=midnight(1) + timedelta(hours=9), score=1, n=9)
    facts_mark(ticket.pk for ticket in tickets)
    facts_refresh()
    client.force_login(supervisor.user)

    board = client.get("/board/counters/").json()

    assert board["csat_today_display"] == "66.7%"
    assert board["csat_today"] == pytest.approx(2 / 3)
    # The satisfaction report's own figure for the day.
    today = timezone.localdate()
    day = period_totals(Filters(start=today, end=today))
    assert (day.csat_answered, day.csat_satisfied) == (3, 2)
    title = board["trends"]["csat"]["title"].split(" · ")
    assert title[-2:] == [
        f"{timezone.localdate() - timedelta(days=1):%m-%d} 0.0%",
        f"{timezone.localdate():%m-%d} 66.7%",
    ]
    assert title[:5] == [
        f"{timezone.localdate() - timedelta(days=n):%m-%d} —" for n in range(6, 1, -1)
    ]


def test_the_backlog_counts_open_tickets_by_category_with_the_oldest_age(client, supervisor, agent):
    moulds = [intake(phone=f"1390013900{n}", text="草莓发霉了").ticket for n in range(2)]
    invoice = intake(phone="13900139009", text="发票怎么开").ticket
    done = intake(phone="13900139008", text="发票怎么开").ticket
    ticket_set_status(ticket=done, status=Status.RESOLVED, actor=agent.user)
    Ticket.objects.filter(pk=moulds[0].pk).update(created_at=timezone.now() - timedelta(days=3))
    client.force_login(supervisor.user)

    rows = backlog_by_category()
    live = client.get("/board/live/").content.decode()

    assert [(r.category, r.count) for r in rows] == [
        (moulds[0].category, 2),
        (invoice.category, 1),
    ]
    board = client.get("/board/counters/").json()["backlog"]
    assert [(b["count"], b["oldest"], b["bar"]) for b in board] == [(2, "3 d", 10), (1, "0 min", 5)]
    assert 'id="backlog-rows"' in live and "bar-10" in live


def anomaly(*, detected_days_ago: int, resolved_days_ago: int | None, n: int) -> None:
    order = make_order(
        placed_at=(timezone.now() - timedelta(days=10)).isoformat(),
        goods_amount="50.00",
        shipping_amount="0.00",
        paid_amount="50.00",
        items=[{"sku": "MUG-1", "name": "马克杯", "quantity": 1, "unit_price": "50.00"}],
        shipments=[],
    )
    parcel = Shipment.objects.create(
        order=order, carrier="SF", tracking_number=f"SF-T{n}", status="in_transit"
    )
    ShipmentAnomaly.objects.create(
        shipment=parcel,
        kind="stuck_at_hub",
        order_number=order.number,
        detected_at=midnight(detected_days_ago) + timedelta(hours=10),
        resolved_at=None
        if resolved_days_ago is None
        else midnight(resolved_days_ago) + timedelta(hours=10),
    )


def test_the_anomaly_trend_counts_those_open_at_each_days_end(db):
    anomaly(detected_days_ago=3, resolved_days_ago=1, n=1)
    anomaly(detected_days_ago=2, resolved_days_ago=None, n=2)
    anomaly(detected_days_ago=20, resolved_days_ago=10, n=3)

    trend = anomaly_trend(open_now=1)

    # Days 6…1 ago, then today: the first opened three days ago, the second two days ago;
    # the first was resolved yesterday.
    assert trend == (0.0, 0.0, 0.0, 1.0, 2.0, 1.0, 1.0)


def test_the_overdue_action_trend_counts_actions_past_due_and_not_done(supervisor):
    today = timezone.localdate()
    late = complaint_ticket("我要投诉 一")
    done = complaint_ticket("我要投诉 二")
    Ticket.objects.update(created_at=timezone.now() - timedelta(days=30))
    reviewed(late, by=supervisor.user, due=today - timedelta(days=3))
    reviewed(done, by=supervisor.user, due=today - timedelta(days=4), status="done")
    ComplaintReview.objects.update(created_at=timezone.now() - timedelta(days=10))
    ComplaintReview.objects.filter(complaint__ticket=done).update(
        action_done_at=midnight(1) + timedelta(hours=9)
    )

    trend = overdue_action_trend(overdue_now=1)

    # At the end of a day, an action is overdue when its due day is before that day: the
    # late one from two days ago on, the done one from three days ago until it was done.
    assert trend == (0.0, 0.0, 0.0, 1.0, 2.0, 1.0, 1.0)


def test_a_sparkline_draws_the_known_days_lowest_at_the_bottom():
    assert sparkline([None, None]) == ""
    assert sparkline([0.0, 1.0, None, 2.0]) == "0.0,22.0 33.3,12.0 100.0,2.0"
    assert sparkline([3.0, 3.0]) == "0.0,12.0 100.0,12.0"


def test_the_wall_screen_has_the_tiles_and_no_navigation(client, supervisor, today_tickets):
    client.force_login(supervisor.user)

    page = client.get("/board/tv/")
    html = page.content.decode()

    assert page.status_code == 200
    assert '<body class="board tv"' in html
    assert 'hx-get="/board/live/?tv=1"' in html and 'data-live-socket="/ws/board/"' in html
    assert "<nav" not in html and "<form" not in html and "<a " not in html
    assert 'data-key="resolution_rate_today">50.0%<' in html
    assert "<script>" not in html and "style=" not in html
    fragment = client.get("/board/live/", {"tv": "1"}).content.decode()
    assert "<html" not in fragment and "<a " not in fragment
    assert 'data-key="repeat_rate_today">25.0%<' in fragment


def test_the_wall_screen_speaks_the_users_language(client, supervisor, settings):
    client.force_login(supervisor.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    html = client.get("/board/tv/").content.decode()

    assert "今日解决率" in html and "按类别积压" in html


def test_agents_and_customers_are_refused_the_wall_screen(client, agent):
    for url in ("/board/tv/", "/board/live/?tv=1"):
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(UserFactory())  # signed in, with no staff role
    assert client.get("/board/tv/").status_code == 403
    client.force_login(agent.user)
    assert client.get("/board/tv/").status_code == 403
    assert client.get("/board/live/?tv=1").status_code == 403


def test_the_board_fragment_takes_as_many_queries_whatever_the_tickets(
    client, supervisor, today_tickets
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(supervisor.user)
    client.get("/board/live/")  # the calendars and the session, cached
    with CaptureQueriesContext(connection) as before:
        client.get("/board/live/")
    for n in range(5):
        intake(phone=f"1370013700{n}", text=f"快递没到 {n}")
    facts_refresh()

    with CaptureQueriesContext(connection) as after:
        response = client.get("/board/live/")

    assert response.status_code == 200
    assert len(after) == len(before)


def test_the_backlog_trend_works_back_from_todays_open_tickets():
    from analytics.metrics import Totals
    from analytics.selectors import backlog_trend

    week = [Totals(created=c, resolved=r) for c, r in [(9, 9), (0, 0), (4, 1), (2, 6), (0, 0)]]

    # Today 5 open; yesterday 5 − 0 + 0; the day before 5 − 2 + 6 = 9; then 9 − 4 + 1 = 6.
    assert backlog_trend(open_now=5, week=week) == (6.0, 6.0, 9.0, 5.0, 5.0)
