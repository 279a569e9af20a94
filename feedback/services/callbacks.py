"""Call-backs (回访): follow-up tasks and their attempts.

`callback_create` is the one way in: from a low rating or a detractor (feedback.services
.surveys), from an agent or a supervisor on the ticket page, and from other parts of
feedback (complaints). A task is due a number of business minutes after it is made, on
the ticket's team's business calendar (the SLA engine's), else the default calendar.

Each attempt records an outcome: **reached** and **resolved** finish the task; **reopened**
finishes it and reopens the ticket; **no answer** keeps it open and due again an hour of
business time later; **escalated** keeps it open, without an owner, for supervisors.
"""

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
from tickets.models import Agent, Status, Team, Ticket
from tickets.services.audit import audit_record
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
    if reason not in CallbackReason.values:
        raise ValidationError(_("Unknown reason: %(reason)s"), params={"reason": reason})
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError(_("The note is too long."))
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
