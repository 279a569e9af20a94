"""The customer's purchases and their shipments' milestones on the customer timeline
(`tickets.hooks.timeline_source_register`): two sources, one indexed query each."""

from django.db.models import Count, OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from aftersales.models import Order, OrderItem, ShipmentStatus, TrackingEvent
from tickets.hooks import TimelineBefore, TimelineExtra
from tickets.models import Customer

# Carrier event statuses that are milestones on the timeline, and what each is called.
MILESTONES = {
    "collected": _("Shipped"),
    "shipped": _("Shipped"),
    "picked_up": _("Shipped"),
    "delivered": _("Delivered"),
    "signed": _("Delivered"),
    "exception": _("Delivery exception"),
}
ITEM_NAMES_SHOWN = 2

# Carrier event statuses shown in words on the orders card (others as the carrier wrote them).
TRACKING_WORDS = {
    **{status.value: status.label for status in ShipmentStatus},
    "collected": _("Collected by the carrier"),
    "shipped": _("Shipped"),
    "picked_up": _("Collected by the carrier"),
    "signed": _("Delivered"),
}


def orders_placed(customer: Customer, before: TimelineBefore, size: int) -> list[TimelineExtra]:
    """Each order the customer placed: its number, what was paid and its first items."""
    items = OrderItem.objects.filter(order=OuterRef("pk")).order_by("pk")
    orders = (
        Order.objects.filter(customer=customer)
        .filter(before("placed_at"))
        .annotate(
            first_items=Subquery(items.values("name")[:1]),
            second_item=Subquery(items.values("name")[1:2]),
            item_count=Subquery(
                items.order_by().values("order").annotate(n=Count("pk")).values("n")[:1]
            ),
        )
        .order_by("-placed_at", "-pk")[:size]
    )
    return [
        TimelineExtra(
            at=order.placed_at,
            pk=order.pk,
            html=render_to_string(
                "aftersales/agent/_timeline_order.html",
                {
                    "order": order,
                    "names": [name for name in (order.first_items, order.second_item) if name],
                    "more": max((order.item_count or 0) - ITEM_NAMES_SHOWN, 0),
                },
            ),
        )
        for order in orders
    ]


def shipment_milestones(
    customer: Customer, before: TimelineBefore, size: int
) -> list[TimelineExtra]:
    """Shipped, delivered and exception events of the customer's orders' shipments."""
    events = (
        TrackingEvent.objects.filter(shipment__order__customer=customer, status__in=MILESTONES)
        .filter(before("at"))
        .select_related("shipment__order")
        .only(
            "pk",
            "at",
            "status",
            "location",
            "shipment__carrier",
            "shipment__tracking_number",
            "shipment__order__number",
        )
        .order_by("-at", "-pk")[:size]
    )
    return [
        TimelineExtra(
            at=event.at,
            pk=event.pk,
            html=render_to_string(
                "aftersales/agent/_timeline_shipment.html",
                {"event": event, "milestone": MILESTONES[event.status]},
            ),
        )
        for event in events
    ]
