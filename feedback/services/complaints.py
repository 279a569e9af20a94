"""Complaints (投诉), their review (复盘) and customer suggestions (建议): every write.

A ticket is a complaint while its category is `complaint` (kb triage's complaint rule, an
agent's flag, or the category action). `Complaint` rows hold the owner, a supervisor picked
when the complaint is recognised. Resolving or closing a complaint needs its review, and only
a supervisor (or admin) may do it: `complaint_close_guard` is registered with the core's close
guards (tickets.hooks) in `FeedbackConfig.ready`. A complaint resolved (or closed from open)
owes its customer a call-back (回访) from its owner: `complaint_on_ticket_event`, the trail's
receiver. Every change is audited.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import (
    ActionStatus,
    Callback,
    CallbackReason,
    Complaint,
    ComplaintReview,
    ComplaintSource,
    RootCause,
    Suggestion,
    SuggestionStatus,
)
from feedback.services.callbacks import MAX_NOTE_CHARS, callback_create
from kb.rules import Category
from kb.triage import complaint_words
from kefu.roles import Role, has_role
from tickets.models import OPEN_STATUSES, Agent, EventKind, Status, Ticket, TicketEvent
from tickets.services.actions import ticket_set_category
from tickets.services.audit import audit_record

logger = logging.getLogger("kefu.feedback.complaints")

COMPLAINT = Category.COMPLAINT


class ComplaintRefused(ValidationError):
    """A complaint action the ticket's state or the caller's role does not allow; the message
    says why."""


def _require_supervisor(actor: User) -> None:
    if not has_role(actor, Role.SUPERVISOR):
        raise ComplaintRefused(_("Only a supervisor or an administrator may do this."))


def complaint_owner_pick(ticket: Ticket) -> User | None:
    """The supervisor who will own the complaint: a supervisor of the ticket's team if there
    is one, else any active supervisor; of those, the one owning the fewest open complaints
    (then the longest-standing account). None when there is no supervisor at all."""
    supervisors = User.objects.filter(is_active=True).filter(
        Q(groups__name__in=[Role.SUPERVISOR, Role.ADMIN]) | Q(is_superuser=True)
    )
    if ticket.team_id is not None:
        member_ids = Agent.objects.filter(teams=ticket.team_id).values_list("user_id", flat=True)
        of_team = supervisors.filter(pk__in=member_ids)
        if of_team.exists():
            supervisors = of_team
    return (
        supervisors.distinct()
        .annotate(
            open_complaints=Count(
                "complaints_owned", filter=Q(complaints_owned__ticket__is_open=True), distinct=True
            )
        )
        .order_by("open_complaints", "pk")
        .first()
    )


def _complaint_create(
    *,
    ticket: Ticket,
    source: str,
    words: list[str],
    flagged_by: User | None,
    previous_category: str,
    reason: str,
) -> Complaint:
    owner = complaint_owner_pick(ticket)
    try:
        with transaction.atomic():
            complaint = Complaint.objects.create(
                ticket=ticket,
                source=source,
                words=words[:20],
                owner=owner,
                flagged_by=flagged_by,
                previous_category=previous_category[:50],
                reason=reason[:200],
            )
    except IntegrityError:
        # Recorded meanwhile by another request (one row per ticket): keep that one.
        return Complaint.objects.get(ticket=ticket)
    audit_record(
        actor=flagged_by,
        action="complaint_recorded",
        object_type="ticket",
        object_id=str(ticket.pk),
        data={"source": source, "owner": owner.pk if owner else None, "words": words[:20]},
    )
    return complaint


def complaint_on_ticket_opened(ticket: Ticket) -> None:
    """The core's "ticket opened" hook: a ticket triage recognised as a complaint gets its
    complaint row and its owner at once, in the intake's transaction."""
    if ticket.category != COMPLAINT:
        return
    first = ticket.messages.order_by("pk").values_list("body", flat=True).first() or ""
    _complaint_create(
        ticket=ticket,
        source=ComplaintSource.TRIAGE,
        words=complaint_words(f"{ticket.subject}\n{first}"),
        flagged_by=None,
        previous_category="",
        reason="",
    )


def complaint_ensure(ticket: Ticket) -> Complaint | None:
    """The ticket's complaint row; created when the ticket is a complaint by its category but
    has none yet (its category was set by the category action). None when it is no complaint."""
    if ticket.category != COMPLAINT:
        return None
    complaint = Complaint.objects.filter(ticket=ticket).first()
    if complaint is not None:
        return complaint
    return _complaint_create(
        ticket=ticket,
        source=ComplaintSource.CATEGORY,
        words=[],
        flagged_by=None,
        previous_category="",
        reason="",
    )


