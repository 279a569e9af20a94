"""Events from the shop's systems (warehouse, payments, logistics) about a case.

Each event kind maps to one step service; the event id makes it idempotent: a redelivered
event changes nothing and answers with the step the first delivery made. An event the case
is not ready for (a refund before the goods were received) is refused with the step
service's ValidationError, and nothing is kept of it, so the shop may send it again later.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.models import Case, CaseEvent, CaseStep
from aftersales.services import progress


@dataclass(frozen=True)
class EventResult:
    """The step an event made, and whether this delivery made it (False: a redelivery)."""

    case: Case
    step: CaseStep
    applied: bool


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


def case_apply_event(
    *,
    case_number: str,
    event_id: str,
    kind: str,
    data: Mapping[str, object],
    now: datetime | None = None,
) -> EventResult:
    """Apply the shop's event `event_id` of `kind` to the case `case_number`.

    Returns the step it made; a redelivery (same case and event id, same kind) returns the
    step of the first delivery with `applied` False and changes nothing. Raises
    ValidationError, with nothing written, for an unknown case or kind, an event id reused
    for another kind, or an event the case's step does not allow."""
    now = now or timezone.now()
    handler = EVENT_KINDS.get(kind)
    if handler is None:
        raise ValidationError(
            _("Unknown event kind “%(kind)s”.") % {"kind": kind}, code="event_kind"
        )
    event_id = event_id.strip()
    if not event_id or len(event_id) > CaseEvent._meta.get_field("event_id").max_length:  # type: ignore[operator]
        raise ValidationError(_("The event id must be 1 to 100 characters."), code="event_id")
    with transaction.atomic():
        # The case's lock orders two deliveries of one event: the second sees the first's row.
        case = Case.objects.select_for_update().filter(number=case_number).first()
        if case is None:
            raise ValidationError(
                _("No after-sales case %(number)s.") % {"number": case_number}, code="case"
            )
        seen = CaseEvent.objects.select_related("step").filter(case=case, event_id=event_id)
        earlier = seen.first()
        if earlier is not None:
            if earlier.kind != kind:
                raise ValidationError(
                    _("Event %(id)s was already received as “%(kind)s”.")
                    % {"id": event_id, "kind": earlier.kind},
                    code="event_conflict",
                )
            return EventResult(case=case, step=earlier.step, applied=False)
        case = handler(case, data, now)
        step = case.steps.order_by("-id").first()
        assert step is not None  # every handler records a step or raises
        CaseEvent.objects.create(
            case=case, event_id=event_id, kind=kind, received_at=now, step=step
        )
    return EventResult(case=case, step=step, applied=True)
