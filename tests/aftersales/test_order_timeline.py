"""Purchases and shipment milestones on the customer timeline, paged with the core's cursor."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from aftersales.order_timeline import orders_placed, shipment_milestones
from tests.aftersales.factories import NOW, make_order
from tickets.models import Customer
from tickets.selectors import customer_timeline

pytestmark = pytest.mark.django_db


def at(hours: float) -> str:
    return (NOW - timedelta(hours=hours)).isoformat()


def shipment(tracking: str, *events: tuple[str, float]) -> dict[str, object]:
    return {
        "carrier": "SF",
        "tracking_number": tracking,
        "status": "in_transit",
        "events": [{"status": status, "at": at(hours)} for status, hours in events],
    }


@pytest.fixture
def history() -> Customer:
    customer = Customer.objects.create(name="冯二")
    make_order(
        customer,
        number="SO-T-1",
        placed_at=at(100),
        shipments=[shipment("SF-T-1", ("collected", 90), ("in_transit", 80), ("delivered", 70))],
    )
    # Two orders placed at the same moment: the cursor tells them apart by row.
    make_order(customer, number="SO-T-2", placed_at=at(60), shipments=[])
    make_order(
        customer,
        number="SO-T-3",
        placed_at=at(60),
        shipments=[shipment("SF-T-3", ("collected", 50), ("exception", 40))],
    )
    make_order(Customer.objects.create(name="别人"), number="SO-T-9", placed_at=at(55))
    return customer


def test_the_sources_give_purchases_and_milestones_newest_first(history):
    orders = orders_placed(history, lambda field: Q(), 10)
    milestones = shipment_milestones(history, lambda field: Q(), 10)

    assert [entry.at for entry in orders] == sorted((e.at for e in orders), reverse=True)
    assert len(orders) == 3
    newest = orders[0].html
    assert (
        "SO-T-3" in newest and "¥215.00" in newest and "马克杯" in newest and "榴莲礼盒" in newest
    )
    kinds = [(entry.at, entry.html) for entry in milestones]
    assert [a for a, _h in kinds] == [NOW - timedelta(hours=h) for h in (40, 50, 70, 90)]
    assert all("in_transit" not in html for _a, html in kinds)
    assert "SF-T-1" in kinds[2][1]


def test_each_source_is_one_query(history):
    for source in (orders_placed, shipment_milestones):
        with CaptureQueriesContext(connection) as queries:
            source(history, lambda field: Q(), 2)
        assert len(queries) == 1, source.__name__


def test_paging_walks_every_entry_once_in_order(history, agent):
    seen = []
    cursor = ""
    for _page in range(20):
        page = customer_timeline(
            customer=history, viewer=agent.user, include_internal=True, before=cursor, size=2
        )
        seen = [entry for entry in page.entries if entry.extra] + seen
        if page.earlier is None:
            break
        cursor = page.earlier
    texts = [entry.extra.html for entry in seen]
    assert len(texts) == 7  # three orders, four milestones
    assert len(set(texts)) == 7
    assert [entry.at for entry in seen] == sorted(entry.at for entry in seen)
    assert not any("SO-T-9" in text for text in texts)
    placed = [text for text in texts if "order-placed" in text]
    assert ["SO-T-1" in placed[0], "SO-T-2" in placed[1], "SO-T-3" in placed[2]] == [True] * 3