def complaint_flag(*, ticket: Ticket, actor: User, reason: str) -> Complaint:
    """An agent marks the ticket as a complaint: its category becomes `complaint` (the SLA
    clocks follow the complaint policy, as for any category change) and a supervisor owns it."""
    reason = reason.strip()
    if not reason:
        raise ComplaintRefused(_("Say why this ticket is a complaint."))
    if ticket.category == COMPLAINT:
        raise ComplaintRefused(_("This ticket is already a complaint."))
    with transaction.atomic():
        previous = ticket.category
        ticket = ticket_set_category(
            ticket=ticket,
            category=COMPLAINT,
            actor=actor,
            reason=_("Complaint: %(reason)s") % {"reason": reason},
        )
        Complaint.objects.filter(ticket=ticket).delete()  # a stale row from an earlier flag
        complaint = _complaint_create(
            ticket=ticket,
            source=ComplaintSource.AGENT,
            words=[],
            flagged_by=actor,
            previous_category=previous,
            reason=reason,
        )
        audit_record(
            actor=actor,
            action="complaint_flagged",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={"from": previous},
        )
    return complaint


def complaint_unflag(*, ticket: Ticket, actor: User, reason: str) -> Ticket:
    """Take the complaint mark off: the ticket gets back the category it had before an agent
    flagged it (none when triage recognised it). A reviewed complaint stays one."""
    reason = reason.strip()
    if not reason:
        raise ComplaintRefused(_("Say why this ticket is not a complaint."))
    if ticket.category != COMPLAINT:
        raise ComplaintRefused(_("This ticket is not a complaint."))
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().filter(ticket=ticket).first()
        if complaint is not None and ComplaintReview.objects.filter(complaint=complaint).exists():
            raise ComplaintRefused(_("This complaint has its review: it stays a complaint."))
        back_to = complaint.previous_category if complaint is not None else ""
        if back_to == COMPLAINT:
            back_to = ""
        ticket = ticket_set_category(
            ticket=ticket,
            category=back_to,
            actor=actor,
            reason=_("Not a complaint: %(reason)s") % {"reason": reason},
        )
        if complaint is not None:
            complaint.delete()
        audit_record(
            actor=actor,
            action="complaint_unflagged",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={"to": back_to},
        )
    return ticket


def complaint_close_guard(ticket: Ticket, status: str, actor: User | None) -> str:
    """The core's close guard: a complaint is resolved or closed only with its review, and
    only by a supervisor or an administrator (or by Kefu itself once reviewed)."""
    return complaint_close_guards([ticket], status, actor).get(ticket.pk, "")


def complaint_close_guards(
    tickets: Sequence[Ticket], status: str, actor: User | None
) -> dict[int, str]:
    """`complaint_close_guard` for a batch (the queue's bulk status action): the reasons by
    ticket id, in one statement whatever the number of complaints."""
    complaints = [ticket for ticket in tickets if ticket.category == COMPLAINT]
    if not complaints:
        return {}
    reviewed = set(
        ComplaintReview.objects.filter(
            complaint__ticket__in=[ticket.pk for ticket in complaints]
        ).values_list("complaint__ticket_id", flat=True)
    )
    refused: dict[int, str] = {}
    supervises: bool | None = None
    for ticket in complaints:
        if ticket.pk not in reviewed:
            refused[ticket.pk] = _(
                "Ticket %(number)s is a complaint: a supervisor must record its root-cause "
                "review (复盘) before it is resolved or closed."
            ) % {"number": ticket.number}
            continue
        if actor is None:
            continue
        if supervises is None:
            supervises = has_role(actor, Role.SUPERVISOR)
        if not supervises:
            refused[ticket.pk] = _(
                "Only a supervisor or an administrator may resolve or close a complaint."
            )
    return refused


def _ends_complaint(event: TicketEvent) -> bool:
    if event.kind != EventKind.STATUS:
        return False
    to, previous = event.data.get("to"), event.data.get("from")
    return to == Status.RESOLVED or (to == Status.CLOSED and previous in OPEN_STATUSES)


