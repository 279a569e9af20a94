"""Intake: where an inbound message becomes a ticket.

One transaction resolves the customer, threads the message into an open ticket or opens a
new one (triage, priority, SLA clocks, routing), stores it and records the trail; the
browsers, the answer bot and the orders lookup hear of it after commit.
"""

import hashlib
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Avg, Q
from django.utils import timezone
from django.utils.translation import gettext

from kb.text import language_of
from kb.triage import triage_text
from sla import services as sla_services
from sla.models import Milestone
from tickets import events, hooks
from tickets.inbound import InboundAttachment, InboundMessage
from tickets.models import (
    Agent,
    Attachment,
    Channel,
    ContactIdentity,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Status,
    Team,
    Ticket,
)
from tickets.numbers import ticket_id_of, ticket_number
from tickets.orders import orders_backend
from tickets.priority import priority_rank, tier_for
from tickets.raw_sql import rows_insert, ticket_id_next
from tickets.routing import adviser_for, routing_table
from tickets.selectors import order_numbers_in
from tickets.services.assignment import Needs, assignee_pick
from tickets.services.bot import BOT_CHANNELS, bot_later
from tickets.services.customers import (
    customer_resolve_or_create,
    identities_normalised,
    strongest_owner,
)
from tickets.services.merging import ticket_merged_on_channel, ticket_survivor
from tickets.services.orders import orders_later
from tickets.services.search_index import search_document_add
from tickets.services.sla_clocks import sla_attributes, sla_refresh
from tickets.services.trail import event_record, ticket_publish


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    message: Message
    created: bool  # False when this provider message had already been taken in
    ticket_opened: bool


def _already_taken(message: InboundMessage) -> Message | None:
    return (
        Message.objects.select_related("ticket")
        .filter(channel=message.channel, provider_id=message.provider_id)
        .first()
    )


def intake_message(*, inbound: InboundMessage) -> IntakeResult:
    """Take one normalised inbound message into a ticket, exactly once.

    Resolves the customer, threads into their open ticket on the same channel (or the ticket a
    thread hint names) or opens a new one with triage, priority, SLA clocks and routing, and
    publishes the events after commit. The same (channel, provider id) again returns the first
    result with `created=False` and changes nothing. Raises ValidationError when the message
    names no usable identity.
    """
    # No "already taken?" read up front: the unique key on the message decides, below, and
    # edges answer redeliveries from their own log before calling in.
    inbound = inbound_capped(inbound=inbound, max_chars=settings.KEFU_MESSAGE_BODY_MAX_CHARS)
    identities = identities_normalised(inbound)
    now = timezone.now()
    try:
        with transaction.atomic():
            customer, is_new = customer_resolve_or_create(identities=identities, name=inbound.name)
            if is_new and not customer.language and language_of(inbound.text) == "en":
                # What we write to them first (notices) is in the language they wrote in.
                customer.language = "en"
                customer.save(update_fields=["language"])
            promised_id = ticket_id_of(inbound.promised_ticket_number)
            claim = (
                None
                if is_new or promised_id is not None or inbound.opens_ticket
                else hooks.inbound_intercept(customer, inbound)
            )
            if claim is not None:
                # An answer an app was waiting for (tickets.hooks): kept on its ticket as
                # it is, which is neither reopened nor threaded into.
                message = _claimed_store(inbound=inbound, claim=claim, now=now)
                return IntakeResult(
                    ticket=claim.ticket, message=message, created=True, ticket_opened=False
                )
            if promised_id is not None:
                # The sender was told this number: keep the promise, whatever threading
                # would say now (the ticket may have opened meanwhile, from another message).
                ticket = Ticket.objects.filter(pk=promised_id).first()
                previous = None
            elif is_new or inbound.opens_ticket:
                # A customer created just now has no tickets to thread into or to count.
                ticket, previous = None, None
            else:
                ticket, previous = _thread_target(customer=customer, inbound=inbound, now=now)
            opened = ticket is None
            if ticket is None:
                ticket = _ticket_open(
                    customer=customer,
                    inbound=inbound,
                    now=now,
                    previous=previous,
                    first_contact=is_new,
                    promised_id=promised_id,
                )
            elif not ticket.is_open:
                _ticket_reopen_by_customer(ticket=ticket, now=now)
            message = Message.objects.create(
                ticket=ticket,
                direction=Direction.IN,
                channel=inbound.channel,
                body=inbound.text,
                provider_id=inbound.provider_id,
                delivery_status=DeliveryStatus.RECEIVED,
                sent_at=inbound.sent_at,
                created_at=now,
                subject=inbound.subject[:255],
                html=inbound.html,
                quoted_text=inbound.quoted_text,
                defects=list(inbound.defects),
                email_message_id=inbound.email_message_id[:255],
                sentiment=ticket.sentiment if opened else _sentiment_of(inbound),
                # The bot's look at it is owed from this commit on (tickets/services/outbox.py).
                bot_due_at=now if inbound.channel in BOT_CHANNELS else None,
            )
            search_document_add(
                ticket_id=ticket.pk,
                texts=[ticket.subject if opened else "", message.subject, message.body],
            )
            if not opened:
                # Saved with the customer's other changes to the ticket, below.
                _ticket_sentiment_refresh(ticket)
            if inbound.attachments:
                _store_attachments(message=message, inbound=inbound)
            if opened:
                event_record(ticket=ticket, kind=EventKind.CREATED, actor=None, data={})
                # What the apps above the core keep of a new ticket (a complaint's owner).
                hooks.ticket_opened(ticket)
                # Not the ticket's own group: no page can be watching a ticket that did not
                # exist until this commit.
                ticket_publish(ticket, events.ticket_created(ticket), page=False)
            else:
                _ticket_customer_wrote(ticket=ticket, now=now)
                event_record(ticket=ticket, kind=EventKind.MESSAGE_IN, actor=None, data={})
                ticket_publish(ticket, events.message_added(ticket, message))
        if inbound.channel in BOT_CHANNELS:
            message_pk = message.pk
            transaction.on_commit(lambda: bot_later(message_pk))
        if orders_backend() is not None and order_numbers_in(f"{inbound.subject}\n{inbound.text}"):
            order_message_pk = message.pk
            transaction.on_commit(lambda: orders_later(order_message_pk))
    except IntegrityError:
        # Another delivery of the same provider message won the race on the unique key.
        done = _already_taken(inbound)
        if done is None:
            raise
        return IntakeResult(ticket=done.ticket, message=done, created=False, ticket_opened=False)
    return IntakeResult(ticket=ticket, message=message, created=True, ticket_opened=opened)


