"""The logistics card on a ticket's page: for a ticket a logistics anomaly opened, the rule,
the order, the parcel and its latest carrier events."""

from django.http import HttpRequest
from django.template.loader import render_to_string

from aftersales.models import ShipmentAnomaly
from tickets.models import Ticket

EVENTS_SHOWN = 5


def logistics_panel(request: HttpRequest, ticket: Ticket) -> str:
    anomaly = (
        ShipmentAnomaly.objects.filter(ticket=ticket)
        .prefetch_related("shipment")
        .order_by("-detected_at")
        .first()
    )
    if anomaly is None:
        return ""
    events = list(anomaly.shipment.events.order_by("-at", "-pk")[:EVENTS_SHOWN])
    return render_to_string(
        "aftersales/_logistics_panel.html",
        {"anomaly": anomaly, "shipment": anomaly.shipment, "events": events},
        request=request,
    )
