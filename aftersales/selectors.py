"""Reads of after-sales that guards and pages share: what an order's cases already claim
and hold, and when an order's after-sales window closes."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet, Sum

from aftersales.models import Case, CaseClock, CaseItem, Order, StepClock
from aftersales.steps import FINAL_STEPS, VOID_STEPS
from kefu.roles import Role, has_role
from tickets.selectors import team_ids_for, tickets_visible_to

# The customer's orders the ticket page's cards offer, newest first (the orders card shows
# those besides the ticket's own order, the cases card those a case can be opened on).
RECENT_ORDERS = 5


def recent_orders(ticket: Any) -> list[Order]:
    """The ticket's customer's RECENT_ORDERS + 1 newest orders with their items, read once
    per ticket object: the page's two cards take theirs from the same list."""
    cached: list[Order] | None = getattr(ticket, "_aftersales_recent_orders", None)
    if cached is None:
        cached = list(
            Order.objects.filter(customer_id=ticket.customer_id)
            .order_by("-placed_at", "-pk")
            .prefetch_related("items")[: RECENT_ORDERS + 1]
        )
        ticket._aftersales_recent_orders = cached
    return cached


def claimed_quantities(*, order: Order, exclude_case_id: int | None = None) -> dict[int, int]:
    """Per order item id, the quantity held by the order's cases that are open or
    completed (a cancelled or rejected case gives its items back)."""
    rows = CaseItem.objects.filter(case__order=order).exclude(case__step__in=VOID_STEPS)
    if exclude_case_id is not None:
        rows = rows.exclude(case_id=exclude_case_id)
    totals = rows.values("order_item_id").annotate(total=Sum("quantity"))
    return {row["order_item_id"]: row["total"] for row in totals}


def items_value(case: Case) -> Decimal:
    """What the case's items cost: Σ unit price × quantity, in yuan and fen (SQLite hands
    the product back as a float-like decimal with many places)."""
    total = case.items.aggregate(value=Sum(F("quantity") * F("order_item__unit_price")))
    return Decimal(total["value"] or 0).quantize(Decimal("0.01"))


def refund_room(*, order: Order, value: Decimal, exclude_case_id: int | None = None) -> Decimal:
    """The most a case whose items are worth `value` may give back: `value`, capped by what
    the customer paid for the order less what its other cases hold — money refunded on
    them, and for those still open the larger of that and what they ask for. Cancelled and
    rejected cases hold nothing. Never below zero."""
    others = order.cases.exclude(step__in=VOID_STEPS)
    if exclude_case_id is not None:
        others = others.exclude(pk=exclude_case_id)
    return refund_room_among(
        order=order, value=value, others=others.only("step", "amount_requested", "refunded_amount")
    )


def refund_room_among(*, order: Order, value: Decimal, others: Iterable[Case]) -> Decimal:
    """`refund_room` with the order's other cases read already (a batch of the shop's
    events reads those of all its orders at once)."""
    held = Decimal(0)
    for other in others:
        if other.step in VOID_STEPS:
            continue
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


def case_step_due(case: Case) -> datetime | None:
    """When the case's current step is expected to be done (its SLA clock's due time), or
    None: the case is over, or waits for the customer (its clock holds)."""
    return clock_due(CaseClock.objects.filter(case_id=case.pk).first())


def clock_due(clock: CaseClock | None) -> datetime | None:
    """The due time of a case's step clock already read, as `case_step_due` gives it."""
    if clock is None or clock.state in (StepClock.NONE, StepClock.PAUSED):
        return None
    return clock.due_at


def cases_visible_to(user: Any) -> QuerySet[Case]:
    """The cases a member of staff may see: those of the tickets they may open; a
    supervisor (who sees every ticket) sees every case, also those without a ticket."""
    if not has_role(user, Role.AGENT):
        return Case.objects.none()
    teams = team_ids_for(user)
    if teams is None:
        return Case.objects.all()
    return Case.objects.filter(ticket__in=tickets_visible_to(user, team_ids=teams))


def ticket_order_number(ticket: Any) -> str:
    """The number of the order linked to the ticket ("" for none): a macro's
    {order_number} (tickets.hooks.ticket_order_number)."""
    from aftersales.models import TicketOrder

    number = (
        TicketOrder.objects.filter(ticket=ticket).values_list("order__number", flat=True).first()
    )
    return number or ""


def tickets_order_numbers(tickets: Sequence[Any]) -> dict[int, str]:
    """`ticket_order_number` of many tickets in one statement, by ticket id (those with no
    order left out)."""
    from aftersales.models import TicketOrder

    return dict(
        TicketOrder.objects.filter(ticket__in=[ticket.pk for ticket in tickets]).values_list(
            "ticket_id", "order__number"
        )
    )