def _claimed_store(*, inbound: InboundMessage, claim: hooks.InboundClaim, now: datetime) -> Message:
    message = _claimed_message(inbound, ticket=claim.ticket, now=now)
    message.save(force_insert=True)
    claim.accept(message)
    ticket_publish(claim.ticket, events.message_added(claim.ticket, message), queues=False)
    return message


def intake_claimed_many(*, inbounds: Sequence[InboundMessage]) -> dict[int, IntakeResult]:
    """What `intake_message` does with a message an app claims (tickets.hooks), for a batch
    (a drain's stored SMS): the claimed messages of known senders are stored on their claims'
    tickets and accepted together, in the caller's transaction. Returns the results by
    position in `inbounds`.

    Everything else is left untouched for `intake_message`, one by one: a message from a
    new sender or one with an identity not yet on file, one that names or opens a ticket,
    one with a name to record, one no app claims, every message of a sender seen more than
    once in the batch (their order matters), and the whole batch when an interceptor has no
    batch form. Raises IntegrityError when a provider message was taken in already (the
    caller then takes the batch one by one, which answers that)."""
    capped = [
        inbound_capped(inbound=inbound, max_chars=settings.KEFU_MESSAGE_BODY_MAX_CHARS)
        for inbound in inbounds
    ]
    senders: dict[int, list[tuple[str, str]]] = {}
    for index, inbound in enumerate(capped):
        try:
            senders[index] = identities_normalised(inbound)
        except ValidationError:
            continue  # intake_message refuses it, with the reason
    # A sender with more than one message in the batch (by any identity) is left whole.
    counted = Counter(pair for pairs in senders.values() for pair in pairs)
    asked = {
        index: pairs
        for index, pairs in senders.items()
        if not (capped[index].promised_ticket_number or capped[index].opens_ticket)
        and all(counted[pair] == 1 for pair in pairs)
    }
    by_kind: dict[str, set[str]] = {}
    for pairs in asked.values():
        for kind, value in pairs:
            by_kind.setdefault(kind, set()).add(value)
    if not by_kind:
        return {}
    query = Q()
    for kind, values in by_kind.items():
        query |= Q(kind=kind, value__in=sorted(values))
    known = {
        (kind, value): customer_id
        for kind, value, customer_id in ContactIdentity.objects.filter(query).values_list(
            "kind", "value", "customer_id"
        )
    }
    owners: dict[int, int] = {}
    for index, pairs in asked.items():
        if all(pair in known for pair in pairs):
            owner = strongest_owner({pair: known[pair] for pair in pairs})
            if owner is not None:
                owners[index] = owner
    seen = Counter(owners.values())
    owners = {index: owner for index, owner in owners.items() if seen[owner] == 1}
    if not owners:
        return {}
    # Locked as customer_resolve_or_create locks one: one intake per customer at a time.
    customers = {
        customer.pk: customer
        for customer in Customer.objects.select_for_update()
        .filter(pk__in_ids=sorted(set(owners.values())))
        .order_by("pk")  # one order for every batch: two drains never wait on each other
    }
    positions = [
        index
        for index, owner in owners.items()
        if owner in customers and not (capped[index].name and not customers[owner].name)
    ]
    claims = hooks.inbound_intercept_many(
        [(customers[owners[index]], capped[index]) for index in positions]
    )
    if not claims:
        return {}
    now = timezone.now()
    results: dict[int, IntakeResult] = {}
    for claim in claims:
        stored = dict(
            zip(
                claim.tickets,
                rows_insert(
                    Message,
                    [
                        _claimed_message(capped[positions[local]], ticket=ticket, now=now)
                        for local, ticket in claim.tickets.items()
                    ],
                ),
                strict=True,
            )
        )
        claim.accept(stored)
        for local, message in stored.items():
            ticket = claim.tickets[local]
            ticket_publish(ticket, events.message_added(ticket, message), queues=False)
            results[positions[local]] = IntakeResult(
                ticket=ticket, message=message, created=True, ticket_opened=False
            )
    return results


