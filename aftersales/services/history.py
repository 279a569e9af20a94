"""Writing down a step: the case's own history, the linked ticket's trail, the audit log,
and `case_changed` once it has all committed. Every step service ends here."""

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.models import Case, CaseStep
from aftersales.services.step_effects import steps_effects
from aftersales.signals import case_changed, case_steps_recorded
from aftersales.steps import Step, flow_of
from tickets.models import AuditEntry, EventKind
from tickets.raw_sql import rows_update
from tickets.services.audit import audit_record_many
from tickets.services.trail import TrailEntry, events_record

# The ticket trail's kind for after-sales entries; the trail shows the step in `to`.
TRAIL_KIND = EventKind.AFTERSALES

# The cases and steps whose trail entries are being written, by (case number, step): the
# trail's receivers (the customer's notice) take them from here instead of reading them back.
_recording: ContextVar[dict[tuple[str, str], tuple[Case, CaseStep]] | None] = ContextVar(
    "aftersales_step_recording", default=None
)


def step_being_recorded(number: str, step: str) -> tuple[Case, CaseStep] | None:
    """While `steps_record` writes the trail entry of case `number`'s `step`: the case and
    the step."""
    recording = _recording.get()
    return None if recording is None else recording.get((number, step))


def transition_check(case: Case, following: Step, *, current: str | None = None) -> None:
    """Raise ValidationError unless the case's type lets it go from its step (or from
    `current`, where a plan has taken it already) to `following`."""
    current = current or case.step
    if not flow_of(case.type).allows(current, following):
        raise ValidationError(
            _("Case %(number)s is at “%(current)s”; it cannot go to “%(step)s” from there.")
            % {
                "number": case.number,
                "current": Step(current).label,
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


@dataclass(frozen=True)
class StepChange:
    """One step a step service's plan records on a case: what the step carries."""

    step: Step
    note: str = ""
    data: Mapping[str, object] | None = None


@dataclass(frozen=True)
class StepEntry:
    """A step to record on a locked case, by `actor` (None: the shop or Kefu) at `at`.
    `move` False: the case is at the step already (a new case at `submitted`)."""

    case: Case
    change: StepChange
    actor: User | None
    at: datetime
    move: bool = True


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
    change = StepChange(step=step, note=note, data=data)
    return steps_record([StepEntry(case=case, change=change, actor=actor, at=at, move=move)])[0]


def steps_record(entries: Sequence[StepEntry]) -> list[CaseStep]:
    """Record steps on locked cases inside the caller's transaction, in order: the one
    writer of a step, for a single step as for a batch of the shop's events. Each step
    gets the case moved, its row, its clock, its webhook delivery, the waiting events of
    its case woken, its entry on the ticket's trail (and with it the customer's notice),
    its audit entry and `case_changed` after the commit. A batch is written in rounds of
    one step per case (a case may take two: received, then inspected), each round a few
    statements whatever its size."""
    rounds: list[list[StepEntry]] = []
    taken: dict[int, int] = {}
    for entry in entries:
        index = taken.get(entry.case.pk, 0)
        taken[entry.case.pk] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(entry)
    rows: dict[int, CaseStep] = {}
    for round_entries in rounds:
        for entry, row in zip(round_entries, _round_record(round_entries), strict=True):
            rows[id(entry)] = row
    return [rows[id(entry)] for entry in entries]


def _round_record(entries: Sequence[StepEntry]) -> list[CaseStep]:
    """Steps of distinct cases."""
    moved = []
    for entry in entries:
        if entry.move:
            entry.case.step = entry.change.step
            entry.case.updated_at = entry.at
            moved.append(entry.case)
    if len(moved) == 1:
        moved[0].save(update_fields=["step", "updated_at", "refunded_amount"])
    elif moved:
        rows_update(Case, moved, ["step", "updated_at", "refunded_amount"])
    rows = CaseStep.objects.bulk_create(
        [
            CaseStep(
                case=entry.case,
                step=entry.change.step,
                at=entry.at,
                actor=entry.actor,
                note=entry.change.note,
                data=dict(entry.change.data or {}),
            )
            for entry in entries
        ]
    )
    steps_effects([(entry.case, row) for entry, row in zip(entries, rows, strict=True)])
    case_steps_recorded.send(sender=Case, case_ids=[entry.case.pk for entry in entries])
    trail = [
        (entry, row)
        for entry, row in zip(entries, rows, strict=True)
        if entry.case.ticket_id is not None
    ]
    if trail:
        # Imported here: the notices read the step being recorded from this module.
        from aftersales.services.notices import notices_gathered

        token = _recording.set(
            {(entry.case.number, str(row.step)): (entry.case, row) for entry, row in trail}
        )
        try:
            with notices_gathered():
                events_record(
                    [
                        TrailEntry(
                            ticket=entry.case.ticket,  # type: ignore[arg-type]
                            kind=TRAIL_KIND,
                            actor=entry.actor,
                            at=entry.at,
                            data={
                                "case": entry.case.number,
                                "step": str(row.step),
                                "to": f"{entry.case.number} {Step(row.step).label}",
                            },
                        )
                        for entry, row in trail
                    ]
                )
        finally:
            _recording.reset(token)
    audit_record_many(
        [
            AuditEntry(
                actor=entry.actor,
                action=f"aftersales_{row.step}",
                object_type="aftersales_case",
                object_id=entry.case.number,
                data={"case": entry.case.pk, "step_row": row.pk, **_auditable(row.data)},
            )
            for entry, row in zip(entries, rows, strict=True)
        ]
    )
    for entry, row in zip(entries, rows, strict=True):
        transaction.on_commit(
            partial(
                case_changed.send,
                sender=Case,
                case_id=entry.case.pk,
                case_number=entry.case.number,
                step=str(row.step),
                step_id=row.pk,
            )
        )
    return rows


def _auditable(details: dict[str, object]) -> dict[str, object]:
    """What of a step's details the audit log keeps: amounts and references, never an
    address (personal data stays on the case)."""
    return {key: value for key, value in details.items() if key != "return_address"}


def trail_label(data: dict[str, object]) -> str:
    """A case's trail entry as the timeline shows it after "→": the case and its step, in the
    active language (the stored `to` is in the language of whoever recorded it)."""
    try:
        return f"{data['case']} {Step(str(data['step'])).label}"
    except (KeyError, ValueError):
        return ""
