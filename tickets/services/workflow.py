"""What agents do to a ticket: reply, note, status, plan, tier, assignment, typing."""

from collections.abc import Collection
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu import realtime
from sla import services as sla_services
from sla.models import Milestone
from tickets import events, hooks
from tickets.compose import channel_for_identity
from tickets.models import (
    OPEN_STATUSES,
    Agent,
    Channel,
    ContactIdentity,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Status,
    Ticket,
)
from tickets.priority import priority_rank
from tickets.raw_sql import rows_update
from tickets.services.alerts import assignment_notify
from tickets.services.assignment import capacity_freed_later
from tickets.services.delivery import customer_address, deliver_later, new_message_id
from tickets.services.search_index import search_document_add
from tickets.services.sla_clocks import (
    sla_attributes,
    sla_follow_status_many,
    sla_refresh,
    sla_refresh_many,
)
from tickets.services.trail import TrailEntry, event_record, events_record, ticket_publish
from tickets.tiers import Tier


def ticket_reply(
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    client_token: str = "",
    recipient: ContactIdentity | None = None,
    html: str = "",
) -> Message:
    """Store an agent's reply as queued and deliver it on the ticket's channel after commit
    (the outbox: a broker outage delays it, never fails the request or loses it). The first
    reply stops the first-response clock.

    `client_token` is the reply form's one-time key: the same form sent again (a retry after
    a timeout, a double click) returns the reply already stored instead of sending another.

    `recipient`: one of the customer's contacts to send it to instead, on that contact's
    channel (when the ticket's channel cannot reach them); `html`: the email's HTML part."""
    body = body.strip()
    if not body:
        raise ValidationError(_("A reply cannot be empty."))
    client_token = client_token[:64]
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if client_token:
            # Under the ticket's lock: a second submission waits for the first and finds it.
            sent = Message.objects.filter(ticket=ticket, client_token=client_token).first()
            if sent is not None:
                return sent
        message = Message.objects.create(
            ticket=ticket,
            direction=Direction.OUT,
            channel=channel_for_identity(recipient) if recipient is not None else ticket.channel,
            author=author,
            body=body,
            html=html,
            recipient=recipient,
            delivery_status=DeliveryStatus.QUEUED,
            delivery_due_at=now,
            client_token=client_token,
            created_at=now,
            email_message_id=new_message_id(),
        )
        fields = ["awaiting_reply_since", "updated_at"]
        ticket.awaiting_reply_since = None
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            fields.append("first_response_at")
            sla_services.clock_satisfy(
                subject_id=ticket.pk, milestone=Milestone.FIRST_RESPONSE, at=now
            )
        sla_services.clock_satisfy(subject_id=ticket.pk, milestone=Milestone.NEXT_RESPONSE, at=now)
        fields.extend(sla_refresh(ticket))
        if ticket.status == Status.NEW:
            ticket.status = Status.OPEN
            fields.append("status")
        if ticket.assignee_id is None:
            ticket.assignee = author
            fields.append("assignee")
        ticket.save(update_fields=fields)
        search_document_add(ticket_id=ticket.pk, texts=[body])
        event_record(ticket=ticket, kind=EventKind.REPLIED, actor=author.user, data={})
        message_id = message.pk
        transaction.on_commit(lambda: deliver_later(message_id))
        ticket_publish(ticket, events.message_added(ticket, message))
    return message


def ticket_agent_typing(*, ticket: Ticket, is_typing: bool) -> None:
    """Show (or stop showing) "an agent is typing" in the customer's open chat widgets.
    Nothing is stored; tickets on other channels have no live customer to tell."""
    if ticket.channel != Channel.CHAT:
        return
    address = customer_address(ticket.customer, Channel.CHAT)
    if address:
        realtime.publish([realtime.chat_group(address)], events.agent_typing(is_typing=is_typing))


def ticket_add_note(*, ticket: Ticket, author: Agent, body: str) -> Message:
    body = body.strip()
    if not body:
        raise ValidationError(_("A note cannot be empty."))
    with transaction.atomic():
        message = Message.objects.create(
            ticket=ticket,
            direction=Direction.NOTE,
            channel=ticket.channel,
            author=author,
            body=body,
            created_at=timezone.now(),
        )
        search_document_add(ticket_id=ticket.pk, texts=[body])
        event_record(ticket=ticket, kind=EventKind.NOTE, actor=author.user, data={})
        # Internal: for the ticket's page only, never a queue or the board.
        ticket_publish(ticket, events.message_added(ticket, message), queues=False, board=False)
    return message


class StatusRefused(ValidationError):
    """A resolve or close that an app's close guard (tickets.hooks) refused; the message says
    what is missing. Nothing was changed."""


@dataclass(frozen=True)
class StatusRefusal:
    """A ticket of a batch that a close guard kept as it was, and why."""

    ticket: Ticket
    reason: str


@dataclass(frozen=True)
class StatusChanges:
    """What `tickets_set_status` did: the tickets it changed, those already in the status,
    and those a close guard refused (each left as it was), all in id order."""

    changed: list[Ticket]
    unchanged: list[Ticket]
    refused: list[StatusRefusal]


def ticket_set_status(*, ticket: Ticket, status: str, actor: User | None) -> Ticket:
    """Set the ticket's status; its SLA clocks follow. Resolving or closing asks the close
    guards first (tickets.hooks) and raises `StatusRefused`, changing nothing, when one says
    no. (`tickets_set_status` for one ticket.)"""
    changes = tickets_set_status(ticket_ids=[ticket.pk], status=status, actor=actor)
    if changes.refused:
        raise StatusRefused(changes.refused[0].reason, code="close_guard")
    found = changes.changed or changes.unchanged
    if not found:
        raise Ticket.DoesNotExist(f"ticket {ticket.pk} does not exist")
    return found[0]


