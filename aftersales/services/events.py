"""The kinds of event the shop's systems (warehouse, payments, logistics) send about a case:
each maps to the plan of one step service (`EVENT_KINDS`) and names the step it leads to
(`EVENT_STEPS`). Storing and applying them is `aftersales.services.event_inbox`."""

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from aftersales.models import Case, Order
from aftersales.services import progress
from aftersales.services.history import StepChange
from aftersales.steps import Step


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key, "")
    return value if isinstance(value, str) else ""


def _amount(data: Mapping[str, object]) -> Decimal:
    try:
        amount = Decimal(str(data.get("amount", "")))
    except InvalidOperation:
        raise ValidationError(_("The refund amount is not a number."), code="amount") from None
    if not amount.is_finite():
        raise ValidationError(_("The refund amount is not a number."), code="amount")
    return amount


class RefundRooms(Protocol):
    """Where a refund's plan finds the case's order (locked) and its `refund_room`."""

    def room_of(self, case: Case) -> tuple[Order, Decimal]: ...


_Plan = Callable[[Case, Mapping[str, object], RefundRooms], list[StepChange]]

# The event kinds the shop may send, and the plan of the step service each one stands for
# (aftersales.services.progress): applied to a locked case, it checks the step's rules
# and says what to record.
EVENT_KINDS: dict[str, _Plan] = {
    "return.shipped": lambda case, data, rooms: progress.return_tracking_plan(
        case, carrier=_text(data, "carrier"), tracking_number=_text(data, "tracking_number")
    ),
    "return.received": lambda case, data, rooms: progress.goods_received_plan(
        case, note=_text(data, "note")
    ),
    "inspection.passed": lambda case, data, rooms: progress.receive_plan(
        case, passed=True, note=_text(data, "note")
    ),
    "inspection.failed": lambda case, data, rooms: progress.receive_plan(
        case, passed=False, note=_text(data, "note")
    ),
    "refund.completed": lambda case, data, rooms: _refund(case, data, rooms),
    "replacement.shipped": lambda case, data, rooms: progress.replacement_shipped_plan(
        case, carrier=_text(data, "carrier"), tracking_number=_text(data, "tracking_number")
    ),
    "repair.completed": lambda case, data, rooms: progress.repaired_plan(
        case, report=_text(data, "report")
    ),
    "case.completed": lambda case, data, rooms: progress.complete_plan(
        case, note=_text(data, "note")
    ),
    "case.cancelled": lambda case, data, rooms: progress.cancel_plan(
        case, note=_text(data, "note")
    ),
}

# Kinds whose plan needs the case's order locked and its refund room.
REFUND_KINDS = frozenset({"refund.completed"})


def _refund(case: Case, data: Mapping[str, object], rooms: RefundRooms) -> list[StepChange]:
    amount = _amount(data)
    order, room = rooms.room_of(case)
    return progress.refund_plan(
        case,
        order=order,
        room=room,
        amount=amount,
        method=_text(data, "method"),
        reference=_text(data, "reference"),
    )


# The step each kind takes the case to: an event refused as out of order (`step_order`)
# waits while its case can still get there (aftersales.services.event_inbox).
EVENT_STEPS: dict[str, Step] = {
    "return.shipped": Step.RETURN_SHIPPED,
    "return.received": Step.RECEIVED,
    "inspection.passed": Step.INSPECTED,
    "inspection.failed": Step.INSPECTION_FAILED,
    "refund.completed": Step.REFUNDED,
    "replacement.shipped": Step.REPLACEMENT_SHIPPED,
    "repair.completed": Step.REPAIRED,
    "case.completed": Step.COMPLETED,
    "case.cancelled": Step.CANCELLED,
}
