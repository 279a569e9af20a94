"""Reads of after-sales that guards and pages share: what an order's cases already claim
and hold, and when an order's after-sales window closes."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Sum

from aftersales.models import Case, CaseItem, Order
from aftersales.steps import FINAL_STEPS, VOID_STEPS


def claimed_quantities(*, order: Order, exclude_case_id: int | None = None) -> dict[int, int]:
    """Per order item id, the quantity held by the order's cases that are open or
    completed (a cancelled or rejected case gives its items back)."""
    rows = CaseItem.objects.filter(case__order=order).exclude(case__step__in=VOID_STEPS)
    if exclude_case_id is not None:
        rows = rows.exclude(case_id=exclude_case_id)
    totals = rows.values("order_item_id").annotate(total=Sum("quantity"))
    return {row["order_item_id"]: row["total"] for row in totals}


def items_value(case: Case) -> Decimal:
    """What the case's items cost: Σ unit price × quantity."""
    total = case.items.aggregate(value=Sum(F("quantity") * F("order_item__unit_price")))
    return Decimal(total["value"] or 0)


def refund_room(*, order: Order, value: Decimal, exclude_case_id: int | None = None) -> Decimal:
    """The most a case whose items are worth `value` may give back: `value`, capped by what
    the customer paid for the order less what its other cases hold — money refunded on
    them, and for those still open the larger of that and what they ask for. Cancelled and
    rejected cases hold nothing. Never below zero."""
    held = Decimal(0)
    others = order.cases.exclude(step__in=VOID_STEPS)
    if exclude_case_id is not None:
        others = others.exclude(pk=exclude_case_id)
    for other in others.only("step", "amount_requested", "refunded_amount"):
        if other.step in FINAL_STEPS:
            held += other.refunded_amount
        else:
            held += max(other.amount_requested, other.refunded_amount)
    return max(Decimal(0), min(value, order.paid_amount - held))


def window_ends(*, order: Order, product_type: str) -> datetime:
    """When the after-sales window of the order's goods of `product_type` closes: the
    type's hours (settings.AFTERSALES_WINDOW_HOURS) from the latest delivery, or from the
    order's placing while nothing is delivered."""
    delivered = order.shipments.exclude(delivered_at=None).order_by("-delivered_at").first()
    start = delivered.delivered_at if delivered and delivered.delivered_at else order.placed_at
    hours = settings.AFTERSALES_WINDOW_HOURS[product_type]
    return start + timedelta(hours=hours)
