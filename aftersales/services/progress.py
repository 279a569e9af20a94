"""Moving a case along its steps: one service per step. Each locks the case, checks that
its type's flow (aftersales.steps) allows the step from where the case is, checks the
step's own values, and records it (aftersales.services.history). A refused step raises
ValidationError and writes nothing."""

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
from aftersales.services.history import money_check, step_record, transition_check
from aftersales.steps import Step, flow_of


@contextmanager
def _locked(case: Case) -> Iterator[Case]:
    """The case read again and locked for the length of a transaction: two agents, or an
    agent and the shop's event, acting at once take turns and the second sees the first's
    step."""
    # In a batch of the shop's events each event has a savepoint of its own already.
    with transaction.atomic(savepoint=batch_scope.current() is None):
        # The order and its customer come along (only the case row is locked): the step's
        # clock reads whether the customer is a VIP, the webhook the order's number, the
        # notice the ticket's customer.
        yield (
            Case.objects.select_for_update(of=("self",))
            .select_related("ticket__customer", "order__customer")
            .get(pk=case.pk)
        )


def _advance(
    case: Case,
    step: Step,
    *,
    actor: User | None,
    now: datetime | None,
    note: str = "",
    data: dict[str, str] | None = None,
) -> Case:
    """A step with nothing to check beyond its values: lock, check the flow, record."""
    with _locked(case) as locked:
        transition_check(locked, step)
        step_record(
            case=locked, step=step, actor=actor, at=now or timezone.now(), note=note, data=data
        )
    return locked


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
        step_record(case=locked, step=following, actor=actor, at=now, note=reason, data=data)
    return locked


def _items_value(case: Case) -> Decimal:
    """`selectors.items_value`, from the items a batch of the shop's events read already."""
    scope = batch_scope.current()
    if scope is None or case.pk not in scope.items:
        return items_value(case)
    total = sum(
        (item.quantity * item.order_item.unit_price for item in scope.items[case.pk]), Decimal(0)
    )
    return total.quantize(Decimal("0.01"))


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
    data = _parcel(carrier, tracking_number)
    if by_customer:
        data["by"] = "customer"
    return _advance(case, Step.RETURN_SHIPPED, actor=actor, now=now, data=data)


def case_goods_received(
    *, case: Case, note: str = "", actor: User | None = None, now: datetime | None = None
) -> Case:
    """The returned goods arrived at the warehouse (not inspected yet). From here on the
    customer can no longer cancel."""
    return _advance(case, Step.RECEIVED, actor=actor, now=now, note=note)


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
    now = now or timezone.now()
    following = Step.INSPECTED if passed else Step.INSPECTION_FAILED
    if not passed:
        note = _required(note, _("Say why the inspection failed."))
    with _locked(case) as locked:
        if locked.step != Step.RECEIVED:
            transition_check(locked, Step.RECEIVED)
            step_record(case=locked, step=Step.RECEIVED, actor=actor, at=now)
        transition_check(locked, following)
        step_record(
            case=locked,
            step=following,
            actor=actor,
            at=now,
            note=note,
            data={"outcome": "passed" if passed else "failed"},
        )
    return locked


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
    now = now or timezone.now()
    data = {
        "method": _required(method, _("Say how the money was refunded.")),
        "reference": _required(reference, _("Give the refund's reference.")),
    }
    money_check(amount)
    with _locked(case) as locked:
        transition_check(locked, Step.REFUNDED)
        # The order row is locked too: cases of one order opening or refunding take turns,
        # so together they never give back more than was paid.
        order = Order.objects.select_for_update().get(pk=locked.order_id)
        room = refund_room(order=order, value=_items_value(locked), exclude_case_id=locked.pk)
        room -= locked.refunded_amount
        if amount <= 0 or amount > room:
            raise ValidationError(
                _("The refund must be more than 0 and at most %(room)s %(currency)s.")
                % {"room": max(room, Decimal(0)), "currency": order.currency},
                code="over_refund",
            )
        locked.refunded_amount += amount
        step_record(
            case=locked,
            step=Step.REFUNDED,
            actor=actor,
            at=now,
            data={"amount": str(amount), "currency": order.currency, **data},
        )
    return locked


def case_replacement_shipped(
    *,
    case: Case,
    carrier: str,
    tracking_number: str,
    actor: User | None = None,
    now: datetime | None = None,
) -> Case:
    """The replacement (exchange, reship) left the warehouse."""
    data = _parcel(carrier, tracking_number)
    return _advance(case, Step.REPLACEMENT_SHIPPED, actor=actor, now=now, data=data)


def case_repaired(
    *, case: Case, report: str, actor: User | None = None, now: datetime | None = None
) -> Case:
    """The goods were repaired; `report` says what was done."""
    report = _required(report, _("Say what was repaired."))
    return _advance(case, Step.REPAIRED, actor=actor, now=now, note=report)


def case_complete(
    *, case: Case, note: str = "", actor: User | None = None, now: datetime | None = None
) -> Case:
    """Close a case whose last working step is done."""
    return _advance(case, Step.COMPLETED, actor=actor, now=now, note=note)


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
    now = now or timezone.now()
    with _locked(case) as locked:
        if not flow_of(locked.type).allows(locked.step, Step.CANCELLED):
            raise ValidationError(
                _("Case %(number)s is at “%(current)s” and can no longer be cancelled.")
                % {"number": locked.number, "current": Step(locked.step).label},
                code="cancel_late",
            )
        step_record(
            case=locked,
            step=Step.CANCELLED,
            actor=actor,
            at=now,
            note=note,
            data={"by": "customer"} if by_customer else None,
        )
    return locked
