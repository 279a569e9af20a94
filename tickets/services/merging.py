"""Merging tickets of one customer, undoing a merge, and splitting messages off a ticket.

A merge moves the messages of one ticket (the source) to another (the survivor), closes the
source and points it at the survivor (`Ticket.merged_into`). Whatever names the source later
(its email reply token, a References header, an SMS or chat on its channel) threads into the
survivor: intake asks `ticket_survivor`. Only tickets of the same customer merge: tickets of
two customers are merged by merging the customers first (tickets.services.customers).
"""

import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sla import services as sla_services
from tickets import events
from tickets.models import (
    EventKind,
    Message,
    Status,
    Ticket,
    TicketLink,
    TicketMerge,
)
from tickets.numbers import ticket_number
from tickets.raw_sql import ticket_id_next
from tickets.services.actions import ActionRefused
from tickets.services.audit import audit_record
from tickets.services.sla_clocks import sla_attributes, sla_follow_status, sla_refresh
from tickets.services.trail import event_record, ticket_publish

UNDO_WINDOW = timedelta(days=1)
# A chain of merges is followed this far at most (a merged survivor merged again).
_SURVIVOR_HOPS = 10


def ticket_survivor(ticket: Ticket) -> Ticket:
    """The ticket that carries on for `ticket`: itself, or the survivor it was merged into
    (followed through merges of merges)."""
    for _hop in range(_SURVIVOR_HOPS):
        if ticket.merged_into_id is None:
            return ticket
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def ticket_merged_on_channel(*, customer_id: int, channel: str) -> Ticket | None:
    """For a message with no thread key and no open ticket on its channel: the survivor of the
    customer's latest ticket on that channel, when that ticket was merged away (so an SMS or a
    chat after a merge goes on in the survivor)."""
    latest = (
        Ticket.objects.filter(customer_id=customer_id, channel=channel)
        .order_by("-created_at", "-pk")
        .only("pk", "merged_into_id")
        .first()
    )
    if latest is None or latest.merged_into_id is None:
        return None
    return ticket_survivor(latest)


def ticket_merge(*, source: Ticket, target: Ticket, actor: User, reason: str = "") -> TicketMerge:
    """Merge `source` into `target`: its messages (with their attachments) move to the
    survivor, `source` is closed and points to it. Its trail stays where it was. Refused for
    a ticket and itself, across customers, and when either was already merged away.
    Undone by `ticket_merge_undo` within a day."""
    if source.pk == target.pk:
        raise ActionRefused(_("A ticket cannot be merged into itself."))
    now = timezone.now()
    with transaction.atomic():
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update()
            .select_related("customer")
            .filter(pk__in=[source.pk, target.pk])
            .order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        if source.customer_id != target.customer_id:
            raise ActionRefused(
                _(
                    "Only tickets of the same customer can be merged: merge the customers "
                    "first if they are one person."
                )
            )
        if source.merged_into_id or target.merged_into_id:
            raise ActionRefused(_("One of these tickets has already been merged away."))
        message_ids = list(source.messages.values_list("pk", flat=True))
        moved: dict[str, object] = {
            "messages": message_ids,
            "status": source.status,
            "closed_at": source.closed_at.isoformat() if source.closed_at else None,
            "awaiting_reply_since": (
                target.awaiting_reply_since.isoformat() if target.awaiting_reply_since else None
            ),
        }
        Message.objects.filter(pk__in=message_ids).update(ticket=target)
        previous = source.status
        source.status = Status.CLOSED
        source.closed_at = now
        source.merged_into = target
        if previous != Status.CLOSED:
            sla_follow_status(ticket=source, previous=previous, now=now)
        source.save(
            update_fields=["status", "closed_at", "merged_into", "updated_at", *sla_refresh(source)]
        )
        source.refresh_from_db(fields=["is_open"])
        # The customer still waits for an answer they were owed on the source.
        waiting = [t for t in (source.awaiting_reply_since, target.awaiting_reply_since) if t]
        if waiting and target.is_open:
            target.awaiting_reply_since = min(waiting)
            target.save(update_fields=["awaiting_reply_since", "updated_at"])
        merge = TicketMerge.objects.create(
            source=source,
            target=target,
            actor=actor,
            reason=reason.strip()[:200],
            moved=moved,
            created_at=now,
        )
        event_record(
            ticket=source,
            kind=EventKind.MERGED,
            actor=actor,
            data={"to": target.number, "merge": merge.pk, "reason": merge.reason},
            at=now,
        )
        event_record(
            ticket=target,
            kind=EventKind.MERGE_RECEIVED,
            actor=actor,
            data={"from": source.number, "merge": merge.pk, "messages": len(message_ids)},
            at=now,
        )
        audit_record(
            actor=actor,
            action="ticket_merged",
            object_type="ticket",
            object_id=str(target.pk),
            data={"merge": merge.pk, "from": source.pk, "messages": len(message_ids)},
        )
        ticket_publish(source, events.ticket_updated(source))
        ticket_publish(target, events.ticket_updated(target))
    return merge


