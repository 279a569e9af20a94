"""Moving a case along its steps: one service per step. Each locks the case, plans the step
(`*_plan`: checks that its type's flow (aftersales.steps) allows the step from where the
case is and the step's own values, and says what to record), and records it
(aftersales.services.history). A refused step raises ValidationError and writes nothing.

The plans take a locked case and read nothing: a batch of the shop's events
(aftersales.services.event_inbox) locks and reads its cases at once, plans each event with
the same functions, and records every step of the batch together.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.models import Case, Order
from aftersales.selectors import items_value, refund_room
from aftersales.services import batch_scope
from aftersales.services.history import (
    StepChange,
    StepEntry,
    money_check,
    steps_record,
    transition_check,
)
from aftersales.steps import Step, flow_of


@contextmanager
def _locked(case: Case) -> Iterator[Case]:
    """The case read again and locked for the length of a transaction: two agents, or an
    agent and the shop's event, acting at once take turns and the second sees the first's
    step."""
    with transaction.atomic():
        yield locked_cases([case.pk])[case.pk]


def locked_cases(case_ids: list[int]) -> dict[int, Case]:
    """The cases locked (in id order, so that two batches never wait on each other), by id.
    The order and its customer come along (only the case rows are locked): the step's
    clock reads whether the customer is a VIP, the webhook the order's number, the notice
    the ticket's customer."""
    return {
        case.pk: case
        for case in Case.objects.select_for_update(of=("self",))
        .select_related("ticket__customer", "order__customer")
        .filter(pk__in=case_ids)
        .order_by("pk")
    }


def _record(
    case: Case, changes: list[StepChange], *, actor: User | None, at: datetime | None
) -> Case:
    at = at or timezone.now()
    steps_record([StepEntry(case=case, change=change, actor=actor, at=at) for change in changes])
    return case


def _parcel(carrier: str, tracking_number: str) -> dict[str, str]:
    return {
        "carrier": _required(carrier, _("Name the carrier.")),
        "tracking_number": _required(tracking_number, _("Give the tracking number.")),
    }