def _claimed_message(inbound: InboundMessage, *, ticket: Ticket, now: datetime) -> Message:
    """A claimed message as it is stored: on the claim's ticket, as it came."""
    return Message(
        ticket=ticket,
        direction=Direction.IN,
        channel=inbound.channel,
        body=inbound.text,
        provider_id=inbound.provider_id,
        delivery_status=DeliveryStatus.RECEIVED,
        sent_at=inbound.sent_at,
        created_at=now,
    )


# Where a shortened text may end, best first: a paragraph, a line, a sentence, a word.
_CLEAN_ENDS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"[。！？.!?](?=\s|$)|[。！？]"),
    re.compile(r"\s"),
)


def inbound_capped(*, inbound: InboundMessage, max_chars: int) -> InboundMessage:
    """The message with its text, quoted history and HTML each at most `max_chars`
    characters (a 31 MB mail would otherwise be rendered on every page of its customer).

    A longer text is cut at the last paragraph, line, sentence or word break that keeps
    most of it, and ends with a marker naming the attachment that holds it whole (UTF-8,
    byte for byte): `original.txt`, `quoted.txt` or `original.html`. Nothing is lost.
    """
    attachments = list(inbound.attachments)
    fields: dict[str, str] = {}
    for name, filename, content_type in (
        ("text", "original.txt", "text/plain"),
        ("quoted_text", "quoted.txt", "text/plain"),
        ("html", "original.html", "text/html"),
    ):
        value: str = getattr(inbound, name)
        if len(value) <= max_chars:
            continue
        if name == "html":
            fields[name] = ""  # half a document is no document; the page shows the text
        else:
            fields[name] = _shortened(value, max_chars=max_chars, filename=filename)
        data = value.encode("utf-8", errors="replace")  # a lone surrogate cannot be stored
        attachments.append(
            InboundAttachment(
                filename=filename,
                content_type=content_type,
                size=len(data),
                md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
            )
        )
    if not fields:
        return inbound
    return replace(
        inbound,
        text=fields.get("text", inbound.text),
        quoted_text=fields.get("quoted_text", inbound.quoted_text),
        html=fields.get("html", inbound.html),
        attachments=attachments,
    )


