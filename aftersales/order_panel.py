"""The orders card on the ticket page (`tickets.hooks.ticket_panel_register`): the ticket's
order with its items, payment and shipments, and the customer's other recent orders, each
a click away from being the ticket's order. A stale linked order is fetched again in the
background."""

import logging

from django.core.cache import cache
from django.db.models import Prefetch
from django.http import HttpRequest
from django.template.loader import render_to_string

from aftersales.models import Shipment, TicketOrder, TrackingEvent
from aftersales.selectors import RECENT_ORDERS, recent_orders
from aftersales.services.order_fetch import order_is_stale, orders_fetchable
from aftersales.tasks import order_refresh_task
from kefu.celery import task_queue
from tickets.models import Ticket

logger = logging.getLogger("kefu.aftersales")

# Tracking events shown per shipment.
TRACKING_SHOWN = 3
# One background fetch per order at a time, however many agents open its tickets.
REFRESH_GUARD_SECONDS = 60


def order_panel(request: HttpRequest, ticket: Ticket) -> str:
    link = (
        TicketOrder.objects.filter(ticket=ticket)
        .prefetch_related(
            "order",
            "linked_by",
            "order__items",
            Prefetch(
                "order__shipments",
                queryset=Shipment.objects.order_by("pk").prefetch_related(
                    Prefetch("events", queryset=TrackingEvent.objects.order_by("-at", "-pk"))
                ),
            ),
        )
        .first()
    )
    recent = [
        order for order in recent_orders(ticket) if link is None or order.pk != link.order_id
    ][:RECENT_ORDERS]
    if link is None and not recent:
        return ""
    if link is not None and order_is_stale(link.order):
        _refresh_later(link.order.number)
    shipments = []
    if link is not None:
        shipments = [
            (shipment, list(shipment.events.all())[:TRACKING_SHOWN])
            for shipment in link.order.shipments.all()
        ]
    return render_to_string(
        "aftersales/agent/_order_panel.html",
        {"ticket": ticket, "link": link, "shipments": shipments, "recent": recent},
        request=request,
    )


def _refresh_later(number: str) -> None:
    if not orders_fetchable():
        return
    try:
        first = cache.add(f"aftersales:order-refresh:{number}", 1, REFRESH_GUARD_SECONDS)
    except Exception:  # the cache is down: the page still shows what is stored
        logger.warning("cache unavailable; order %s not refreshed", number, exc_info=True)
        return
    if first:
        task_queue(order_refresh_task, number)
