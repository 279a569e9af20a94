"""The after-sales card on the ticket page (tickets.hooks): the ticket's cases, and a form
to open one for an order of the ticket's customer."""

from decimal import Decimal

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from aftersales.agent_views import clock_state
from aftersales.models import Case, CaseClock, Reason
from aftersales.selectors import RECENT_ORDERS, recent_orders
from aftersales.steps import REFUND_TYPES, CaseType
from tickets.masking import mask_text
from tickets.models import Direction, Ticket


def ticket_cases_panel(request: HttpRequest, ticket: Ticket) -> str:
    """Runs after the ticket page's own check that the agent may open this ticket; the
    cases shown are this ticket's, the orders its customer's."""
    now = timezone.now()
    cases = []
    found = Case.objects.filter(ticket=ticket).prefetch_related("clock").order_by("-created_at")
    for case in found:
        clock: CaseClock | None = getattr(case, "clock", None)
        cases.append({"case": case, "clock": clock, "state": clock_state(clock, now=now)})
    orders = recent_orders(ticket)[:RECENT_ORDERS]
    first = ticket.messages.filter(direction=Direction.IN).order_by("created_at", "pk").first()
    offered = []
    for order in orders:
        value = sum((item.unit_price * item.quantity for item in order.items.all()), Decimal(0))
        offered.append({"order": order, "value": value})
    return render_to_string(
        "aftersales/agent/_ticket_panel.html",
        {
            "ticket": ticket,
            "cases": cases,
            "orders": offered,
            "types": CaseType.choices,
            "refund_types": sorted(REFUND_TYPES),
            "reasons": Reason.objects.filter(is_active=True),
            # Prefilled for the agent to edit; masked as the ticket page shows it.
            "description": mask_text(first.body)[:2000] if first is not None else "",
        },
        request=request,
    )