def _required(value: str, message: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(message, code="required")
    return value


def case_review(
    *,
    case: Case,
    approve: bool,
    reason: str = "",
    return_address: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> Case:
    """Approve a submitted case (a type that takes goods back then waits for them, with
    the return address or pickup arrangement the customer is told) or reject it with a
    `reason` the customer sees."""
    now = now or timezone.now()
    with _locked(case) as locked:
        if approve:
            following = flow_of(locked.type).approved_step
            data = {"outcome": "approved"}
            if following == Step.WAITING_FOR_RETURN:
                data["return_address"] = _required(
                    return_address, _("Say where the goods go back to, or how they are collected.")
                )
        else:
            following = Step.REJECTED
            data = {
                "outcome": "rejected",
                "reason": _required(
                    reason, _("Say why the case is rejected: the customer sees it.")
                ),
            }
        transition_check(locked, following)
        _record(locked, [StepChange(step=following, note=reason, data=data)], actor=actor, at=now)
    return locked


def items_value_of(case: Case) -> Decimal:
    """`selectors.items_value`, from the items a batch of the shop's events read already."""
    scope = batch_scope.current()
    if scope is None or case.pk not in scope.items:
        return items_value(case)
    total = sum(
        (item.quantity * item.order_item.unit_price for item in scope.items[case.pk]), Decimal(0)
    )
    return total.quantize(Decimal("0.01"))


# --- Plans: the rules of each step, on a locked case -----------------------------------


def return_tracking_plan(
    case: Case, *, carrier: str, tracking_number: str, by_customer: bool = False
) -> list[StepChange]:
    data = _parcel(carrier, tracking_number)
    if by_customer:
        data["by"] = "customer"
    transition_check(case, Step.RETURN_SHIPPED)
    return [StepChange(step=Step.RETURN_SHIPPED, data=data)]


def goods_received_plan(case: Case, *, note: str = "") -> list[StepChange]:
    transition_check(case, Step.RECEIVED)
    return [StepChange(step=Step.RECEIVED, note=note)]


def receive_plan(case: Case, *, passed: bool, note: str = "") -> list[StepChange]:
    """The inspection, with the goods' receipt first when nobody has recorded it yet."""
    following = Step.INSPECTED if passed else Step.INSPECTION_FAILED
    if not passed:
        note = _required(note, _("Say why the inspection failed."))
    changes = []
    if case.step != Step.RECEIVED:
        transition_check(case, Step.RECEIVED)
        changes.append(StepChange(step=Step.RECEIVED))
    transition_check(case, following, current=Step.RECEIVED)
    outcome = {"outcome": "passed" if passed else "failed"}
    return [*changes, StepChange(step=following, note=note, data=outcome)]


def refund_plan(
    case: Case, *, order: Order, room: Decimal, amount: Decimal, method: str, reference: str
) -> list[StepChange]:
    """`room`: `selectors.refund_room` of the case on its order (locked). Adds the amount
    to the case's refunded amount (written with the step)."""
    data = {
        "method": _required(method, _("Say how the money was refunded.")),
        "reference": _required(reference, _("Give the refund's reference.")),
    }
    money_check(amount)
    transition_check(case, Step.REFUNDED)
    room -= case.refunded_amount
    if amount <= 0 or amount > room:
        raise ValidationError(
            _("The refund must be more than 0 and at most %(room)s %(currency)s.")
            % {"room": max(room, Decimal(0)), "currency": order.currency},
            code="over_refund",
        )
    case.refunded_amount += amount
    return [
        StepChange(
            step=Step.REFUNDED,
            data={"amount": str(amount), "currency": order.currency, **data},
        )
    ]


def replacement_shipped_plan(case: Case, *, carrier: str, tracking_number: str) -> list[StepChange]:
    data = _parcel(carrier, tracking_number)
    transition_check(case, Step.REPLACEMENT_SHIPPED)
    return [StepChange(step=Step.REPLACEMENT_SHIPPED, data=data)]


def repaired_plan(case: Case, *, report: str) -> list[StepChange]:
    report = _required(report, _("Say what was repaired."))
    transition_check(case, Step.REPAIRED)
    return [StepChange(step=Step.REPAIRED, note=report)]


def complete_plan(case: Case, *, note: str = "") -> list[StepChange]:
    transition_check(case, Step.COMPLETED)
    return [StepChange(step=Step.COMPLETED, note=note)]


def cancel_plan(case: Case, *, note: str = "", by_customer: bool = False) -> list[StepChange]:
    if not flow_of(case.type).allows(case.step, Step.CANCELLED):
        raise ValidationError(
            _("Case %(number)s is at “%(current)s” and can no longer be cancelled.")
            % {"number": case.number, "current": Step(case.step).label},
            code="cancel_late",
        )
    return [
        StepChange(step=Step.CANCELLED, note=note, data={"by": "customer"} if by_customer else None)
    ]


# --- The services ------------------------------------------------------------------------


def case_return_tracking(
    *,
    case: Case,
    carrier: str,
    tracking_number: str,
    actor: User | None = None,
    now: datetime | None = None,
    by_customer: bool = False,
) -> Case:
    """The customer has sent the goods back with `carrier` under `tracking_number`.
    `by_customer`: the customer said so themself (the status page); the step is marked
    theirs, and they get no notice of it."""
    _parcel(carrier, tracking_number)  # the values first, before any lock
    with _locked(case) as locked:
        changes = return_tracking_plan(
            locked, carrier=carrier, tracking_number=tracking_number, by_customer=by_customer
        )
        return _record(locked, changes, actor=actor, at=now)


def case_goods_received(
    *, case: Case, note: str = "", actor: User | None = None, now: datetime | None = None
) -> Case:
    """The returned goods arrived at the warehouse (not inspected yet). From here on the
    customer can no longer cancel."""
    with _locked(case) as locked:
        return _record(locked, goods_received_plan(locked, note=note), actor=actor, at=now)


def case_receive(
    *,
    case: Case,
    passed: bool,
    note: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> Case:
    """The returned goods were inspected: `passed`, or failed with a `note` saying why.
    Records their receipt first when nobody has yet."""
    if not passed:
        _required(note, _("Say why the inspection failed."))
    with _locked(case) as locked:
        changes = receive_plan(locked, passed=passed, note=note)
        return _record(locked, changes, actor=actor, at=now)


def case_refund(
    *,
    case: Case,
    amount: Decimal,
    method: str,
    reference: str,
    actor: User | None = None,
    now: datetime | None = None,
) -> Case:
    """The money went back: `amount` by `method` (original payment, balance, …) under the
    payment system's `reference`. Never more than `refund_room` for the case's items."""
    _required(method, _("Say how the money was refunded."))
    _required(reference, _("Give the refund's reference."))
    money_check(amount)
    with _locked(case) as locked:
        transition_check(locked, Step.REFUNDED)
        # The order row is locked too: cases of one order opening or refunding take turns,
        # so together they never give back more than was paid.
        order = Order.objects.select_for_update().get(pk=locked.order_id)
        room = refund_room(order=order, value=items_value_of(locked), exclude_case_id=locked.pk)
        changes = refund_plan(
            locked, order=order, room=room, amount=amount, method=method, reference=reference
        )
        return _record(locked, changes, actor=actor, at=now)


def case_replacement_shipped(
    *,
    case: Case,
    carrier: str,
    tracking_number: str,
    actor: User | None = None,
    now: datetime | None = None,
) -> Case:
    """The replacement (exchange, reship) left the warehouse."""
    _parcel(carrier, tracking_number)
    with _locked(case) as locked:
        changes = replacement_shipped_plan(locked, carrier=carrier, tracking_number=tracking_number)
        return _record(locked, changes, actor=actor, at=now)


def case_repaired(
    *, case: Case, report: str, actor: User | None = None, now: datetime | None = None
) -> Case:
    """The goods were repaired; `report` says what was done."""
    _required(report, _("Say what was repaired."))
    with _locked(case) as locked:
        return _record(locked, repaired_plan(locked, report=report), actor=actor, at=now)


def case_complete(
    *, case: Case, note: str = "", actor: User | None = None, now: datetime | None = None
) -> Case:
    """Close a case whose last working step is done."""
    with _locked(case) as locked:
        return _record(locked, complete_plan(locked, note=note), actor=actor, at=now)


def case_cancel(
    *,
    case: Case,
    note: str = "",
    actor: User | None = None,
    now: datetime | None = None,
    by_customer: bool = False,
) -> Case:
    """The customer withdraws the case; only before the goods (if any) are received, or
    before the refund or the replacement of a type that takes nothing back.
    `by_customer`: as in `case_return_tracking`."""
    with _locked(case) as locked:
        changes = cancel_plan(locked, note=note, by_customer=by_customer)
        return _record(locked, changes, actor=actor, at=now)
