"""Order snapshots: validated whole, stored once, newer wins."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aftersales.models import Order, OrderItem, OrderSource, Shipment, TrackingEvent
from aftersales.services import order_upsert
from tests.aftersales.factories import NOW, make_order, open_case, snapshot
from tests.aftersales.state import database_state
from tickets.models import Customer

pytestmark = pytest.mark.django_db


def test_a_snapshot_is_stored_with_its_items_shipments_and_tracking():
    order = make_order()

    assert order.paid_amount == Decimal("215.00")
    assert order.source == OrderSource.PUSH
    assert sorted(order.items.values_list("sku", "quantity", "product_type")) == [
        ("DURIAN-1", 1, "fresh"),
        ("MUG-1", 2, "general"),
    ]
    shipment = order.shipments.get()
    assert shipment.status == "delivered"
    assert shipment.delivered_at == NOW - timedelta(days=1)
    assert shipment.last_event_at == NOW - timedelta(days=1)
    delivered = TrackingEvent.objects.get(shipment=shipment, status="delivered")
    # The carrier's event is kept as it came, fields Kefu does not read included.
    assert delivered.raw["courier"] == "王师傅"


def test_the_same_snapshot_twice_changes_nothing():
    customer = Customer.objects.create(name="李四")
    values = snapshot()
    order_upsert(snapshot=values, customer=customer, source=OrderSource.PUSH, now=NOW)
    before = database_state()
    counts = (Shipment.objects.count(), TrackingEvent.objects.count())

    again = order_upsert(snapshot=values, customer=customer, source=OrderSource.API_FETCH, now=NOW)

    assert database_state() == before
    assert (Shipment.objects.count(), TrackingEvent.objects.count()) == counts
    assert Order.objects.count() == 1
    assert again.source == OrderSource.API_FETCH


def test_a_newer_snapshot_updates_items_and_an_older_one_is_ignored():
    customer = Customer.objects.create(name="李四")
    values = snapshot(updated_at=NOW.isoformat())
    order_upsert(snapshot=values, customer=customer, source=OrderSource.PUSH, now=NOW)

    newer = {
        **values,
        "updated_at": (NOW + timedelta(hours=1)).isoformat(),
        "payment_status": "partially_refunded",
        "items": [{**values["items"][0], "quantity": 3}],
    }
    order_upsert(snapshot=newer, customer=customer, source=OrderSource.PUSH, now=NOW)
    older = {**values, "updated_at": (NOW - timedelta(hours=1)).isoformat()}
    order = order_upsert(snapshot=older, customer=customer, source=OrderSource.PUSH, now=NOW)

    assert order.payment_status == "partially_refunded"
    assert list(OrderItem.objects.values_list("sku", "quantity")) == [("MUG-1", 3)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": ""}, "number"),
        ({"paid_amount": "abc"}, "paid_amount"),
        ({"paid_amount": "999.00"}, "paid_amount"),
        ({"payment_status": "maybe"}, "payment_status"),
        ({"placed_at": "yesterday"}, "placed_at"),
        ({"items": []}, "items"),
        (
            {"items": [{"sku": "A", "name": "a", "quantity": 0, "unit_price": "1"}]},
            "items.0.quantity",
        ),
        ({"shipments": [{"carrier": "SF"}]}, "shipments.0.tracking_number"),
    ],
)
def test_a_bad_snapshot_is_refused_naming_the_field(change, field):
    customer = Customer.objects.create(name="李四")
    before = database_state()

    with pytest.raises(ValidationError) as caught:
        order_upsert(snapshot=snapshot(**change), customer=customer, source=OrderSource.PUSH)

    assert field in caught.value.message_dict
    assert database_state() == before


def test_two_items_with_one_sku_are_refused():
    items = [{"sku": "A", "name": "a", "quantity": 1, "unit_price": "1"}] * 2
    with pytest.raises(ValidationError) as caught:
        make_order(items=items)
    assert "items" in caught.value.message_dict


def test_an_order_of_another_customer_is_not_taken_over():
    values = snapshot()
    order_upsert(
        snapshot=values, customer=Customer.objects.create(), source=OrderSource.PUSH, now=NOW
    )
    before = database_state()

    with pytest.raises(ValidationError) as caught:
        order_upsert(snapshot=values, customer=Customer.objects.create(), source=OrderSource.PUSH)

    assert caught.value.error_list[0].code == "order_customer"
    assert database_state() == before


def test_a_snapshot_cannot_drop_or_shrink_an_item_under_a_case():
    customer = Customer.objects.create(name="李四")
    values = snapshot(updated_at=NOW.isoformat())
    order = order_upsert(snapshot=values, customer=customer, source=OrderSource.PUSH, now=NOW)
    open_case(order, quantity=2, amount="100.00")
    later = (NOW + timedelta(hours=1)).isoformat()
    before = database_state()

    for items in (
        [values["items"][1]],
        [{**values["items"][0], "quantity": 1}, values["items"][1]],
    ):
        with pytest.raises(ValidationError) as caught:
            order_upsert(
                snapshot={**values, "updated_at": later, "items": items},
                customer=customer,
                source=OrderSource.PUSH,
            )
        assert caught.value.error_list[0].code == "item_claimed"
        assert database_state() == before
