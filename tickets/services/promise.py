"""The ticket promise: the number a queued inbound message will be taken into, decided
before a worker takes it in (ADR 0003).
"""

from datetime import timedelta

from django.utils import timezone

from tickets.inbound import InboundMessage
from tickets.numbers import ticket_number
from tickets.raw_sql import promise_claim
from tickets.services.customers import IDENTITY_STRENGTH, identities_normalised

# A promise whose ticket never opened (its message was refused) is given up after this long.
PROMISE_ABANDONED_AFTER = timedelta(days=1)


def ticket_promise(*, inbound: InboundMessage) -> str:
    """The number of the ticket an inbound message will be taken into, decided before it is
    (queued intake, PostgreSQL only). A worker later passes the number back in
    `InboundMessage.promised_ticket_number`, and intake keeps the promise.

    The sender's open ticket on the channel (of the customer their strongest identity names)
    if they have one, as intake would thread it; otherwise a ticket id is reserved from the
    tickets' own sequence and promised to the sender's strongest identity, so that messages
    sent before the worker opens it are promised the same ticket (see TicketPromise). One
    statement, in the caller's transaction or autocommit. Raises ValidationError when the
    message names no usable identity."""
    identities = identities_normalised(inbound)
    now = timezone.now()
    ticket_id, number, promised_at = promise_claim(
        channel=inbound.channel,
        identities=identities,
        strength=list(IDENTITY_STRENGTH),
        now=now,
        abandoned_before=now - PROMISE_ABANDONED_AFTER,
    )
    if number:
        return str(number)
    assert promised_at is not None  # a new promise always has its time
    return ticket_number(opened_on=timezone.localdate(promised_at), ticket_id=ticket_id)
