"""Tickets Kefu opens itself, before the customer asks: a logistics anomaly, say.

No customer message starts them, so intake's threading and triage do not apply: the caller
names the team, the subject and why (kept as an internal note), and the ticket starts its
SLA clocks, joins the team's queue and shows on the board like any other.
"""

import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kb.text import language_of
from sla import services as sla_services
from tickets import events
from tickets.models import Channel, Customer, Direction, EventKind, Message, Status, Team, Ticket
from tickets.numbers import ticket_number
from tickets.priority import priority_rank
from tickets.raw_sql import ticket_id_next
from tickets.services.assignment import Needs, assignee_pick
from tickets.services.search_index import search_document_add
from tickets.services.sla_clocks import sla_attributes
from tickets.services.trail import event_record, ticket_publish
from tickets.tiers import Tier


def customer_channel(customer: Customer) -> str:
    """Where to reach a customer who has not written: the channel they prefer, else the
    one they last wrote on, else SMS (a shop always has the buyer's phone, when anything)."""
    if customer.preferred_channel:
        return customer.preferred_channel
    last = (
        Ticket.objects.filter(customer=customer)
        .order_by("-created_at", "-pk")
        .values_list("channel", flat=True)
        .first()
    )
    return last or Channel.SMS


def ticket_open_proactive(
    *,
    customer: Customer,
    team: Team | None,
    subject: str,
    text: str,
    channel: str = "",
    tier: str = Tier.REGULAR,
    category: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket for `customer` on `team` (the caller chooses it; None leaves it in no
    team's queue, unassigned), with `text` as its first, internal note. `channel` is where
    the customer is answered ("" for `customer_channel`). In the caller's transaction, or
    its own."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = Ticket(
            subject=subject.strip()[:200],
            status=Status.NEW,
            tier=tier,
            priority_rank=priority_rank(tier=tier, is_vip=customer.is_vip),
            category=category,
            channel=channel or customer_channel(customer),
            customer=customer,
            team=team,
            assignee=(
                assignee_pick(
                    needs=Needs(
                        team=team,
                        channel=channel or customer_channel(customer),
                        tier=tier,
                        language=(customer.language or language_of(text)).lower(),
                        category=category,
                    ),
                    now=now,
                )
                if team
                else None
            ),
            # Nobody wrote, but the team owes the customer the next step.
            awaiting_reply_since=now,
            created_at=now,
            reply_token=secrets.token_hex(8),
        )
        ticket.pk = ticket_id_next()
        clocks = sla_services.clocks_start(
            subject_id=ticket.pk,
            attributes=sla_attributes(ticket),
            started_at=now,
            calendar_id=team.calendar_id if team else None,
        )
        ticket.sla_due_at = min((clock.due_at for clock in clocks), default=None)
        ticket.number = ticket_number(opened_on=timezone.localdate(now), ticket_id=ticket.pk)
        ticket.save(force_insert=True)
        event_record(ticket=ticket, kind=EventKind.CREATED, actor=None, data={"proactive": True})
        search_document_add(ticket_id=ticket.pk, texts=[ticket.subject, text])
        if text.strip():
            Message.objects.create(
                ticket=ticket,
                direction=Direction.NOTE,
                channel=ticket.channel,
                body=text.strip(),
                created_at=now,
            )
        ticket_publish(ticket, events.ticket_created(ticket), page=False)
    return ticket
