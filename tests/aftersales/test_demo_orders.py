"""The demo orders: realistic, summing up, linked to the demo ticket that names one, and
loaded once."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from aftersales.models import (
    Case,
    CaseStep,
    Order,
    OrderItem,
    Shipment,
    TicketOrder,
    TrackingEvent,
)
from tickets.models import ContactIdentity, EventKind, IdentityKind, Message, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):  # type: ignore[no-untyped-def]
    settings.EMBEDDED = True
    call_command("seed_demo", stdout=StringIO())
    before = timezone.now()
    call_command("seed_demo_orders", stdout=StringIO())
    return before


def state() -> list[object]:
    return [
        list(Order.objects.order_by("pk").values_list("number", "fetched_at", "paid_amount")),
        list(OrderItem.objects.order_by("pk").values_list("pk", "quantity")),
        list(Shipment.objects.order_by("pk").values_list("pk", "status", "last_event_at")),
        TrackingEvent.objects.count(),
        list(TicketOrder.objects.values_list("ticket_id", "order_id")),
        TicketEvent.objects.filter(kind=EventKind.ORDER_LINKED).count(),
        ContactIdentity.objects.filter(kind=IdentityKind.ORDER).count(),
        list(Case.objects.order_by("pk").values_list("number", "step", "refunded_amount")),
        CaseStep.objects.count(),
    ]


def test_every_demo_order_adds_up(demo):
    assert Order.objects.count() >= 5
    for order in Order.objects.prefetch_related("items"):
        goods = sum((item.unit_price * item.quantity for item in order.items.all()), Decimal(0))
        assert order.goods_amount == goods, order.number
        assert 0 < order.paid_amount <= goods + order.shipping_amount, order.number
        assert order.currency == "CNY"
        assert order.source == "demo"
        assert ContactIdentity.objects.get(kind="order", value=order.number).customer_id == (
            order.customer_id
        )


def test_fresh_food_was_delivered_yesterday_and_electronics_days_ago(demo):
    strawberries = OrderItem.objects.get(name__contains="草莓")
    assert strawberries.product_type == "fresh"
    fresh = strawberries.order
    assert set(fresh.items.values_list("product_type", flat=True)) == {"fresh"}
    assert fresh.items.filter(name__contains="车厘子").exists()
    delivered = fresh.shipments.get().delivered_at
    assert timezone.localdate(delivered) == timezone.localdate(demo) - timedelta(days=1)

    earbuds = OrderItem.objects.filter(
        name__contains="蓝牙耳机", order__shipments__status="delivered"
    )
    electronics = earbuds.get().order
    assert electronics.items.filter(name__contains="电饭煲", product_type="electronics").exists()
    assert demo - electronics.shipments.get().delivered_at >= timedelta(days=2)


def test_one_parcel_is_stuck_at_a_sorting_centre_for_30_hours(demo):
    shipment = Shipment.objects.get(status="in_transit")
    last = shipment.events.order_by("-at").first()
    assert "分拨中心" in last.location
    assert shipment.last_event_at == last.at
    stuck = demo - last.at
    assert timedelta(hours=29, minutes=59) < stuck < timedelta(hours=30, minutes=5)
    assert shipment.events.count() >= 3


def test_the_demo_ticket_naming_an_order_is_linked_to_it(demo):
    message = Message.objects.get(body__contains="SO20261120-88")
    link = TicketOrder.objects.get(ticket=message.ticket)
    assert link.order.number == "SO20261120-88"
    assert link.order.customer == message.ticket.customer
    assert link.order.shipments.get().status == "in_transit"


def test_running_it_again_changes_nothing(demo):
    before = state()
    call_command("seed_demo_orders", stdout=StringIO())
    assert state() == before


def test_without_the_demo_customers_nothing_is_made(settings):
    call_command("seed_demo_orders", stdout=StringIO())
    assert not Order.objects.exists()


def test_demo_cases_stand_at_three_stages_on_the_tickets_that_ask_for_them(demo):
    by_order = {case.order.number: case for case in Case.objects.select_related("order", "ticket")}

    strawberries = by_order["SO202611300101"]
    assert (strawberries.type, strawberries.step) == ("refund_only", "approved")
    assert "草莓" in strawberries.ticket.subject
    blender = by_order["SO202611250201"]
    assert (blender.type, blender.step) == ("return_refund", "waiting_for_return")
    assert blender.ticket.customer.name == "Emma Wilson"
    milk = by_order["SO202611100103"]
    assert (milk.step, milk.refunded_amount) == ("completed", Decimal("50.00"))
    assert list(milk.steps.values_list("step", flat=True)) == [
        "submitted",
        "approved",
        "refunded",
        "completed",
    ]
    # Each case's ticket is linked to its order, as an agent would have done.
    for case in (strawberries, blender, milk):
        assert TicketOrder.objects.get(ticket=case.ticket).order_id == case.order_id