def tickets_set_status(
    *, ticket_ids: Collection[int], status: str, actor: User | None
) -> StatusChanges:
    """Set the status of many tickets at once (the queue's bulk action), in one transaction
    and a fixed number of statements whatever their number: the same rules as for one
    ticket. Resolving or closing asks the close guards (tickets.hooks) about each ticket; a
    ticket a guard refuses is left as it was and reported, and does not hold back the others.
    For each ticket changed: its SLA clocks follow, a trail entry (`events_record`: the apps
    above the core get the batch as one `ticket_events_recorded`), an agent's freed capacity
    given out again, and the live pushes after the commit. Ids of tickets that do not exist
    are left out; the caller has checked that `actor` may see and change the others."""
    if status not in Status.values:
        raise ValidationError(_("Unknown status: %(status)s"), params={"status": status})
    now = timezone.now()
    with transaction.atomic():
        # In id order, so two batches that share tickets wait for each other, not deadlock.
        locked = list(
            Ticket.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(pk__in_ids=list(ticket_ids))
            .order_by("pk")
        )
        unchanged = [ticket for ticket in locked if ticket.status == status]
        moving = [ticket for ticket in locked if ticket.status != status]
        refused: list[StatusRefusal] = []
        if moving and status in (Status.RESOLVED, Status.CLOSED):
            reasons = hooks.close_refusals(moving, status, actor)
            refused = [
                StatusRefusal(ticket=t, reason=reasons[t.pk]) for t in moving if t.pk in reasons
            ]
            moving = [ticket for ticket in moving if ticket.pk not in reasons]
        if not moving:
            return StatusChanges(changed=[], unchanged=unchanged, refused=refused)
        previous = {ticket.pk: ticket.status for ticket in moving}
        fields = ["status", "updated_at"]
        if status == Status.RESOLVED:
            fields.append("resolved_at")
        elif status == Status.CLOSED:
            fields.append("closed_at")
        for ticket in moving:
            ticket.status = status
            ticket.updated_at = now
            if status == Status.RESOLVED:
                ticket.resolved_at = now
            elif status == Status.CLOSED:
                ticket.closed_at = now
        sla_follow_status_many(tickets=moving, previous=previous, now=now)
        fields.extend(sla_refresh_many(moving))
        rows_update(Ticket, moving, fields)
        # The database derives it from the status.
        is_open = dict(
            Ticket.objects.filter(pk__in_ids=[t.pk for t in moving]).values_list("pk", "is_open")
        )
        for ticket in moving:
            ticket.is_open = is_open[ticket.pk]
        freed = {
            ticket.assignee_id
            for ticket in moving
            if previous[ticket.pk] in OPEN_STATUSES
            and not ticket.is_open
            and ticket.assignee_id is not None
        }
        if freed:
            capacity_freed_later(agent_ids=freed)
        events_record(
            [
                TrailEntry(
                    ticket=ticket,
                    kind=EventKind.STATUS,
                    actor=actor,
                    data={"from": previous[ticket.pk], "to": status},
                    at=now,
                )
                for ticket in moving
            ]
        )
        for ticket in moving:
            ticket_publish(ticket, events.ticket_updated(ticket))
    return StatusChanges(changed=moving, unchanged=unchanged, refused=refused)


def ticket_mark_plan(*, ticket: Ticket, actor: User) -> Ticket:
    """Record that a plan was proposed to the customer (the "plan" milestone)."""
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.plan_at is not None:
            return ticket
        ticket.plan_at = now
        sla_services.clock_satisfy(subject_id=ticket.pk, milestone=Milestone.PLAN, at=now)
        ticket.save(update_fields=["plan_at", "updated_at", *sla_refresh(ticket)])
        event_record(ticket=ticket, kind=EventKind.PLAN, actor=actor, data={})
        ticket_publish(ticket, events.ticket_updated(ticket), board=False)
    return ticket


def ticket_set_tier(*, ticket: Ticket, tier: str, actor: User | None, reason: str) -> Ticket:
    """Change a ticket's priority tier and re-target its running SLA clocks under the policy
    that now applies: an explicit, audited step (history of met clocks is kept)."""
    if tier not in Tier.values:
        raise ValidationError(_("Unknown tier: %(tier)s"), params={"tier": tier})
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
        if ticket.tier == tier:
            return ticket
        previous = ticket.tier
        ticket.tier = tier
        ticket.priority_rank = priority_rank(tier=tier, is_vip=ticket.customer.is_vip)
        changed = sla_services.clocks_reevaluate(
            subject_id=ticket.pk, attributes=sla_attributes(ticket), at=now
        )
        ticket.save(update_fields=["tier", "priority_rank", "updated_at", *sla_refresh(ticket)])
        event_record(
            ticket=ticket,
            kind=EventKind.PRIORITY,
            actor=actor,
            data={
                "from": previous,
                "to": tier,
                "reason": reason,
                "clocks": [f"{c.milestone}:{c.due_at.isoformat()}" for c in changed],
            },
        )
        ticket_publish(ticket, events.ticket_updated(ticket))
    return ticket


def ticket_assign(*, ticket: Ticket, agent: Agent | None, actor: User) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.assignee_id == (agent.pk if agent else None):
            return ticket
        previous = ticket.assignee_id
        ticket.assignee = agent
        ticket.save(update_fields=["assignee", "updated_at"])
        event_record(
            ticket=ticket,
            kind=EventKind.ASSIGNED,
            actor=actor,
            data={"from": previous, "to": agent.pk if agent else None},
        )
        left = [realtime.agent_group(previous)] if previous else []
        ticket_publish(ticket, events.ticket_updated(ticket), also=left)
        assignment_notify(ticket=ticket, agent=agent, actor=actor)
    return ticket
