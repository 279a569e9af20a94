"""The kinds of event the shop's systems (warehouse, payments, logistics) send about a case:
each maps to one step service (`EVENT_KINDS`) and names the step it leads to
(`EVENT_STEPS`). Storing and applying them is `aftersales.services.event_inbox`."""

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from aftersales.models import Case
from aftersales.services import progress
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


_Handler = Callable[[Case, Mapping[str, object], datetime], Case]

# The event kinds the shop may send, and the step service each one calls.
EVENT_KINDS: dict[str, _Handler] = {
    "return.shipped": lambda case, data, at: progress.case_return_tracking(
        case=case,
        carrier=_text(data, "carrier"),
        tracking_number=_text(data, "tracking_number"),
        now=at,
    ),
    "return.received": lambda case, data, at: progress.case_goods_received(
        case=case, note=_text(data, "note"), now=at
    ),
    "inspection.passed": lambda case, data, at: progress.case_receive(
        case=case, passed=True, note=_text(data, "note"), now=at
    ),
    "inspection.failed": lambda case, data, at: progress.case_receive(
        case=case, passed=False, note=_text(data, "note"), now=at
    ),
    "refund.completed": lambda case, data, at: progress.case_refund(
        case=case,
        amount=_amount(data),
        method=_text(data, "method"),
        reference=_text(data, "reference"),
        now=at,
    ),
    "replacement.shipped": lambda case, data, at: progress.case_replacement_shipped(
        case=case,
        carrier=_text(data, "carrier"),
        tracking_number=_text(data, "tracking_number"),
        now=at,
    ),
    "repair.completed": lambda case, data, at: progress.case_repaired(
        case=case, report=_text(data, "report"), now=at
    ),
    "case.completed": lambda case, data, at: progress.case_complete(
        case=case, note=_text(data, "note"), now=at
    ),
    "case.cancelled": lambda case, data, at: progress.case_cancel(
        case=case, note=_text(data, "note"), now=at
    ),
}

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