def ticket_merge_undo(*, merge: TicketMerge, actor: User) -> TicketMerge:
    """Undo a merge within a day: the messages that moved go back (what arrived in the
    survivor since stays there), and the source gets its status back and stops pointing to
    the survivor. Refused when already undone, after a day, or when the source was since
    merged elsewhere."""
    now = timezone.now()
    with transaction.atomic():
        merge = TicketMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ActionRefused(_("This merge has already been undone."))
        if now - merge.created_at > UNDO_WINDOW:
            raise ActionRefused(_("A merge can be undone within a day only."))
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update()
            .select_related("customer")
            .filter(pk__in=[merge.source_id, merge.target_id])
            .order_by("pk")
        }
        source, target = locked[merge.source_id], locked[merge.target_id]
        if source.merged_into_id != target.pk:
            raise ActionRefused(_("The merged ticket has changed since: it cannot be undone."))
        moved = merge.moved
        message_ids = [int(pk) for pk in moved.get("messages", [])]
        back = Message.objects.filter(pk__in=message_ids, ticket=target).update(ticket=source)
        status = str(moved.get("status") or Status.OPEN)
        source.merged_into = None
        source.status = status
        closed_at = moved.get("closed_at")
        source.closed_at = datetime.fromisoformat(str(closed_at)) if closed_at else None
        if status != Status.CLOSED:
            sla_follow_status(ticket=source, previous=Status.CLOSED, now=now)
        source.save(
            update_fields=["status", "closed_at", "merged_into", "updated_at", *sla_refresh(source)]
        )
        source.refresh_from_db(fields=["is_open"])
        waited = moved.get("awaiting_reply_since")
        target.awaiting_reply_since = datetime.fromisoformat(str(waited)) if waited else None
        target.save(update_fields=["awaiting_reply_since", "updated_at"])
        merge.undone_at = now
        merge.undone_by = actor
        merge.save(update_fields=["undone_at", "undone_by"])
        for ticket, other in ((source, target), (target, source)):
            event_record(
                ticket=ticket,
                kind=EventKind.MERGE_UNDONE,
                actor=actor,
                data={"merge": merge.pk, "other": other.number, "messages": back},
                at=now,
            )
            ticket_publish(ticket, events.ticket_updated(ticket))
        audit_record(
            actor=actor,
            action="ticket_merge_undone",
            object_type="ticket",
            object_id=str(target.pk),
            data={"merge": merge.pk, "from": source.pk, "messages": back},
        )
    return merge


def ticket_split(
    *, ticket: Ticket, message_ids: list[int], actor: User, subject: str = ""
) -> Ticket:
    """Move the chosen messages of `ticket` to a new ticket of the same customer, channel,
    team, tier and category, with SLA clocks of its own from now, linked to the first.
    Refused with no messages chosen, with a message of another ticket, and when every
    message of the ticket is chosen (that is the same ticket under a new number)."""
    wanted = sorted(set(message_ids))
    if not wanted:
        raise ActionRefused(_("Choose the messages to split off."))
    now = timezone.now()
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("customer", "team")
            .get(pk=ticket.pk)
        )
        own = set(ticket.messages.values_list("pk", flat=True))
        if not set(wanted) <= own:
            raise ActionRefused(_("Those messages are not all on this ticket."))
        if set(wanted) == own:
            raise ActionRefused(_("Leave at least one message on the ticket."))
        first_in = Message.objects.filter(pk__in=wanted).order_by("created_at", "pk").first()
        assert first_in is not None
        new = Ticket(
            subject=(subject.strip() or first_in.subject or _first_line(first_in.body))[:200],
            status=Status.OPEN,
            tier=ticket.tier,
            priority_rank=ticket.priority_rank,
            category=ticket.category,
            sentiment=ticket.sentiment,
            channel=ticket.channel,
            customer=ticket.customer,
            team=ticket.team,
            assignee=None,
            created_at=now,
            awaiting_reply_since=now,
            reply_token=secrets.token_hex(8),
            tags=list(ticket.tags or []),
        )
        new.pk = ticket_id_next()
        new.number = ticket_number(opened_on=timezone.localdate(now), ticket_id=new.pk)
        clocks = sla_services.clocks_start(
            subject_id=new.pk,
            attributes=sla_attributes(new),
            started_at=now,
            calendar_id=ticket.team.calendar_id if ticket.team else None,
        )
        new.sla_due_at = min((clock.due_at for clock in clocks), default=None)
        new.save(force_insert=True)
        Message.objects.filter(pk__in=wanted).update(ticket=new)
        TicketLink.objects.create(first=ticket, second=new, actor=actor, created_at=now)
        event_record(ticket=new, kind=EventKind.CREATED, actor=actor, data={}, at=now)
        event_record(
            ticket=new,
            kind=EventKind.SPLIT_FROM,
            actor=actor,
            data={"from": ticket.number, "messages": len(wanted)},
            at=now,
        )
        event_record(
            ticket=ticket,
            kind=EventKind.SPLIT,
            actor=actor,
            data={"to": new.number, "messages": len(wanted)},
            at=now,
        )
        audit_record(
            actor=actor,
            action="ticket_split",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={"new": new.pk, "messages": wanted},
        )
        ticket_publish(new, events.ticket_created(new), page=False)
        ticket_publish(ticket, events.ticket_updated(ticket))
    return new


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:80]


def merges_undoable(*, ticket: Ticket) -> list[TicketMerge]:
    """The merges into or out of this ticket that can still be undone."""
    since = timezone.now() - UNDO_WINDOW
    return list(
        TicketMerge.objects.filter(undone_at__isnull=True, created_at__gte=since)
        .filter(Q(target=ticket) | Q(source=ticket))
        .prefetch_related("source", "target")
    )