def complaint_on_ticket_event(sender: Any, event: TicketEvent, **kwargs: Any) -> None:
    """Receiver of `tickets.signals.ticket_event_recorded`, in the change's transaction: a
    complaint resolved, or closed from open, gets its call-back (`complaint_callback`). A
    fault here is logged and left out, in a savepoint: the resolution goes ahead."""
    if not _ends_complaint(event):
        return  # decided from the entry alone: nothing read for the many other entries
    ticket = event.ticket
    if ticket.category != COMPLAINT or ticket.merged_into_id is not None:
        return  # a merged complaint is followed up on the ticket it went into
    try:
        with transaction.atomic():
            complaint_callback(ticket=ticket, event=event)
    except Exception:
        logger.exception(
            "call-back for trail entry %s of complaint ticket %s failed", event.pk, ticket.pk
        )


def complaint_callback(*, ticket: Ticket, event: TicketEvent) -> Callback | None:
    """The call-back a complaint owes once it is resolved: reason `complaint`, owned by the
    complaint's supervisor (their agent record; none: the supervisors' queue), due like any
    call-back on the team's business calendar. One at a time per complaint: while an earlier
    one is still open, a resolution after a reopening adds none (that task covers it); once it
    is done, the next resolution adds a new one. The key names the trail entry, so the same
    entry handled twice makes one task. None when the ticket has no complaint row or a
    call-back is open already."""
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .filter(ticket=ticket)
        .select_related("owner")
        .first()
    )
    if complaint is None:
        return None
    earlier = Callback.objects.filter(ticket=ticket, reason=CallbackReason.COMPLAINT)
    if earlier.filter(closed_at__isnull=True).exists():
        return None
    owner = None
    if complaint.owner is not None and complaint.owner.is_active:
        owner = Agent.objects.filter(user=complaint.owner).first()
    review = ComplaintReview.objects.filter(complaint=complaint).first()
    return callback_create(
        ticket=ticket,
        reason=CallbackReason.COMPLAINT,
        note=review.action[:MAX_NOTE_CHARS] if review is not None else "",
        actor=None,
        owner=owner,
        key=f"complaint:{complaint.pk}:{event.pk}",
        now=event.created_at,
    )


@dataclass(frozen=True)
class ReviewInput:
    root_cause: RootCause
    department: str
    summary: str
    action: str
    action_owner: User
    action_due: date
    action_status: str


def complaint_review_save(
    *, complaint: Complaint, actor: User, review: ReviewInput
) -> ComplaintReview:
    """Record the complaint's root-cause review, or update it (one per complaint). Only
    supervisors and administrators review. Refused, with nothing written, when a field is
    missing or wrong: the cause must be active (or the one already recorded), the action's
    owner an active staff account, its due date not before the complaint was received."""
    _require_supervisor(actor)
    department = review.department.strip()
    action = review.action.strip()
    errors: dict[str, str] = {}
    existing = ComplaintReview.objects.filter(complaint=complaint).first()
    if not review.root_cause.is_active and (
        existing is None or existing.root_cause_id != review.root_cause.pk
    ):
        errors["root_cause"] = _("That root cause is retired: choose another.")
    if not department:
        errors["department"] = _("Name the responsible department.")
    if not action:
        errors["action"] = _("Describe the corrective action.")
    if not review.action_owner.is_active or not has_role(review.action_owner, Role.AGENT):
        errors["action_owner"] = _("The action's owner must be an active staff member.")
    received = timezone.localdate(complaint.ticket.created_at)
    if review.action_due < received:
        errors["action_due"] = _("The due date cannot be before the complaint was received.")
    if review.action_status not in ActionStatus.values:
        errors["action_status"] = _("Unknown action status.")
    if errors:
        raise ComplaintRefused(errors)
    now = timezone.now()
    with transaction.atomic():
        row = ComplaintReview.objects.select_for_update().filter(complaint=complaint).first()
        created = row is None
        if row is None:
            row = ComplaintReview(complaint=complaint, reviewer=actor, created_at=now)
        previous_status = row.action_status if not created else ""
        row.root_cause = review.root_cause
        row.department = department[:100]
        row.summary = review.summary.strip()
        row.action = action
        row.action_owner = review.action_owner
        row.action_due = review.action_due
        row.action_status = review.action_status
        if review.action_status == ActionStatus.DONE:
            row.action_done_at = row.action_done_at or now
        else:
            row.action_done_at = None
        row.save()
        audit_record(
            actor=actor,
            action="complaint_review_recorded" if created else "complaint_review_changed",
            object_type="complaint",
            object_id=str(complaint.pk),
            data={
                "ticket": complaint.ticket_id,
                "root_cause": review.root_cause.code,
                "action_status": review.action_status,
                "previous_action_status": previous_status,
                "action_due": review.action_due.isoformat(),
            },
        )
    return row


