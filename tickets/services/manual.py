"""Tickets an agent opens by hand: for a phone call that was answered (from its screen pop,
with the caller) and for a customer standing at a store's counter.

They go through intake like any message (tickets.services.intake): the customer is found or
created from the phone or email given, the agent's account of what the customer said is the
ticket's first message, and triage, tier, SLA clocks and routing follow as for any other
ticket. Only threading differs: a ticket opened by hand is always a new ticket.
"""

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tickets.inbound import Identity, InboundMessage
from tickets.models import (
    Call,
    Channel,
    Customer,
    EventKind,
    IdentityKind,
    Store,
    Ticket,
)
from tickets.services.audit import audit_record
from tickets.services.intake import intake_message
from tickets.services.trail import event_record

MANUAL_CHANNELS = (Channel.PHONE, Channel.STORE)


@dataclass(frozen=True)
class ManualTicket:
    """What an agent writes down to open a ticket by hand."""

    channel: str  # Channel.PHONE or Channel.STORE
    text: str  # what the customer said, in the agent's words
    subject: str = ""
    customer: Customer | None = None  # a known customer (the caller of a call)
    name: str = ""
    phone: str = ""
    email: str = ""
    store: Store | None = None
    call: Call | None = None


def _identities(request: ManualTicket) -> list[Identity]:
    """Who the ticket is for: the phone and email written down, else the known customer (the
    caller of the call), else the number the call came from."""
    identities = []
    if request.phone.strip():
        identities.append(Identity(kind=IdentityKind.PHONE, value=request.phone.strip()))
    if request.email.strip():
        identities.append(Identity(kind=IdentityKind.EMAIL, value=request.email.strip()))
    call = request.call
    customer = request.customer or (call.customer if call is not None else None)
    if not identities and customer is not None:
        # Intake finds the customer by an identity: their strongest one names them.
        known = customer.identities.order_by("kind", "pk")
        first = (
            known.filter(kind=IdentityKind.PHONE).first()
            or known.filter(kind=IdentityKind.EMAIL).first()
            or known.first()
        )
        if first is not None:
            identities.append(Identity(kind=first.kind, value=first.value))
    if not identities and call is not None and call.customer_number.startswith("+"):
        identities.append(Identity(kind=IdentityKind.PHONE, value=call.customer_number))
    return identities


def ticket_open_by_hand(*, request: ManualTicket, actor: User) -> Ticket:
    """Open a ticket for a phone call or a store visit, through intake (triage, SLA clocks,
    routing). Refused on another channel, without a text, for a store ticket without an
    active store, and without a phone, an email or a known customer to name who it is for.
    The call (when given) is linked to the new ticket if it had none. Audited."""
    if request.channel not in MANUAL_CHANNELS:
        raise ValidationError(_("Tickets are opened by hand for phone calls and store visits."))
    text = request.text.strip()
    if not text:
        raise ValidationError(_("Write down what the customer asks."))
    if request.channel == Channel.STORE and (request.store is None or not request.store.is_active):
        raise ValidationError(_("Choose the store the customer is at."))
    identities = _identities(request)
    if not identities:
        raise ValidationError(_("Give the customer's phone number or email."))
    store = request.store if request.channel == Channel.STORE else None
    with transaction.atomic():
        result = intake_message(
            inbound=InboundMessage(
                channel=request.channel,
                provider_id=f"manual-{uuid.uuid4().hex}",
                identities=identities,
                text=text,
                name=request.name.strip()[:200],
                subject=request.subject.strip()[:200],
                opens_ticket=True,
                team_id=request.call.team_id if request.call is not None else None,
            )
        )
        ticket = result.ticket
        if store is not None:
            ticket.store = store
            ticket.save(update_fields=["store", "updated_at"])
        call = request.call
        if call is not None and call.ticket_id is None:
            Call.objects.filter(pk=call.pk, ticket__isnull=True).update(ticket=ticket)
        event_record(
            ticket=ticket,
            kind=EventKind.OPENED_BY_HAND,
            actor=actor,
            data={
                "channel": request.channel,
                "store": store.pk if store else None,
                "call": call.pk if call else None,
                "to": str(store) if store else "",
            },
        )
        audit_record(
            actor=actor,
            action="ticket_opened_by_hand",
            object_type="ticket",
            object_id=str(ticket.pk),
            data={
                "channel": request.channel,
                "store": store.pk if store else None,
                "call": call.pk if call else None,
                "customer": ticket.customer_id,
            },
        )
    return ticket
