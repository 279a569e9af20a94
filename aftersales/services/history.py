"""Writing down a step: the case's own history, the linked ticket's trail, the audit log,
and `case_changed` once it has all committed. Every step service ends here."""

from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.models import Case, CaseStep
from aftersales.services import batch_scope
from aftersales.services.step_effects import step_effects
from aftersales.signals import case_changed
from aftersales.steps import Step, flow_of
from tickets.models import EventKind
from tickets.services.audit import audit_record
from tickets.services.trail import event_record

# The ticket trail's kind for after-sales entries; the trail shows the step in `to`.
TRAIL_KIND = EventKind.AFTERSALES

# The case and step whose trail entry is being written: the trail's receivers (the
# customer's notice) take them from here instead of reading them back.
_recording: ContextVar[tuple[Case, CaseStep] | None] = ContextVar(
    "aftersales_step_recording", default=None
)


def step_being_recorded() -> tuple[Case, CaseStep] | None:
    """While `step_record` writes a step's trail entry: the case and the step."""
    return _recording.get()


def transition_check(case: Case, following: Step) -> None:
    """Raise ValidationError unless the case's type lets it go from its step to `following`."""
    if not flow_of(case.type).allows(case.step, following):
        raise ValidationError(
            _("Case %(number)s is at “%(current)s”; it cannot go to “%(step)s” from there.")
            % {
                "number": case.number,
                "current": Step(case.step).label,
                "step": following.label,
            },
            code="step_order",
        )


def money_check(amount: Decimal) -> None:
    """Raise ValidationError unless `amount` is a finite sum in whole fen (two decimal
    places): the database would otherwise round it silently."""
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(
            _("The amount %(amount)s is not a sum of money in yuan and fen.") % {"amount": amount},
            code="amount",
        )


def step_record(
    *,
    case: Case,
    step: Step,
    actor: User | None,
    at: datetime,
    note: str = "",
    data: Mapping[str, object] | None = None,
    move: bool = True,
) -> CaseStep:
    """Record `step` on a locked case inside the caller's transaction and, when `move`,
    make it the case's current step (`move` False: the case is already there, as a new
    case is at `submitted`)."""
    details = dict(data or {})
    if move:
        case.step = step
        case.updated_at = at
        case.save(update_fields=["step", "updated_at", "refunded_amount"])
    row = CaseStep.objects.create(case=case, step=step, at=at, actor=actor, note=note, data=details)
    scope = batch_scope.current()
    if scope is not None:
        scope.steps[case.pk] = row
    step_effects(case=case, row=row)
    if case.ticket_id is not None:
        token = _recording.set((case, row))
        try:
            event_record(
                ticket=case.ticket,  # type: ignore[arg-type]
                kind=TRAIL_KIND,
                actor=actor,
                at=at,
                data={
                    "case": case.number,
                    "step": str(step),
                    "to": f"{case.number} {step.label}",
                },
            )
        finally:
            _recording.reset(token)
    audit_record(
        actor=actor,
        action=f"aftersales_{step}",
        object_type="aftersales_case",
        object_id=case.number,
        data={"case": case.pk, "step_row": row.pk, **_auditable(details)},
    )
    transaction.on_commit(
        partial(
            case_changed.send,
            sender=Case,
            case_id=case.pk,
            case_number=case.number,
            step=str(step),
            step_id=row.pk,
        )
    )
    return row


def _auditable(details: dict[str, object]) -> dict[str, object]:
    """What of a step's details the audit log keeps: amounts and references, never an
    address (personal data stays on the case)."""
    return {key: value for key, value in details.items() if key != "return_address"}