def _shortened(text: str, *, max_chars: int, filename: str) -> str:
    marker = gettext("[message shortened: the full text is attached as %(filename)s]") % {
        "filename": filename
    }
    room = max(max_chars - len(marker) - 2, 0)
    head = text[:room]
    cut = room
    for pattern in _CLEAN_ENDS:
        ends = [match.end() for match in pattern.finditer(head, room * 4 // 5)]
        if ends:
            cut = ends[-1]
            break
    # Never between a character and the accents or joiners that belong to it.
    while 0 < cut < len(text) and (unicodedata.combining(text[cut]) or text[cut] in "\u200d\ufe0f"):
        cut -= 1
    return f"{text[:cut].rstrip()}\n\n{marker}"


def _sentiment_of(inbound: InboundMessage) -> float:
    return triage_text(inbound.text).sentiment


def _ticket_sentiment_refresh(ticket: Ticket) -> None:
    """The ticket's emotion index: the mean of its customer messages' scores. Set on the
    instance; `_ticket_customer_wrote` saves it."""
    mean = ticket.messages.filter(direction=Direction.IN, sentiment__isnull=False).aggregate(
        mean=Avg("sentiment")
    )["mean"]
    if mean is not None:
        ticket.sentiment = round(mean, 3)


def _thread_target(
    *, customer: Customer, inbound: InboundMessage, now: datetime
) -> tuple[Ticket | None, Ticket | None]:
    """Which ticket a message belongs to: (ticket to add it to, or None for a new ticket;
    a closed ticket the new one follows up on).

    Explicit thread keys win, strongest first: the ticket's reply token, the message ids the
    message answers, a ticket number of the same customer. A key that leads to a closed ticket
    reopens it within REOPEN_WINDOW_DAYS of closing, else the new ticket is linked to it.
    Without keys, email opens a new ticket (a new mail is a new matter); other channels
    continue the customer's open ticket on the same channel.
    """
    named = _ticket_named_by(customer=customer, inbound=inbound)
    if named is not None:
        # A ticket merged into another goes on in its survivor (tickets/services/merging.py).
        return _thread_named(ticket_survivor(named), now=now)
    if inbound.channel == Channel.EMAIL:
        return None, None
    current = (
        Ticket.objects.filter(customer=customer, channel=inbound.channel, is_open=True)
        .order_by("-created_at")
        .first()
    )
    if current is None:
        # The customer's latest ticket on this channel was merged away: its survivor, as if
        # the message had named it.
        survivor = ticket_merged_on_channel(customer_id=customer.pk, channel=inbound.channel)
        if survivor is not None:
            return _thread_named(survivor, now=now)
    return current, None


def _thread_named(named: Ticket, *, now: datetime) -> tuple[Ticket | None, Ticket | None]:
    if named.is_open:
        return named, None
    ended = named.closed_at or named.resolved_at or named.updated_at
    if ended >= now - timedelta(days=settings.REOPEN_WINDOW_DAYS):
        return named, None
    return None, named


def _ticket_named_by(*, customer: Customer, inbound: InboundMessage) -> Ticket | None:
    if inbound.reply_token:
        # The token is secret to the ticket's thread, so it counts whoever writes with it.
        by_token = Ticket.objects.filter(reply_token=inbound.reply_token).first()
        if by_token is not None:
            return by_token
    if inbound.thread_message_ids:
        # The ticket of the newest message answered, read without the message itself.
        answered = (
            Ticket.objects.filter(
                customer=customer,
                messages__email_message_id__in=list(inbound.thread_message_ids)[:50],
            )
            .order_by("-messages__created_at")
            .first()
        )
        if answered is not None:
            return answered
    if inbound.thread_ticket_number:
        return Ticket.objects.filter(number=inbound.thread_ticket_number, customer=customer).first()
    return None


def _ticket_reopen_by_customer(*, ticket: Ticket, now: datetime) -> None:
    previous = ticket.status
    ticket.status = Status.OPEN
    sla_services.clock_reopen(subject_id=ticket.pk, milestone=Milestone.RESOLUTION, at=now)
    sla_services.clocks_resume(subject_id=ticket.pk, at=now)
    ticket.save(update_fields=["status", "updated_at"])
    ticket.refresh_from_db(fields=["is_open"])  # the database derives it from the status
    event_record(ticket=ticket, kind=EventKind.REOPENED, actor=None, data={"from": previous})


def _store_attachments(*, message: Message, inbound: InboundMessage) -> None:
    for item in inbound.attachments:
        attachment = Attachment(
            message=message,
            filename=item.filename[:255],
            content_type=item.content_type[:127],
            size=item.size,
            md5=item.md5,
            sha256=item.sha256,
            content_id=item.content_id[:255],
            is_inline=item.is_inline,
            refused_reason=item.refused_reason[:300],
        )
        if item.data is not None:
            attachment.file.save(
                item.filename[:100] or "attachment", ContentFile(item.data), save=False
            )
        attachment.save()


REPEAT_CONTACT_WINDOW = timedelta(days=7)


def _ticket_open(
    *,
    customer: Customer,
    inbound: InboundMessage,
    now: datetime,
    previous: Ticket | None,
    first_contact: bool = False,
    promised_id: int | None = None,
) -> Ticket:
    recent = (
        0
        if first_contact
        else Ticket.objects.filter(
            customer=customer, created_at__gte=now - REPEAT_CONTACT_WINDOW
        ).count()
    )
    triage = triage_text(
        f"{inbound.subject}\n{inbound.text}", is_vip=customer.is_vip, repeat_contacts=recent
    )
    tier = tier_for(triage)
    team = _channel_team(inbound.team_id) or _route_team(triage.category)
    ticket = Ticket(
        subject=_subject_of(inbound),
        status=Status.NEW,
        tier=tier,
        priority_rank=priority_rank(tier=tier, is_vip=customer.is_vip),
        category=triage.category or "",
        urgency_reasons=triage.reasons,
        sentiment=triage.sentiment,
        channel=inbound.channel,
        customer=customer,
        team=team,
        assignee=adviser_for(customer, tier)
        or (
            _assignee_for(
                team=team,
                customer=customer,
                inbound=inbound,
                tier=tier,
                category=triage.category,
                now=now,
            )
            if team
            else None
        ),
        awaiting_reply_since=now,
        created_at=now,
        reply_token=secrets.token_hex(8),
        previous=previous,
    )
    # The id first (a promised ticket's, or the next of the tickets' sequence), so that the
    # number and the SLA due time go in with the row: one INSERT, no UPDATE after it.
    ticket.pk = promised_id if promised_id is not None else ticket_id_next()
    clocks = sla_services.clocks_start(
        subject_id=ticket.pk,
        attributes=sla_attributes(ticket),
        started_at=now,
        calendar_id=team.calendar_id if team else None,
    )
    ticket.sla_due_at = min((clock.due_at for clock in clocks), default=None)
    ticket.number = (
        inbound.promised_ticket_number
        if promised_id is not None
        else ticket_number(opened_on=timezone.localdate(now), ticket_id=ticket.pk)
    )
    ticket.save(force_insert=True)
    return ticket


def _assignee_for(
    *,
    team: Team,
    customer: Customer,
    inbound: InboundMessage,
    tier: str,
    category: str | None,
    now: datetime,
) -> Agent | None:
    """Who of the team can take the new ticket now (tickets/services/assignment.py); the
    ticket waits in the team's queue when nobody can."""
    language = customer.language or language_of(f"{inbound.subject}\n{inbound.text}")
    needs = Needs(
        team=team,
        channel=inbound.channel,
        tier=tier,
        language=language.lower(),
        category=category or "",
    )
    return assignee_pick(needs=needs, now=now)


def _subject_of(inbound: InboundMessage) -> str:
    if inbound.subject.strip():
        return inbound.subject.strip()[:200]
    first_line = next((line for line in inbound.text.splitlines() if line.strip()), "")
    return first_line.strip()[:80]


def _channel_team(team_id: int | None) -> Team | None:
    return Team.objects.filter(pk=team_id).first() if team_id is not None else None


def _route_team(category: str | None) -> Team | None:
    return routing_table().team_for(category)


def _ticket_customer_wrote(*, ticket: Ticket, now: datetime) -> None:
    """A customer message on an open ticket: we owe them an answer again (next-response
    clock once the first response is done), and a wait for them is over. Saves the ticket's
    sentiment too (refreshed for the message just before)."""
    fields = ["updated_at", "sentiment"]
    if ticket.awaiting_reply_since is None:
        ticket.awaiting_reply_since = now
        fields.append("awaiting_reply_since")
        if ticket.first_response_at is not None:
            sla_services.clock_start_next_response(subject_id=ticket.pk, at=now)
    if ticket.status == Status.PENDING_CUSTOMER:
        ticket.status = Status.OPEN
        fields.append("status")
        sla_services.clocks_resume(subject_id=ticket.pk, at=now)
    fields.extend(sla_refresh(ticket))
    ticket.save(update_fields=fields)
