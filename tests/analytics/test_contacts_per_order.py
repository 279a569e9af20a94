"""Contacts per order: the period's contacts over the shop's reported orders, on the days that
have a count; the counts come from the shop's API or a CSV import."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from analytics import reports
from analytics.facts import facts_refresh
from analytics.metrics import Totals
from analytics.models import OrderVolume, TicketFact
from analytics.services import order_volume_store
from tests.factories import intake, issue_token

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/daily"


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def shop() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token('shop', scopes=['orders'])}")
    return client


@pytest.fixture
def contacts_today(db):  # type: ignore[no-untyped-def]
    """Four contacts today, one of them by SMS."""
    for n, text in enumerate(["草莓发霉了", "快递没到", "发票怎么开", "能改地址吗"]):
        intake(phone=f"1390013900{n}", text=text)
    facts_refresh()


def week_ending_today() -> reports.Filters:
    today = timezone.localdate()
    return reports.Filters(start=today - timedelta(days=6), end=today)


def test_no_order_count_means_no_figure_rather_than_zero(contacts_today):
    totals = reports.period_totals(week_ending_today())

    assert totals.created == 4
    assert totals.contacts_per_order is None
    assert totals.orders_placed is None
    assert Totals().contacts_per_order is None


def test_contacts_per_order_leaves_out_the_days_without_a_count(contacts_today):
    today = timezone.localdate()
    # Today has 40 orders; two days before it 100, with no contacts; the other days no count.
    order_volume_store(days=[(today, 40), (today - timedelta(days=2), 100)], source="test")

    totals = reports.period_totals(week_ending_today())

    assert totals.orders_placed == 140
    assert totals.ordered_contacts == 4
    assert totals.contacts_per_order == pytest.approx(4 / 140)
    days = dict(reports.by_day(week_ending_today()))
    assert days[today].contacts_per_order == pytest.approx(4 / 40)
    assert days[today - timedelta(days=2)].contacts_per_order == 0
    assert days[today - timedelta(days=1)].contacts_per_order is None


def test_a_contact_on_a_day_without_a_count_is_not_set_against_other_days_orders(
    contacts_today,
):
    yesterday = timezone.localdate() - timedelta(days=1)
    order_volume_store(days=[(yesterday, 50)], source="test")

    totals = reports.period_totals(week_ending_today())

    assert totals.created == 4  # today's contacts still count as contacts
    assert totals.contacts_per_order == 0  # but none fell on the day with orders


def test_filters_narrow_the_contacts_not_the_shops_orders(contacts_today):
    today = timezone.localdate()
    order_volume_store(days=[(today, 40)], source="test")
    category = TicketFact.objects.exclude(category="").values_list("category", flat=True)[0]
    everything = reports.period_totals(reports.Filters(start=today, end=today))
    one_category = reports.period_totals(reports.Filters(start=today, end=today, category=category))

    assert everything.orders_placed == one_category.orders_placed == 40
    assert one_category.created < everything.created
    assert one_category.contacts_per_order == pytest.approx(one_category.created / 40)


def test_the_overview_tile_daily_table_and_export_agree(client, supervisor, contacts_today):
    today = timezone.localdate()
    order_volume_store(days=[(today, 40)], source="test")
    client.force_login(supervisor.user)

    page = client.get("/reports/")
    export = client.get("/reports/export.csv")

    tile = next(t for t in page.context["tiles"] if t["key"] == "contacts_per_order")
    assert tile["value"] == "0.100"
    assert tile["drill"] == "created"
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    assert header[-2:] == ["Orders", "Contacts per order"]
    last = rows[-1]
    assert last[0] == today.isoformat() and last[-2:] == ["40", "0.1"]
    shown = {row["day"]: row["cells"] for row in page.context["daily"]}
    assert shown[today][-2:] == ["40", "0.100"]
    assert shown[today - timedelta(days=1)][-2:] == ["—", "—"]


def test_the_shop_reports_its_orders_per_day_and_a_second_report_replaces_a_day(shop):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)

    first = shop.post(
        URL,
        {
            "days": [
                {"day": yesterday.isoformat(), "orders": 1200},
                {"day": today.isoformat(), "orders": 300},
            ]
        },
        format="json",
    )
    again = shop.post(URL, {"days": [{"day": today.isoformat(), "orders": 450}]}, format="json")

    assert first.status_code == 200 and first.json() == {"stored": 2}
    assert again.status_code == 200
    assert dict(OrderVolume.objects.values_list("day", "orders")) == {yesterday: 1200, today: 450}
    assert OrderVolume.objects.get(day=today).source == "shop"


@pytest.mark.parametrize(
    "days",
    [
        [{"day": "tomorrow", "orders": 1}],
        [{"day": "2026-01-01", "orders": -1}],
        [],
        [{"day": "2026-01-01", "orders": 1}, {"day": "2026-01-01", "orders": 2}],
        [{"day": "2999-01-01", "orders": 1}],
    ],
    ids=["not-a-date", "negative", "empty", "twice", "future"],
)
def test_a_bad_report_is_refused_with_the_reason_and_nothing_stored(shop, days):
    response = shop.post(URL, {"days": days}, format="json")

    assert response.status_code == 400
    assert response.json()
    assert not OrderVolume.objects.exists()


def test_reporting_orders_needs_the_orders_scope(agent_client):
    body = {"days": [{"day": "2026-01-01", "orders": 1}]}
    assert APIClient().post(URL, body, format="json").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Token {issue_token('app', scopes=['inbound:app'])}")
    assert wrong.post(URL, body, format="json").status_code == 403
    assert agent_client.post(URL, body, content_type="application/json").status_code == 403
    assert not OrderVolume.objects.exists()


def test_a_csv_file_of_days_is_imported_whole_or_not_at_all(tmp_path):
    good = tmp_path / "orders.csv"
    good.write_text("day,orders\n2026-11-01,1500\n2026-11-02,1720\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("2026-11-03,100\n2026-11-04,many\n", encoding="utf-8")
    out = io.StringIO()

    call_command("order_volume_import", str(good), stdout=out)
    with pytest.raises(CommandError, match="line 2"):
        call_command("order_volume_import", str(bad))

    assert "2 days" in out.getvalue()
    assert sorted(OrderVolume.objects.values_list("orders", flat=True)) == [1500, 1720]
