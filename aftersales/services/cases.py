"""Opening an after-sales case, with its guards (the sums they rest on are in
`aftersales.selectors`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aftersales.models import (
    Case,
    CaseItem,
    CaseSequence,
    OpenedBy,
    Order,
    OrderItem,
    ProductType,
    Reason,
)
from aftersales.selectors import claimed_quantities, refund_room, window_ends
from aftersales.services.history import money_check, step_record
from aftersales.steps import FINAL_STEPS, REFUND_TYPES, CaseType, Step
from tickets.models import Ticket


@dataclass(frozen=True)
class ItemClaim:
    """One line of a case being opened: `quantity` of an order item."""

    order_item: OrderItem
    quantity: int


def case_open(
    *,
    order: Order,
    items: Sequence[ItemClaim],
    type: CaseType,
    reason: Reason,
    description: str,
    amount: Decimal,
    opened_by: OpenedBy,
    ticket: Ticket | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> Case:
    """Open a case of `type` on `order` for `items`, asking for `amount` back (refund types
    only; the others ask for none). The order row is locked for the whole check-and-insert,
    so two opens of the same order run one after the other.

    Raises ValidationError, with nothing written, when: an item is not the order's, named
    twice, already in another open case, or asked for more than was bought less what other
    open or completed cases claim; the window of an item's product type has ended; the
    amount is negative, set on a type that refunds nothing, or above `refund_room`; the
    reason is retired; the ticket is another customer's."""
    now = now or timezone.now()
    if type not in CaseType.values or opened_by not in OpenedBy.values:
        raise ValidationError(
            _("Unknown case type or opener: %(type)s, %(opened_by)s.")
            % {"type": type, "opened_by": opened_by},
            code="type",
        )
    type, opened_by = CaseType(type), OpenedBy(opened_by)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        bought = _items_check(order, items)
        _window_check(order, {item.product_type for item in bought.values()}, now)
        value = sum(
            (bought[claim.order_item.pk].unit_price * claim.quantity for claim in items),
            Decimal(0),
        )
        _amount_check(order, type, amount, value)
        if not reason.is_active:
            raise ValidationError(
                _("The reason “%(reason)s” is no longer offered.") % {"reason": reason.label},
                code="reason",
            )
        if ticket is not None and ticket.customer_id != order.customer_id:
            raise ValidationError(
                _("Ticket %(ticket)s is another customer's than order %(order)s's.")
                % {"ticket": ticket.number, "order": order.number},
                code="ticket_customer",
            )
        case = Case.objects.create(
            number=_number_draw(timezone.localdate(now)),
            order=order,
            ticket=ticket,
            type=type,
            reason=reason,
            description=description,
            amount_requested=amount,
            opened_by=opened_by,
            created_at=now,
            updated_at=now,
        )
        CaseItem.objects.bulk_create(
            CaseItem(case=case, order_item=claim.order_item, quantity=claim.quantity)
            for claim in items
        )
        step_record(
            case=case,
            step=Step.SUBMITTED,
            actor=actor,
            at=now,
            note=description,
            data={
                "type": str(type),
                "reason": reason.code,
                "amount": str(amount),
                "opened_by": str(opened_by),
                "items": {claim.order_item.sku: claim.quantity for claim in items},
            },
            move=False,
        )
    return case


def _items_check(order: Order, items: Sequence[ItemClaim]) -> dict[int, OrderItem]:
    """The named items as stored now, by id, once every item guard holds."""
    if not items:
        raise ValidationError(_("Name at least one item of the order."), code="items")
    ids = [claim.order_item.pk for claim in items]
    if len(set(ids)) != len(ids):
        raise ValidationError(_("Each item may be named only once in a case."), code="items")
    # Read again under the order's lock: the caller's instances may be stale.
    stored = {item.pk: item for item in order.items.filter(pk__in=ids)}
    bought = {pk: item.quantity for pk, item in stored.items()}
    claimed = claimed_quantities(order=order)
    busy = set(
        CaseItem.objects.filter(case__order=order, order_item_id__in=ids)
        .exclude(case__step__in=FINAL_STEPS)
        .values_list("order_item_id", flat=True)
    )
    for claim in items:
        item = claim.order_item
        if item.pk not in bought:
            raise ValidationError(
                _("Item %(sku)s is not part of order %(order)s.")
                % {"sku": item.sku, "order": order.number},
                code="item_order",
            )
        if claim.quantity < 1:
            raise ValidationError(
                _("Item %(sku)s: the quantity must be at least 1.") % {"sku": item.sku},
                code="quantity",
            )
        if item.pk in busy:
            raise ValidationError(
                _("Item %(sku)s is already in an open after-sales case.") % {"sku": item.sku},
                code="item_busy",
            )
        available = bought[item.pk] - claimed.get(item.pk, 0)
        if claim.quantity > available:
            raise ValidationError(
                _(
                    "Item %(sku)s: %(quantity)d asked, but only %(available)d of %(bought)d "
                    "bought are not in another case."
                )
                % {
                    "sku": item.sku,
                    "quantity": claim.quantity,
                    "available": available,
                    "bought": bought[item.pk],
                },
                code="quantity",
            )
    return stored


def _window_check(order: Order, product_types: set[str], now: datetime) -> None:
    for product_type in sorted(product_types):
        ends = window_ends(order=order, product_type=product_type)
        if now > ends:
            raise ValidationError(
                _("The after-sales window for %(kind)s of order %(order)s ended on %(ends)s.")
                % {
                    "kind": ProductType(product_type).label,
                    "order": order.number,
                    "ends": date_format(timezone.localtime(ends), "DATETIME_FORMAT"),
                },
                code="window",
            )


def _amount_check(order: Order, type: CaseType, amount: Decimal, value: Decimal) -> None:
    money_check(amount)
    if amount < 0:
        raise ValidationError(_("The amount cannot be negative."), code="amount")
    if type not in REFUND_TYPES:
        if amount != 0:
            raise ValidationError(
                _("A %(type)s case asks for no money back.") % {"type": type.label},
                code="amount",
            )
        return
    if amount == 0:
        raise ValidationError(_("Say how much should be refunded."), code="amount")
    room = refund_room(order=order, value=value)
    if amount > room:
        raise ValidationError(
            _("At most %(room)s %(currency)s can be refunded for these items; %(amount)s asked.")
            % {"room": room, "currency": order.currency, "amount": amount},
            code="over_refund",
        )


def _number_draw(day: date) -> str:
    """The next case number of `day`: AS + YYYYMMDD + a four-digit (or longer) sequence.
    The day's row is locked until the opening commits, so numbers are never drawn twice."""
    CaseSequence.objects.get_or_create(day=day)
    sequence = CaseSequence.objects.select_for_update().get(day=day)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"AS{day:%Y%m%d}{sequence.last:04d}"
