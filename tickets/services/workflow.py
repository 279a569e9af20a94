"""What agents do to a ticket: reply, note, status, plan, tier, assignment, typing."""

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
from tickets.services.alerts import assignment_notify
from tickets.services.assignment import capacity_freed_later
from tickets.services.delivery import customer_address, deliver_later, new_message_id
from tickets.services.search_index import search_document_add
from tickets.services.sla_clocks import sla_attributes, sla_follow_status, sla_refresh
from tickets.services.trail import event_record, ticket_publish
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


def ticket_set_status(*, ticket: Ticket, status: str, actor: User | None) -> Ticket:
    """Set the ticket's status; its SLA clocks follow. Resolving or closing asks the close
    guards first (tickets.hooks) and raises `StatusRefused`, changing nothing, when one says
    no."""
    if status not in Status.values:
        raise ValidationError(_("Unknown status: %(status)s"), params={"status": status})
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == status:
            return ticket
        if status in (Status.RESOLVED, Status.CLOSED):
            refusal = hooks.close_refusal(ticket, status, actor)
            if refusal:
                raise StatusRefused(refusal, code="close_guard")
        previous = ticket.status
        ticket.status = status
        fields = ["status", "updated_at"]
        if status == Status.RESOLVED:
            ticket.resolved_at = now
            fields.append("resolved_at")
        elif status == Status.CLOSED:
            ticket.closed_at = now
            fields.append("closed_at")
        sla_follow_status(ticket=ticket, previous=previous, now=now)
        fields.extend(sla_refresh(ticket))
        ticket.save(update_fields=fields)
        ticket.refresh_from_db(fields=["is_open"])  # the database derives it from the status
        if previous in OPEN_STATUSES and not ticket.is_open and ticket.assignee_id is not None:
            capacity_freed_later(agent_id=ticket.assignee_id)
        event_record(
            ticket=ticket,
            kind=EventKind.STATUS,
            actor=actor,
            data={"from": previous, "to": status},
        )
        ticket_publish(ticket, events.ticket_updated(ticket))
    return ticket


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