def root_cause_save(
    *,
    cause: RootCause | None,
    actor: User,
    code: str,
    name_zh: str,
    name_en: str,
    position: int,
    is_active: bool,
) -> RootCause:
    """Add a root cause to the taxonomy or change one (supervisors). Codes are unique; a
    cause is retired rather than deleted, so reviews keep it."""
    _require_supervisor(actor)
    code = code.strip().lower()
    name_zh, name_en = name_zh.strip(), name_en.strip()
    if not code or not name_zh:
        raise ComplaintRefused(_("A root cause needs a code and a Chinese name."))
    clash = RootCause.objects.filter(code=code)
    if cause is not None:
        clash = clash.exclude(pk=cause.pk)
    if clash.exists():
        raise ComplaintRefused(_("Another root cause has the code “%(code)s”.") % {"code": code})
    with transaction.atomic():
        created = cause is None
        row = cause or RootCause()
        before = (
            {}
            if created
            else {"code": row.code, "name_zh": row.name_zh, "is_active": row.is_active}
        )
        row.code, row.name_zh, row.name_en = code, name_zh[:100], name_en[:100]
        row.position, row.is_active = position, is_active
        row.save()
        audit_record(
            actor=actor,
            action="root_cause_added" if created else "root_cause_changed",
            object_type="root_cause",
            object_id=str(row.pk),
            data={"before": before, "code": code, "name_zh": row.name_zh, "is_active": is_active},
        )
    return row


def suggestion_from_ticket(*, ticket: Ticket, actor: User, title: str, body: str) -> Suggestion:
    """Record the customer's suggestion on a ticket as an improvement item (status new). A
    ticket gives one suggestion."""
    title = title.strip()
    if not title:
        raise ComplaintRefused(_("Give the suggestion a title."))
    if Suggestion.objects.filter(ticket=ticket).exists():
        raise ComplaintRefused(_("This ticket's suggestion is already recorded."))
    try:
        with transaction.atomic():
            suggestion = Suggestion.objects.create(
                ticket=ticket,
                customer_id=ticket.customer_id,
                title=title[:200],
                body=body.strip(),
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action="suggestion_recorded",
                object_type="suggestion",
                object_id=str(suggestion.pk),
                data={"ticket": ticket.pk},
            )
    except IntegrityError as error:
        raise ComplaintRefused(_("This ticket's suggestion is already recorded.")) from error
    return suggestion


# Where a suggestion may go from each status.
SUGGESTION_MOVES = {
    SuggestionStatus.NEW: {SuggestionStatus.ACCEPTED, SuggestionStatus.DECLINED},
    SuggestionStatus.ACCEPTED: {SuggestionStatus.DONE, SuggestionStatus.DECLINED},
    SuggestionStatus.DECLINED: {SuggestionStatus.NEW},
    SuggestionStatus.DONE: {SuggestionStatus.ACCEPTED},
}


def suggestion_set_status(
    *, suggestion: Suggestion, actor: User, status: str, note: str
) -> Suggestion:
    """Move a suggestion along (supervisors): new → accepted or declined; accepted → done or
    declined; declined back to new, done back to accepted (a mistake undone)."""
    _require_supervisor(actor)
    if status not in SuggestionStatus.values:
        raise ComplaintRefused(_("Unknown status."))
    with transaction.atomic():
        row = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
        if status not in SUGGESTION_MOVES[SuggestionStatus(row.status)]:
            raise ComplaintRefused(
                _("A suggestion that is “%(from)s” cannot become “%(to)s”.")
                % {
                    "from": SuggestionStatus(row.status).label,
                    "to": SuggestionStatus(status).label,
                }
            )
        previous = row.status
        row.status = status
        row.decided_by = actor
        row.done_at = timezone.now() if status == SuggestionStatus.DONE else None
        if note.strip():
            row.note = note.strip()[:500]
        row.save(update_fields=["status", "decided_by", "done_at", "note"])
        audit_record(
            actor=actor,
            action="suggestion_status_changed",
            object_type="suggestion",
            object_id=str(row.pk),
            data={"from": previous, "to": status},
        )
    return row
