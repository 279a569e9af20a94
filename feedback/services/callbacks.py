"""Call-backs (回访): follow-up tasks and their attempts.

`callback_create` is the one way in: from a low rating or a detractor (feedback.services
.surveys), from an agent or a supervisor on the ticket page, and from other parts of
feedback (complaints). A task is due a number of business minutes after it is made, on
the ticket's team's business calendar (the SLA engine's), else the default calendar.

Each attempt records an outcome: **reached** and **resolved** finish the task; **reopened**
finishes it and reopens the ticket; **no answer** keeps it open and due again an hour of
business time later; **escalated** keeps it open, without an owner, for supervisors.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import (
    FINAL_OUTCOMES,
    Callback,
    CallbackAttempt,
    CallbackOutcome,
    CallbackReason,
    Survey,
)
from sla.calendar import WorkCalendar, default_calendar
from sla.selectors import default_calendar_id, work_calendar
from tickets.models import Agent, AuditEntry, Status, Team, Ticket
from tickets.raw_sql import rows_insert
from tickets.services.audit import audit_record, audit_record_many
from tickets.services.workflow import ticket_set_status

# After "no answer", the next try is due this much business time later.
RETRY_BUSINESS_MINUTES = 60
MAX_NOTE_CHARS = 4000


def _calendar(team: Team | None) -> WorkCalendar:
    calendar_id = (team.calendar_id if team is not None else None) or default_calendar_id()
    return work_calendar(calendar_id) if calendar_id else default_calendar()


def callback_due(
    *, team: Team | None, start: datetime, business_minutes: int | None = None
) -> datetime:
    """When a task made at `start` is due: `business_minutes` (default: the settings') of the
    team's business hours later."""
    if business_minutes is None:
        from feedback.services.surveys import survey_settings

        business_minutes = survey_settings().callback_due_minutes
    return _calendar(team).add(start, business_minutes * 60)


def _callback_check(*, reason: str, note: str) -> None:
    if reason not in CallbackReason.values:
        raise ValidationError(_("Unknown reason: %(reason)s"), params={"reason": reason})
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError(_("The note is too long."))


def callback_create(
    *,
    ticket: Ticket,
    reason: str,
    note: str = "",
    actor: User | None,
    owner: Agent | None = None,
    survey: Survey | None = None,
    key: str | None = None,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> Callback:
    """Add a follow-up task for the ticket's customer. `key` makes it unique (a task made
    from a survey's answer is made once: the same key again returns the first task). The
    owner is `owner`, else nobody (the supervisors' queue assigns one)."""
    _callback_check(reason=reason, note=note)
    now = now or timezone.now()
    if key is not None:
        found = Callback.objects.filter(key=key).first()
        if found is not None:
            return found
    team = ticket.team
    try:
        with transaction.atomic():
            callback = Callback.objects.create(
                ticket=ticket,
                customer_id=ticket.customer_id,
                survey=survey,
                key=key,
                reason=reason,
                note=note.strip(),
                team=team,
                owner=owner,
                created_by=actor,
                created_at=now,
                due_at=due_at or callback_due(team=team, start=now),
            )
    except IntegrityError:
        if key is None:
            raise
        return Callback.objects.get(key=key)
    audit_record(
        actor=actor,
        action="callback_created",
        object_type="callback",
        object_id=str(callback.pk),
        data={"ticket": ticket.number, "reason": reason},
    )
    return callback


@dataclass(frozen=True)
class CallbackDraft:
    """One task for `callbacks_create_many` (`callback_create`'s arguments, made by Kefu)."""

    ticket: Ticket
    reason: str
    note: str = ""
    survey: Survey | None = None
    key: str | None = None


def callbacks_create_many(
    drafts: Sequence[CallbackDraft], *, now: datetime | None = None
) -> list[Callback]:
    """`callback_create` for many tasks Kefu makes (a batch of survey answers), without an
    owner: the keys already taken read once, the due times worked out once per team, one
    INSERT of the tasks and one of their audit entries. A key taken already (or twice in
    the batch) makes no second task. Returns the tasks of the drafts not skipped (if a key
    was taken by another transaction meanwhile, that one's task among them)."""
    for draft in drafts:
        _callback_check(reason=draft.reason, note=draft.note)
    now = now or timezone.now()
    keys = [draft.key for draft in drafts if draft.key is not None]
    taken = set(Callback.objects.filter(key__in=keys).values_list("key", flat=True))
    fresh: list[CallbackDraft] = []
    for draft in drafts:
        if draft.key is not None:
            if draft.key in taken:
                continue
            taken.add(draft.key)
        fresh.append(draft)
    if not fresh:
        return []
    teams = Team.objects.in_bulk({draft.ticket.team_id for draft in fresh} - {None})
    dues: dict[int | None, datetime] = {}
    for team_id in {draft.ticket.team_id for draft in fresh}:
        dues[team_id] = callback_due(team=teams.get(team_id) if team_id else None, start=now)
    try:
        with transaction.atomic():
            callbacks = rows_insert(
                Callback,
                [
                    Callback(
                        ticket=draft.ticket,
                        customer_id=draft.ticket.customer_id,
                        survey=draft.survey,
                        key=draft.key,
                        reason=draft.reason,
                        note=draft.note.strip(),
                        team_id=draft.ticket.team_id,
                        owner=None,
                        created_by=None,
                        created_at=now,
                        due_at=dues[draft.ticket.team_id],
                    )
                    for draft in fresh
                ],
            )
    except IntegrityError:
        # A key taken meanwhile by another transaction: one at a time, which answers it.
        return [
            callback_create(
                ticket=draft.ticket,
                reason=draft.reason,
                note=draft.note,
                survey=draft.survey,
                key=draft.key,
                actor=None,
                now=now,
            )
            for draft in fresh
        ]
    audit_record_many(
        [
            AuditEntry(
                actor=None,
                action="callback_created",
                object_type="callback",
                object_id=str(callback.pk),
                data={"ticket": draft.ticket.number, "reason": draft.reason},
            )
            for draft, callback in zip(fresh, callbacks, strict=True)
        ]
    )
    return callbacks


def callback_assign(*, callback: Callback, owner: Agent | None, actor: User) -> Callback:
    """Give the task to `owner` (None: back to the supervisors' queue)."""
    with transaction.atomic():
        callback = Callback.objects.select_for_update().get(pk=callback.pk)
        callback.owner = owner
        callback.save(update_fields=["owner"])
        audit_record(
            actor=actor,
            action="callback_assigned",
            object_type="callback",
            object_id=str(callback.pk),
            data={"owner": owner.pk if owner else None},
        )
    return callback


def callback_attempt_record(
    *,
    callback: Callback,
    agent: Agent | None,
    outcome: str,
    note: str,
    actor: User,
    now: datetime | None = None,
) -> CallbackAttempt:
    """Record one attempt and what follows from its outcome (see the module's docstring).
    A task already done takes no more attempts (ValidationError)."""
    if outcome not in CallbackOutcome.values:
        raise ValidationError(_("Unknown outcome: %(outcome)s"), params={"outcome": outcome})
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError(_("The note is too long."))
    now = now or timezone.now()
    with transaction.atomic():
        callback = (
            Callback.objects.select_for_update(of=("self",))
            .select_related("ticket", "team")
            .get(pk=callback.pk)
        )
        if callback.closed_at is not None:
            raise ValidationError(_("This call-back is done already."))
        attempt = CallbackAttempt.objects.create(
            callback=callback, agent=agent, outcome=outcome, note=note.strip(), at=now
        )
        fields = ["outcome"]
        callback.outcome = outcome
        if outcome in FINAL_OUTCOMES:
            callback.closed_at = now
            fields.append("closed_at")
        elif outcome == CallbackOutcome.NO_ANSWER:
            callback.due_at = callback_due(
                team=callback.team, start=now, business_minutes=RETRY_BUSINESS_MINUTES
            )
            fields.append("due_at")
        elif outcome == CallbackOutcome.ESCALATED:
            callback.escalated_at = now
            callback.owner = None
            fields.extend(["escalated_at", "owner"])
        callback.save(update_fields=fields)
        if outcome == CallbackOutcome.REOPENED and not callback.ticket.is_open:
            ticket_set_status(ticket=callback.ticket, status=Status.OPEN, actor=actor)
        audit_record(
            actor=actor,
            action="callback_attempt",
            object_type="callback",
            object_id=str(callback.pk),
            data={"outcome": outcome, "ticket": callback.ticket.number},
        )
    return attempt
