"""What a refused operation must leave untouched."""

from typing import Any

from aftersales.models import Case, CaseEvent, CaseItem, CaseStep, Order, OrderItem
from tickets.models import AuditEntry, TicketEvent


def database_state() -> dict[str, Any]:
    return {
        "cases": list(Case.objects.order_by("pk").values_list("number", "step", "refunded_amount")),
        "case_items": CaseItem.objects.count(),
        "steps": CaseStep.objects.count(),
        "events": CaseEvent.objects.count(),
        "orders": list(Order.objects.order_by("pk").values_list("number", "paid_amount")),
        "order_items": list(OrderItem.objects.order_by("pk").values_list("sku", "quantity")),
        "ticket_events": TicketEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
    }
