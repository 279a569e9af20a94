"""Every write of the core goes through a function here.

Side effects (Celery tasks, websocket events, outbound delivery) are registered with
`transaction.on_commit`, so nothing leaves the process for a write that rolled back.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Avg, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kb.triage import Category, triage_text
from kefu import realtime
from sla import selectors as sla_selectors
from sla import services as sla_services
from sla.models import EscalationAction, EscalationRule, Milestone, SlaClock, Tier
from tickets import events
from tickets.delivery import DeliveryResult, Outbound, TransientDeliveryError, backend_for
from tickets.identity import normalise_identity
from tickets.inbound import Identity, InboundMessage
from tickets.models import (
    OPEN_STATUSES,
    PRIORITY_REGULAR,
    PRIORITY_URGENT,
    PRIORITY_VALUE_ADDED,
    PRIORITY_VIP,
    Agent,
    Attachment,
    AuditEntry,
    Call,
    Channel,
    ContactIdentity,
    Customer,
    CustomerMerge,
    DeliveryStatus,
    Direction,
    EventKind,
    IdentityKind,
    IntegrationToken,
    Message,
    Notification,
    SlaState,
    Status,
    StatusAccessCode,
    Team,
    Ticket,
    TicketEvent,
    TicketPromise,
)
from tickets.numbers import ticket_id_of, ticket_number
from tickets.orders import OrderOwner, orders_backend
from tickets.routing import routing_table
from tickets.selectors import order_numbers_in

logger = logging.getLogger("kefu.tickets")

# Which identity a reply on a channel is addressed to.
CHANNEL_ADDRESS = {
    Channel.APP: IdentityKind.APP_USER,
    Channel.CHAT: IdentityKind.APP_USER,
    Channel.SMS: IdentityKind.PHONE,
    Channel.PHONE: IdentityKind.PHONE,
    Channel.EMAIL: IdentityKind.EMAIL,
    Channel.WEB: IdentityKind.EMAIL,
}

# The order in which identities decide who a customer is when they disagree: an app account
# is the strongest proof, an email address the weakest.
IDENTITY_STRENGTH = [IdentityKind.APP_USER, IdentityKind.PHONE, IdentityKind.EMAIL]


# --- customers ---------------------------------------------------------------------------


def customer_resolve(*, identities: list[tuple[str, str]], name: str) -> Customer:
    """Find the customer behind normalised (kind, value) identities, creating the customer and
    attaching identities not seen before. When identities belong to different customers the
    strongest one wins and nothing is merged automatically (a merge is a supervisor's call).

    Call inside a transaction: an existing customer's row stays locked until it ends, so one
    intake per customer at a time decides whether to thread into a ticket or open one.
    """
    return _customer_resolve(identities=identities, name=name)[0]


def _customer_resolve(*, identities: list[tuple[str, str]], name: str) -> tuple[Customer, bool]:
    """`customer_resolve`, also telling whether the customer was created by this call (and so
    has no tickets yet)."""
    query = Q()
    for kind, value in identities:
        query |= Q(kind=kind, value=value)
    known = {(i.kind, i.value): i.customer_id for i in ContactIdentity.objects.filter(query)}
    owner = _strongest_owner(known)
    if owner is None:
        customer = Customer.objects.create(name=name[:200])
    else:
        customer = Customer.objects.select_for_update().get(pk=owner)
        if name and not customer.name:
            customer.name = name[:200]
            customer.save(update_fields=["name"])
    missing = [(kind, value) for kind, value in identities if (kind, value) not in known]
    if not missing:
        return customer, False
    attached = _identities_attach(customer=customer, identities=missing)
    # ON CONFLICT DO NOTHING waits for a concurrent insert of the same identity to commit and
    # then skips ours; for those, this read (a fresh snapshot) shows who won.
    skipped = [pair for pair in missing if pair not in attached]
    winners: dict[tuple[str, str], int] = {}
    if skipped:
        skipped_query = Q()
        for kind, value in skipped:
            skipped_query |= Q(kind=kind, value=value)
        winners = {
            (kind, value): customer_id
            for kind, value, customer_id in ContactIdentity.objects.filter(skipped_query)
            .exclude(customer=customer)
            .values_list("kind", "value", "customer_id")
        }
    if owner is None and winners:
        # Another intake created this person a moment ago: use theirs, drop the one we made.
        orphan = customer
        winner = _strongest_owner(winners)
        assert winner is not None  # winners is not empty
        customer = Customer.objects.select_for_update().get(pk=winner)
        ContactIdentity.objects.filter(customer=orphan).update(customer=customer)
        orphan.delete()
        return customer, False
    return customer, owner is None


def _identities_attach(
    *, customer: Customer, identities: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Insert identities for `customer`, skipping any that exist (ON CONFLICT DO NOTHING, as
    `bulk_create(ignore_conflicts=True)`), and return those actually inserted (RETURNING):
    usually all, so no read is needed to learn whether a concurrent intake won one."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = ", ".join(quote(name) for name in ("customer_id", "kind", "value", "created_at"))
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(identities))
    params: list[object] = []
    for kind, value in identities:
        params += [customer.pk, kind, value, created_at]
    # Only quoted names from the model and placeholders go into the text; values are params.
    sql = (
        f"INSERT INTO {quote(ContactIdentity._meta.db_table)} ({columns}) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING {quote('kind')}, {quote('value')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(kind, value) for kind, value in cursor.fetchall()}


def _strongest_owner(owners: dict[tuple[str, str], int]) -> int | None:
    for strength in IDENTITY_STRENGTH:
        for (kind, _value), customer_id in owners.items():
            if kind == strength:
                return customer_id
    return next(iter(owners.values()), None)


def _normalised_identities(message: InboundMessage) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    errors: list[str] = []
    for identity in message.identities:
        try:
            value = normalise_identity(identity.kind, identity.value)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        if (identity.kind, value) not in result:
            result.append((identity.kind, value))
    if not result:
        raise ValidationError(errors or [_("No usable identity for the sender.")])
    return result


class MergeRefused(Exception):
    """A merge or an undo that would leave the records wrong; the message says why."""


def customer_merge(
    *, source: Customer, target: Customer, actor: User, reason: str = ""
) -> CustomerMerge:
    """Merge `source` into `target`: its identities, tickets and calls move to `target`, and
    `source` stays behind, empty, marked as merged. What moved is recorded so that
    `customer_merge_undo` can move exactly that back. Audited."""
    if source.pk == target.pk:
        raise MergeRefused(_("A customer cannot be merged into itself."))
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
        }
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id or target.merged_into_id:
            raise MergeRefused(_("One of these customers has already been merged."))
        ids: dict[str, list[int]] = {
            "identities": list(source.identities.values_list("pk", flat=True)),
            "tickets": list(source.tickets.values_list("pk", flat=True)),
            "calls": list(Call.objects.filter(customer=source).values_list("pk", flat=True)),
        }
        moved: dict[str, object] = {
            **ids,
            "source": {"name": source.name, "is_vip": source.is_vip},
            "target": {"name": target.name, "is_vip": target.is_vip},
        }
        ContactIdentity.objects.filter(pk__in=ids["identities"]).update(customer=target)
        Ticket.objects.filter(pk__in=ids["tickets"]).update(customer=target)
        Call.objects.filter(pk__in=ids["calls"]).update(customer=target)
        target.name = target.name or source.name
        target.is_vip = target.is_vip or source.is_vip
        target.save(update_fields=["name", "is_vip"])
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        merge = CustomerMerge.objects.create(
            source=source, target=target, actor=actor, reason=reason[:200], moved=moved
        )
        AuditEntry.objects.create(
            actor=actor,
            action="customer_merged",
            object_type="customer",
            object_id=str(target.pk),
            data={"merge": merge.pk, "from": source.pk, "reason": reason[:200], **_counts(moved)},
        )
        for ticket in Ticket.objects.filter(pk__in=ids["tickets"]):
            _record(
                ticket=ticket,
                kind=EventKind.CUSTOMER_MERGED,
                actor=actor,
                data={"from": source.pk, "to": target.pk},
            )
    return merge


def customer_tickets_adopt(
    *, channel: str, from_identity: tuple[str, str], to_identity: tuple[str, str], name: str = ""
) -> list[int]:
    """Move the tickets on `channel` of whoever `from_identity` names to whoever `to_identity`
    names (created if unknown), and return their ids. For a chat visitor who was anonymous
    and then signed in on the same browser: one person, one conversation.

    Only the tickets move, not the identity: it stays behind with its now empty customer, so
    someone using that browser anonymously later does not see the signed-in customer's
    conversations. Audited, with an event on each ticket moved."""
    if from_identity == to_identity:
        return []
    with transaction.atomic():
        source = (
            ContactIdentity.objects.filter(kind=from_identity[0], value=from_identity[1])
            .values_list("customer_id", flat=True)
            .first()
        )
        if source is None:
            return []
        tickets = list(
            Ticket.objects.select_for_update().filter(customer_id=source, channel=channel)
        )
        if not tickets:
            return []
        target = customer_resolve(identities=[to_identity], name=name)
        if target.pk == source:
            return []
        ids = [ticket.pk for ticket in tickets]
        Ticket.objects.filter(pk__in=ids).update(customer=target, updated_at=timezone.now())
        AuditEntry.objects.create(
            actor=None,
            action="tickets_adopted",
            object_type="customer",
            object_id=str(target.pk),
            data={"from": source, "channel": channel, "tickets": ids},
        )
        for ticket in tickets:
            _record(
                ticket=ticket,
                kind=EventKind.CUSTOMER_MERGED,
                actor=None,
                data={"from": source, "to": target.pk, "signed_in": True},
            )
    return ids


def _counts(moved: dict[str, object]) -> dict[str, int]:
    return {
        kind: len(value)
        for kind, value in moved.items()
        if isinstance(value, list) and kind in ("identities", "tickets", "calls")
    }


def customer_merge_undo(*, merge: CustomerMerge, actor: User) -> CustomerMerge:
    """Undo a merge: what moved goes back to the source customer (rows that were deleted since
    stay deleted), and both customers get back their name and VIP flag. Audited."""
    with transaction.atomic():
        merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise MergeRefused(_("This merge has already been undone."))
        later = CustomerMerge.objects.filter(
            source=merge.target, undone_at__isnull=True, created_at__gte=merge.created_at
        ).exists()
        if later:
            raise MergeRefused(
                _("The customer it went into was merged again since; undo that merge first.")
            )
        source, target = merge.source, merge.target
        moved = merge.moved
        ContactIdentity.objects.filter(pk__in=moved.get("identities", []), customer=target).update(
            customer=source
        )
        Ticket.objects.filter(pk__in=moved.get("tickets", []), customer=target).update(
            customer=source
        )
        Call.objects.filter(pk__in=moved.get("calls", []), customer=target).update(customer=source)
        before = moved.get("target", {})
        target.name = before.get("name", target.name)
        target.is_vip = before.get("is_vip", target.is_vip)
        target.save(update_fields=["name", "is_vip"])
        source.merged_into = None
        source.save(update_fields=["merged_into"])
        merge.undone_at = timezone.now()
        merge.undone_by = actor
        merge.save(update_fields=["undone_at", "undone_by"])
        AuditEntry.objects.create(
            actor=actor,
            action="customer_merge_undone",
            object_type="customer",
            object_id=str(source.pk),
            data={"merge": merge.pk, "from": target.pk, **_counts(moved)},
        )
        for ticket in Ticket.objects.filter(pk__in=moved.get("tickets", []), customer=source):
            _record(
                ticket=ticket,
                kind=EventKind.CUSTOMER_MERGE_UNDONE,
                actor=actor,
                data={"from": target.pk, "to": source.pk},
            )
    return merge


def customer_reveal_contact(
    *, customer: Customer, actor: User, ticket: Ticket | None
) -> list[ContactIdentity]:
    """Show a customer's unmasked contact details, and record who saw them."""
    identities = list(customer.identities.order_by("kind", "value"))
    AuditEntry.objects.create(
        actor=actor,
        action="pii_revealed",
        object_type="customer",
        object_id=str(customer.pk),
        data={"kinds": [i.kind for i in identities], "ticket": ticket.number if ticket else None},
    )
    if ticket is not None:
        _record(ticket=ticket, kind=EventKind.PII_REVEALED, actor=actor, data={})
    return identities


# --- intake ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    message: Message
    created: bool  # False when this provider message had already been taken in
    ticket_opened: bool


# A promise whose ticket never opened (its message was refused) is given up after this long.
PROMISE_ABANDONED_AFTER = timedelta(days=1)

_PROMISE_SQL = """
WITH owner AS (
    SELECT customer_id FROM {identity}
    WHERE {identity_match}
    ORDER BY CASE kind {strength} ELSE 99 END
    LIMIT 1
), open_ticket AS (
    SELECT t.id, t.number FROM {ticket} t JOIN owner ON t.customer_id = owner.customer_id
    WHERE t.channel = %(channel)s AND t.is_open
    ORDER BY t.created_at DESC
    LIMIT 1
), promise AS (
    INSERT INTO {promise} AS p (channel, kind, value, ticket_id, promised_at)
    SELECT %(channel)s, %(kind)s, %(value)s, nextval(pg_get_serial_sequence('{ticket}', 'id')),
        %(now)s
    WHERE NOT EXISTS (SELECT 1 FROM open_ticket)
    ON CONFLICT (channel, kind, value) DO UPDATE SET
        ticket_id = CASE WHEN {ended} THEN EXCLUDED.ticket_id ELSE p.ticket_id END,
        promised_at = CASE WHEN {ended} THEN EXCLUDED.promised_at ELSE p.promised_at END
    RETURNING p.ticket_id, p.promised_at
)
SELECT id, number, NULL FROM open_ticket
UNION ALL
SELECT ticket_id, NULL, promised_at FROM promise
"""

# The promised ticket has ended, or never opened and never will.
_PROMISE_ENDED_SQL = """(
    EXISTS (SELECT 1 FROM {ticket} t WHERE t.id = p.ticket_id AND NOT t.is_open)
    OR (p.promised_at < %(abandoned_before)s
        AND NOT EXISTS (SELECT 1 FROM {ticket} t WHERE t.id = p.ticket_id))
)"""


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
    identities = _normalised_identities(inbound)
    rank: dict[str, int] = {kind: position for position, kind in enumerate(IDENTITY_STRENGTH)}
    kind, value = min(identities, key=lambda pair: rank.get(pair[0], len(rank)))
    params: dict[str, object] = {"channel": inbound.channel, "kind": kind, "value": value}
    matches = []
    for index, (identity_kind, identity_value) in enumerate(identities):
        matches.append(f"(kind = %(k{index})s AND value = %(v{index})s)")
        params[f"k{index}"], params[f"v{index}"] = identity_kind, identity_value
    strength = " ".join(
        f"WHEN %(s{position})s THEN {position}" for position in range(len(IDENTITY_STRENGTH))
    )
    params.update({f"s{position}": k for position, k in enumerate(IDENTITY_STRENGTH)})
    now = timezone.now()
    params["now"], params["abandoned_before"] = now, now - PROMISE_ABANDONED_AFTER
    tables = {
        "identity": ContactIdentity._meta.db_table,
        "ticket": Ticket._meta.db_table,
        "promise": TicketPromise._meta.db_table,
    }
    sql = _PROMISE_SQL.format(
        identity_match=" OR ".join(matches),
        strength=strength,
        ended=_PROMISE_ENDED_SQL.format(**tables),
        **tables,
    )
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, params)
        ticket_id, number, promised_at = cursor.fetchone()
    if number:
        return str(number)
    return ticket_number(opened_on=timezone.localdate(promised_at), ticket_id=ticket_id)


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
    identities = _normalised_identities(inbound)
    now = timezone.now()
    try:
        with transaction.atomic():
            customer, is_new = _customer_resolve(identities=identities, name=inbound.name)
            promised_id = ticket_id_of(inbound.promised_ticket_number)
            if promised_id is not None:
                # The sender was told this number: keep the promise, whatever threading
                # would say now (the ticket may have opened meanwhile, from another message).
                ticket = _ticket_if_exists(promised_id)
                previous = None
            elif is_new:
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
            )
            if not opened:
                # Saved with the customer's other changes to the ticket, below.
                _ticket_sentiment_refresh(ticket)
            if inbound.attachments:
                _store_attachments(message=message, inbound=inbound)
            if opened:
                _record(ticket=ticket, kind=EventKind.CREATED, actor=None, data={})
                # Not the ticket's own group: no page can be watching a ticket that did not
                # exist until this commit.
                groups = [*_ticket_groups(ticket)[1:], realtime.BOARD_GROUP]
                realtime.publish_on_commit(groups, events.ticket_created(ticket))
            else:
                _ticket_customer_wrote(ticket=ticket, now=now)
                _record(ticket=ticket, kind=EventKind.MESSAGE_IN, actor=None, data={})
                realtime.publish_on_commit(
                    [*_ticket_groups(ticket), realtime.BOARD_GROUP],
                    events.message_added(ticket, message),
                )
        if inbound.channel in BOT_CHANNELS:
            message_pk = message.pk
            transaction.on_commit(lambda: _bot_later(message_pk))
        if orders_backend() is not None and order_numbers_in(f"{inbound.subject}\n{inbound.text}"):
            order_message_pk = message.pk
            transaction.on_commit(lambda: _orders_later(order_message_pk))
    except IntegrityError:
        # Another delivery of the same provider message won the race on the unique key.
        done = _already_taken(inbound)
        if done is None:
            raise
        return IntakeResult(ticket=done.ticket, message=done, created=False, ticket_opened=False)
    return IntakeResult(ticket=ticket, message=message, created=True, ticket_opened=opened)


def _ticket_if_exists(ticket_id: int) -> Ticket | None:
    """The ticket, loaded only if it exists: a promised ticket usually does not yet, and
    asking with one plain statement costs a fraction of compiling the ORM's query."""
    db = transaction.get_connection()
    table = db.ops.quote_name(Ticket._meta.db_table)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s", [ticket_id])  # noqa: S608
        if cursor.fetchone() is None:
            return None
    return Ticket.objects.filter(pk=ticket_id).first()


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
        if named.is_open:
            return named, None
        ended = named.closed_at or named.resolved_at or named.updated_at
        if ended >= now - timedelta(days=settings.REOPEN_WINDOW_DAYS):
            return named, None
        return None, named
    if inbound.channel == Channel.EMAIL:
        return None, None
    current = (
        Ticket.objects.filter(customer=customer, channel=inbound.channel, is_open=True)
        .order_by("-created_at")
        .first()
    )
    return current, None


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
    ticket.is_open = True
    sla_services.clock_reopen(subject_id=ticket.pk, milestone=Milestone.RESOLUTION, at=now)
    sla_services.clocks_resume(subject_id=ticket.pk, at=now)
    ticket.save(update_fields=["status", "is_open", "updated_at"])
    _record(ticket=ticket, kind=EventKind.REOPENED, actor=None, data={"from": previous})


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
    if triage.is_urgent:
        tier, rank = Tier.URGENT, PRIORITY_URGENT
    elif triage.category == Category.VALUE_ADDED:
        tier, rank = Tier.VALUE_ADDED, PRIORITY_VALUE_ADDED
    else:
        tier, rank = Tier.REGULAR, PRIORITY_REGULAR
    if customer.is_vip and rank > PRIORITY_VIP:
        rank = PRIORITY_VIP
    team = _channel_team(inbound.team_id) or _route_team(triage.category)
    ticket = Ticket(
        subject=_subject_of(inbound),
        status=Status.NEW,
        tier=tier,
        priority_rank=rank,
        category=triage.category or "",
        urgency_reasons=triage.reasons,
        sentiment=triage.sentiment,
        channel=inbound.channel,
        customer=customer,
        team=team,
        assignee=_least_loaded_agent(team) if team else None,
        awaiting_reply_since=now,
        created_at=now,
        reply_token=secrets.token_hex(8),
        previous=previous,
    )
    # The id first (a promised ticket's, or the next of the ticket sequence), so that the
    # number and the SLA due time go in with the row: one INSERT, no UPDATE after it. Where
    # there is no sequence to draw from (SQLite), the INSERT makes the id.
    ticket.pk = promised_id if promised_id is not None else _ticket_id_next()
    if ticket.pk is None:
        ticket.save(force_insert=True)
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
    if ticket._state.adding:
        ticket.save(force_insert=True)
    else:
        ticket.save(update_fields=["number", "sla_due_at"])
    return ticket


def _ticket_id_next() -> int | None:
    """The next id of the tickets' sequence (PostgreSQL), or None where there is none."""
    db = transaction.get_connection()
    if db.vendor != "postgresql":
        return None
    with db.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Ticket._meta.db_table])
        return int(cursor.fetchone()[0])


def sla_attributes(ticket: Ticket) -> dict[str, object]:
    """How a ticket looks to SLA policy conditions (see sla.models.CONDITION_KEYS)."""
    return {
        "tier": ticket.tier,
        "channel": ticket.channel,
        "team": ticket.team_id,
        "category": ticket.category,
        "vip": ticket.customer.is_vip,
        "tags": list(ticket.tags or []),
    }


def _subject_of(inbound: InboundMessage) -> str:
    if inbound.subject.strip():
        return inbound.subject.strip()[:200]
    first_line = next((line for line in inbound.text.splitlines() if line.strip()), "")
    return first_line.strip()[:80]


def _channel_team(team_id: int | None) -> Team | None:
    return Team.objects.filter(pk=team_id).first() if team_id is not None else None


def _route_team(category: str | None) -> Team | None:
    return routing_table().team_for(category)


# Each agent's open tickets counted by a subquery that the partial index on open tickets by
# assignee answers (a join would read every ticket an agent ever had). Plain SQL: every new
# ticket asks, and the ORM's compilation of this query cost more than the database's work.
_LEAST_LOADED_AGENT_SQL = """
SELECT a.id, a.user_id, a.capacity, a.is_available, (
    SELECT COUNT(*) FROM tickets_ticket t WHERE t.assignee_id = a.id AND t.is_open = %s
) AS load
FROM tickets_agent a
JOIN tickets_agent_teams link ON link.agent_id = a.id AND link.team_id = %s
JOIN auth_user u ON u.id = a.user_id
WHERE a.is_available = %s AND u.is_active = %s AND (
    SELECT COUNT(*) FROM tickets_ticket t WHERE t.assignee_id = a.id AND t.is_open = %s
) < a.capacity
ORDER BY load, a.id
LIMIT 1
"""


def _least_loaded_agent(team: Team) -> Agent | None:
    """The available agent of `team` with the fewest open tickets, under their capacity (the
    lower id among equals)."""
    found = list(Agent.objects.raw(_LEAST_LOADED_AGENT_SQL, [True, team.pk, True, True, True]))
    return found[0] if found else None


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
    fields.extend(_sla_refresh(ticket))
    ticket.save(update_fields=fields)


def _sla_refresh(ticket: Ticket) -> list[str]:
    """Bring the ticket's SLA summary (state, next due) in line with its running clocks.
    Returns the fields it set, for the caller's save."""
    running = sla_selectors.clocks_running(subject_id=ticket.pk)
    if any(clock.breached_at is not None for clock in running):
        ticket.sla_state = SlaState.BREACHED
    elif any(clock.paused_at is None and clock.warned_at is not None for clock in running):
        ticket.sla_state = SlaState.AT_RISK
    else:
        ticket.sla_state = SlaState.OK
    due = [v.due_at for v in running if v.breached_at is None and v.paused_at is None]
    ticket.sla_due_at = min(due, default=None)
    return ["sla_state", "sla_due_at"]


def _ticket_groups(ticket: Ticket) -> list[str]:
    groups = [realtime.ticket_group(ticket.pk)]
    if ticket.team_id:
        groups.append(realtime.team_group(ticket.team_id))
    if ticket.assignee_id:
        groups.append(realtime.agent_group(ticket.assignee_id))
    return groups


def _record(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None,
    data: dict[str, object],
    at: datetime | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, data=data, created_at=at or timezone.now()
    )


# --- agents' work ------------------------------------------------------------------------


def ticket_reply(*, ticket: Ticket, author: Agent, body: str) -> Message:
    """Store an agent's reply as queued and deliver it on the ticket's channel after commit.
    The first reply stops the first-response clock."""
    body = body.strip()
    if not body:
        raise ValidationError(_("A reply cannot be empty."))
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        message = Message.objects.create(
            ticket=ticket,
            direction=Direction.OUT,
            channel=ticket.channel,
            author=author,
            body=body,
            delivery_status=DeliveryStatus.QUEUED,
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
        fields.extend(_sla_refresh(ticket))
        if ticket.status == Status.NEW:
            ticket.status = Status.OPEN
            fields.append("status")
        if ticket.assignee_id is None:
            ticket.assignee = author
            fields.append("assignee")
        ticket.save(update_fields=fields)
        _record(ticket=ticket, kind=EventKind.REPLIED, actor=author.user, data={})
        message_id = message.pk
        transaction.on_commit(lambda: _deliver_later(message_id))
        realtime.publish_on_commit(
            [*_ticket_groups(ticket), realtime.BOARD_GROUP], events.message_added(ticket, message)
        )
    return message


def ticket_acknowledge(*, ticket: Ticket, text: str) -> Message:
    """Send the customer an automatic acknowledgement on the ticket's channel. It is on the
    timeline and delivered like a reply, but marked automatic: it is no response for the SLA
    and goes out with the headers that stop other systems answering it.

    Inside a caller's transaction (email intake) it joins that transaction without a
    savepoint of its own: a failure here fails the caller's whole transaction anyway."""
    with transaction.atomic(savepoint=False):
        return _automatic_message(ticket=ticket, body=text, is_bot=False, now=timezone.now())


def _automatic_message(*, ticket: Ticket, body: str, is_bot: bool, now: datetime) -> Message:
    """A message Kefu itself sends the customer on the ticket's channel, delivered after
    commit like a reply."""
    message = Message.objects.create(
        ticket=ticket,
        direction=Direction.OUT,
        channel=ticket.channel,
        body=body,
        delivery_status=DeliveryStatus.QUEUED,
        created_at=now,
        email_message_id=new_message_id(),
        is_automatic=True,
        is_bot=is_bot,
    )
    message_id = message.pk
    transaction.on_commit(lambda: _deliver_later(message_id))
    return message


def message_mark_bounced(*, email_message_id: str, reason: str) -> Message | None:
    """A delivery failure report came back for one of our emails: mark it failed."""
    message = (
        Message.objects.select_related("ticket")
        .filter(email_message_id=email_message_id, direction=Direction.OUT)
        .first()
    )
    if message is None:
        return None
    return message_delivery_update(
        message=message,
        status=DeliveryStatus.FAILED,
        reference=message.delivery_ref,
        error=f"bounced: {reason}" if reason else "bounced",
    )


def _deliver_later(message_id: int) -> None:
    from tickets.tasks import deliver_message

    deliver_message.delay(message_id)


def ticket_agent_typing(*, ticket: Ticket, is_typing: bool) -> None:
    """Show (or stop showing) "an agent is typing" in the customer's open chat widgets.
    Nothing is stored; tickets on other channels have no live customer to tell."""
    if ticket.channel != Channel.CHAT:
        return
    address = _address(ticket.customer, Channel.CHAT)
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
        _record(ticket=ticket, kind=EventKind.NOTE, actor=author.user, data={})
        realtime.publish_on_commit(
            [realtime.ticket_group(ticket.pk)], events.message_added(ticket, message)
        )
    return message


def ticket_set_status(*, ticket: Ticket, status: str, actor: User | None) -> Ticket:
    if status not in Status.values:
        raise ValidationError(_("Unknown status: %(status)s"), params={"status": status})
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == status:
            return ticket
        previous = ticket.status
        ticket.status = status
        ticket.is_open = status in OPEN_STATUSES
        fields = ["status", "is_open", "updated_at"]
        if status == Status.RESOLVED:
            ticket.resolved_at = now
            fields.append("resolved_at")
        elif status == Status.CLOSED:
            ticket.closed_at = now
            fields.append("closed_at")
        _sla_follow_status(ticket=ticket, previous=previous, now=now)
        fields.extend(_sla_refresh(ticket))
        ticket.save(update_fields=fields)
        _record(
            ticket=ticket,
            kind=EventKind.STATUS,
            actor=actor,
            data={"from": previous, "to": status},
        )
        realtime.publish_on_commit(
            [*_ticket_groups(ticket), realtime.BOARD_GROUP], events.ticket_updated(ticket)
        )
    return ticket


def _sla_follow_status(*, ticket: Ticket, previous: str, now: datetime) -> None:
    """Clocks follow the ticket's state: a pausing state (per policy, e.g. pending customer)
    stops them, leaving it resumes them; resolving meets resolution, reopening continues it."""
    was_open = previous in OPEN_STATUSES
    if was_open and not ticket.is_open:
        sla_services.clock_satisfy(subject_id=ticket.pk, milestone=Milestone.RESOLUTION, at=now)
        # A ticket resolved before it was answered owes no answer while it stays resolved:
        # hold those clocks (reopening resumes them) rather than let them breach or count as met.
        sla_services.clocks_hold(
            subject_id=ticket.pk,
            milestones=[Milestone.FIRST_RESPONSE, Milestone.NEXT_RESPONSE, Milestone.PLAN],
            at=now,
        )
        return
    if not was_open and ticket.is_open:
        sla_services.clock_reopen(subject_id=ticket.pk, milestone=Milestone.RESOLUTION, at=now)
    sla_services.clocks_resume(subject_id=ticket.pk, at=now)
    sla_services.clocks_pause(subject_id=ticket.pk, state=ticket.status, at=now)


def ticket_mark_plan(*, ticket: Ticket, actor: User) -> Ticket:
    """Record that a plan was proposed to the customer (the "plan" milestone)."""
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.plan_at is not None:
            return ticket
        ticket.plan_at = now
        sla_services.clock_satisfy(subject_id=ticket.pk, milestone=Milestone.PLAN, at=now)
        ticket.save(update_fields=["plan_at", "updated_at", *_sla_refresh(ticket)])
        _record(ticket=ticket, kind=EventKind.PLAN, actor=actor, data={})
        realtime.publish_on_commit(_ticket_groups(ticket), events.ticket_updated(ticket))
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
        ticket.priority_rank = _rank(tier=tier, is_vip=ticket.customer.is_vip)
        changed = sla_services.clocks_reevaluate(
            subject_id=ticket.pk, attributes=sla_attributes(ticket), at=now
        )
        ticket.save(update_fields=["tier", "priority_rank", "updated_at", *_sla_refresh(ticket)])
        _record(
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
        realtime.publish_on_commit(
            [*_ticket_groups(ticket), realtime.BOARD_GROUP], events.ticket_updated(ticket)
        )
    return ticket


def _rank(*, tier: str, is_vip: bool) -> int:
    rank = {
        Tier.URGENT: PRIORITY_URGENT,
        Tier.REGULAR: PRIORITY_REGULAR,
        Tier.VALUE_ADDED: PRIORITY_VALUE_ADDED,
    }.get(Tier(tier), PRIORITY_REGULAR)
    return min(rank, PRIORITY_VIP) if is_vip else rank


def ticket_assign(*, ticket: Ticket, agent: Agent | None, actor: User) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.assignee_id == (agent.pk if agent else None):
            return ticket
        previous = ticket.assignee_id
        ticket.assignee = agent
        ticket.save(update_fields=["assignee", "updated_at"])
        _record(
            ticket=ticket,
            kind=EventKind.ASSIGNED,
            actor=actor,
            data={"from": previous, "to": agent.pk if agent else None},
        )
        groups = [*_ticket_groups(ticket), realtime.BOARD_GROUP]
        if previous:
            groups.append(realtime.agent_group(previous))
        realtime.publish_on_commit(groups, events.ticket_updated(ticket))
    return ticket


# --- the answer bot ---------------------------------------------------------------------

# Channels where the bot may answer before a person (kb.bot decides per channel whether it
# does, with its thresholds); email and phone are for people.
BOT_CHANNELS = {Channel.APP, Channel.CHAT, Channel.SMS, Channel.WEB}


def _orders_later(message_id: int) -> None:
    from tickets.tasks import orders_link

    orders_link.delay(message_id)


# At most this many order numbers of one message are looked up (a pasted order list is not
# a reason to hammer the shop's API).
ORDERS_PER_MESSAGE = 5


def message_orders_link(*, message_id: int) -> list[str]:
    """Ask the shop's orders API who placed the orders a customer message mentions, and link
    each number not linked yet to that customer as an `order` identity, audited. The owner
    is found by the identities the shop gives (app user id, phone, email), the strongest
    first; an order placed by someone who never wrote to us stays unlinked (the writer's
    word alone does not make it theirs). Returns the numbers linked. Raises
    OrderLookupError when the API cannot answer now (the task retries)."""
    backend = orders_backend()
    message = Message.objects.select_related("ticket").filter(pk=message_id).first()
    if backend is None or message is None:
        return []
    numbers = order_numbers_in(f"{message.subject}\n{message.body}")
    numbers -= set(
        ContactIdentity.objects.filter(kind=IdentityKind.ORDER, value__in=numbers).values_list(
            "value", flat=True
        )
    )
    linked = []
    for number in sorted(numbers)[:ORDERS_PER_MESSAGE]:
        owner = backend.owner(number)
        if owner is None:
            continue
        owner_id = _order_owner_customer(owner)
        if owner_id is None:
            continue
        _identity, created = ContactIdentity.objects.get_or_create(
            kind=IdentityKind.ORDER, value=number, defaults={"customer_id": owner_id}
        )
        if created:
            AuditEntry.objects.create(
                actor=None,
                action="order_linked",
                object_type="customer",
                object_id=str(owner_id),
                data={"order": number, "message": message.pk, "ticket": message.ticket.number},
            )
            linked.append(number)
    return linked


def _order_owner_customer(owner: OrderOwner) -> int | None:
    query = Q()
    for kind, raw in (
        (IdentityKind.APP_USER, owner.user_id),
        (IdentityKind.PHONE, owner.phone),
        (IdentityKind.EMAIL, owner.email),
    ):
        if not raw:
            continue
        try:
            query |= Q(kind=kind, value=normalise_identity(kind, raw))
        except ValidationError:
            continue
    if not query:
        return None
    known = {(i.kind, i.value): i.customer_id for i in ContactIdentity.objects.filter(query)}
    return _strongest_owner(known)


def _bot_later(message_id: int) -> None:
    from tickets.tasks import bot_consider

    bot_consider.delay(message_id)


def bot_consider(*, message_id: int) -> Message | None:
    """Let the answer bot look at one customer message (after intake committed). It answers
    from the knowledge base when it is confident, hands off to a person otherwise, and the
    outcome is recorded for deflection analytics. Returns the bot's message, if it sent one.
    Runs in a task that may run twice: a message it already considered is skipped."""
    from kb.bot import DecisionKind, bot_reply
    from kb.services import deflection_record

    message = Message.objects.get(pk=message_id)
    reply = None
    # The decision is taken on the state read under the ticket's lock: another message's turn
    # or the ignored-answer sweep (tickets.bot_followup) cannot change it meanwhile, so an
    # answer's outcome is recorded once.
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
        state = dict(ticket.bot_state or {})
        if state.get("handed_off") or message_id in state.get("seen", []):
            return None
        decision = bot_reply(text=message.body, channel=message.channel, state=state)
        now = timezone.now()
        new_state = dict(decision.state)
        new_state["seen"] = [*state.get("seen", [])[-20:], message_id]
        if decision.kind == DecisionKind.HANDOFF:
            new_state["handed_off"] = True
        ticket.bot_state = new_state
        fields = ["bot_state"]
        if decision.suggestions:
            ticket.suggestions = [
                {"article_id": hit.article_id, "title": hit.title, "answer": hit.answer[:2000]}
                for hit in decision.suggestions[:3]
            ]
            fields.append("suggestions")
        ticket.save(update_fields=fields)
        if decision.text:
            reply = _automatic_message(ticket=ticket, body=decision.text, is_bot=True, now=now)
            if sla_services.bot_answered(subject_id=ticket.pk, at=now):
                ticket.save(update_fields=_sla_refresh(ticket))
            realtime.publish_on_commit(_ticket_groups(ticket), events.message_added(ticket, reply))
        if decision.deflection_outcome:
            deflection_record(
                article_id=decision.deflection_article_id,
                channel=message.channel,
                outcome=decision.deflection_outcome,
                reference=ticket.number or str(ticket.pk),
            )
        if decision.kind == DecisionKind.RESOLVED and ticket.is_open:
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=None)
    return reply


# --- delivery ----------------------------------------------------------------------------


def _address(customer: Customer, channel: str) -> str | None:
    kind = CHANNEL_ADDRESS.get(Channel(channel))
    identity = customer.identities.filter(kind=kind).order_by("-created_at").first()
    return identity.value if identity else None


def message_deliver(*, message_id: int) -> Message:
    """Send a queued outbound message through its channel's backend and record the outcome.

    Runs in a Celery task that may run twice: only a message still `queued` is sent.
    Raises TransientDeliveryError (after counting the attempt) so the task can retry.
    """
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    if message.delivery_status != DeliveryStatus.QUEUED:
        return message
    ticket = message.ticket
    address = _address(ticket.customer, message.channel)
    if address is None:
        result = DeliveryResult(status=DeliveryStatus.FAILED, error="no address on this channel")
    else:
        outbound = Outbound(
            channel=message.channel,
            to=address,
            body=message.body,
            subject=ticket.subject,
            ticket_number=ticket.number or "",
            reference=f"kefu-{message.pk}",
            kind="acknowledgement" if message.is_automatic else "reply",
            message_id=message.email_message_id,
            thread_message_ids=_thread_ids(ticket=ticket, before=message),
            reply_token=ticket.reply_token or "",
        )
        try:
            result = backend_for(message.channel).send(outbound)
        except TransientDeliveryError as error:
            Message.objects.filter(pk=message.pk).update(
                delivery_attempts=F("delivery_attempts") + 1, delivery_error=str(error)[:500]
            )
            raise
    return message_delivery_update(
        message=message, status=result.status, reference=result.provider_id, error=result.error
    )


def new_message_id() -> str:
    """A Message-ID for a message we send, on our own mail domain (without angle brackets)."""
    return make_msgid(domain=settings.KEFU_EMAIL_DOMAIN).strip("<>")


def _thread_ids(*, ticket: Ticket, before: Message) -> tuple[str, ...]:
    """The email ids of the ticket's earlier messages, oldest first (the References chain),
    capped so a long thread does not grow the header without bound."""
    ids = (
        ticket.messages.filter(created_at__lte=before.created_at)
        .exclude(pk=before.pk)
        .exclude(email_message_id="")
        .order_by("created_at", "pk")
        .values_list("email_message_id", flat=True)
    )
    chain = list(dict.fromkeys(ids))
    # RFC 5322 suggests keeping the first and the most recent ones when trimming.
    return tuple(chain[:1] + chain[1:][-19:]) if len(chain) > 20 else tuple(chain)


def message_delivery_update(
    *, message: Message, status: str, reference: str, error: str
) -> Message:
    """Record a delivery outcome (from the backend or a provider's status callback)."""
    if (
        status == DeliveryStatus.SENT
        and Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.DELIVERED).exists()
    ):
        # The recipient's confirmation overtook the send's own answer (a chat widget confirms
        # before the backend returns; status callbacks arrive out of order): keep delivered.
        status = DeliveryStatus.DELIVERED
    message.delivery_status = status
    message.delivery_ref = reference or message.delivery_ref
    message.delivery_error = error[:500]
    message.save(update_fields=["delivery_status", "delivery_ref", "delivery_error"])
    ticket = message.ticket
    _record(
        ticket=ticket,
        kind=EventKind.DELIVERY,
        actor=None,
        data={"message": message.pk, "status": status, "error": error[:200]},
    )
    realtime.publish_on_commit(
        [realtime.ticket_group(ticket.pk)], events.delivery_changed(ticket, message)
    )
    return message


def message_delivery_give_up(*, message_id: int, error: str) -> Message:
    message = Message.objects.select_related("ticket").get(pk=message_id)
    return message_delivery_update(
        message=message, status=DeliveryStatus.FAILED, reference="", error=error
    )


# --- SLA ---------------------------------------------------------------------------------


def ticket_record_sla(
    *, clock: SlaClock, kind: str, rule: EscalationRule | None, at: datetime
) -> None:
    """React to a warning, breach or escalation level that the SLA engine fired (exactly once
    per clock and level, inside the engine's claiming transaction)."""
    ticket = (
        Ticket.objects.select_related("customer", "assignee__user")
        .filter(pk=clock.subject_id)
        .first()
    )
    if ticket is None:
        return
    if kind == "escalation" and rule is not None:
        _escalate(ticket=ticket, clock=clock, rule=rule, now=at)
        return
    ticket.save(update_fields=_sla_refresh(ticket))
    _record(
        ticket=ticket,
        kind=EventKind.SLA_BREACH if kind == "breach" else EventKind.SLA_WARNING,
        actor=None,
        data={"milestone": clock.milestone, "due_at": clock.due_at.isoformat()},
        at=at,
    )
    realtime.publish_on_commit(
        [*_ticket_groups(ticket), realtime.BOARD_GROUP],
        events.sla_fired(ticket, milestone=clock.milestone, kind=kind),
    )


def _escalate(*, ticket: Ticket, clock: SlaClock, rule: EscalationRule, now: datetime) -> None:
    milestone = str(clock.get_milestone_display())
    text = _("%(number)s: %(milestone)s overdue (escalation level %(level)d)") % {
        "number": ticket.number,
        "milestone": milestone,
        "level": rule.level,
    }
    hold_until = now
    if rule.hold_outside_hours:
        hold_until = sla_selectors.work_calendar(clock.calendar_id).next_open(now)
    done: dict[str, object] = {"milestone": clock.milestone, "level": rule.level}
    if rule.action == EscalationAction.NOTIFY_ASSIGNEE:
        recipients = [ticket.assignee.user] if ticket.assignee else _supervisors_of(ticket)
        done["notified"] = notifications_create(
            users=recipients,
            ticket=ticket,
            kind="escalation",
            text=text,
            deliver_after=hold_until,
            now=now,
        )
    elif rule.action == EscalationAction.NOTIFY_SUPERVISOR:
        done["notified"] = notifications_create(
            users=_supervisors_of(ticket),
            ticket=ticket,
            kind="escalation",
            text=text,
            deliver_after=hold_until,
            now=now,
            email=True,
        )
    elif rule.action == EscalationAction.RAISE_PRIORITY:
        higher = {Tier.VALUE_ADDED: Tier.REGULAR, Tier.REGULAR: Tier.URGENT}.get(Tier(ticket.tier))
        if higher is not None:
            ticket_set_tier(ticket=ticket, tier=higher, actor=None, reason=f"escalation {text}")
            done["tier"] = str(higher)
    elif rule.action == EscalationAction.REASSIGN:
        team = Team.objects.filter(pk=int(rule.target)).first() if rule.target.isdigit() else None
        if team is not None and team.pk != ticket.team_id:
            ticket.team = team
            ticket.assignee = _least_loaded_agent(team)
            ticket.save(update_fields=["team", "assignee", "updated_at"])
            done["team"] = team.pk
    _record(
        ticket=ticket, kind=EventKind.ESCALATED, actor=None, data={**done, "action": rule.action}
    )
    realtime.publish_on_commit(
        [*_ticket_groups(ticket), realtime.BOARD_GROUP], events.ticket_updated(ticket)
    )


def _supervisors_of(ticket: Ticket) -> list[User]:
    supervisors = User.objects.filter(groups__name="supervisor", is_active=True)
    of_team = (
        list(supervisors.filter(agent__teams=ticket.team_id).distinct()) if ticket.team_id else []
    )
    return of_team or list(supervisors.distinct())


def notifications_create(
    *,
    users: list[User],
    ticket: Ticket | None,
    kind: str,
    text: str,
    deliver_after: datetime,
    now: datetime,
    email: bool = False,
) -> int:
    """Queue a notification per user; delivered at once when `deliver_after` is not after
    `now`, else by the release task when it comes (held for business hours). Returns how
    many were queued."""
    # Held ones wait for `deliver_after`; the rest go at once, after this transaction commits.
    created = Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                ticket=ticket,
                kind=kind,
                text=text[:500],
                created_at=now,
                deliver_after=max(deliver_after, now),
            )
            for user in users
        ]
    )
    if deliver_after <= now:
        ids = [n.pk for n in created if n.pk is not None]
        transaction.on_commit(lambda: notifications_deliver(ids=ids, email=email, now=now))
    return len(created)


def notifications_deliver(
    *, ids: list[int] | None = None, email: bool = False, now: datetime | None = None
) -> int:
    """Deliver due notifications: pushed to the user's screens, and by email when asked.
    Each is delivered once (a compare-and-set on `delivered_at`)."""
    now = now or timezone.now()
    due = Notification.objects.filter(delivered_at__isnull=True, deliver_after__lte=now)
    if ids is not None:
        due = due.filter(pk__in=ids)
    delivered = 0
    for notification in due.select_related("user", "ticket")[:500]:
        if not Notification.objects.filter(pk=notification.pk, delivered_at__isnull=True).update(
            delivered_at=now
        ):
            continue
        delivered += 1
        realtime.publish(
            [realtime.user_group(notification.user_id)], events.notification(notification)
        )
        if (email or notification.kind == "escalation") and notification.user.email:
            _send_notification_email(notification)
    return delivered


def notification_mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one of the user's own notifications read (anyone else's is left alone)."""
    return (
        Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        == 1
    )


def _send_notification_email(notification: Notification) -> None:
    outbound = Outbound(
        channel=Channel.EMAIL,
        to=notification.user.email,
        subject=notification.text[:200],
        body=notification.text,
        ticket_number=notification.ticket.number or "" if notification.ticket else "",
        reference=f"kefu-notification-{notification.pk}",
        kind="notification",
    )
    try:
        backend_for(Channel.EMAIL).send(outbound)
    except Exception:
        logger.exception("could not email notification %s", notification.pk)


# --- self-service access -----------------------------------------------------------------


def _code_hash(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def status_code_request(*, number: str, contact: str) -> StatusAccessCode | None:
    """Send a one-time code to `contact` if it is the phone or email the ticket belongs to.

    Returns the code record, or None when nothing matched; the caller shows the customer the
    same page either way, so the form cannot be used to probe for tickets or contacts.
    """
    contact = contact.strip()
    kind = IdentityKind.EMAIL if "@" in contact else IdentityKind.PHONE
    try:
        value = normalise_identity(kind, contact)
    except ValidationError:
        return None
    ticket = Ticket.objects.filter(number=number.strip()).select_related("customer").first()
    if ticket is None:
        return None
    if not ticket.customer.identities.filter(kind=kind, value=value).exists():
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        access = StatusAccessCode.objects.create(
            ticket=ticket,
            destination=value,
            code_hash=_code_hash(code),
            expires_at=now + timedelta(seconds=settings.STATUS_CODE_TTL_SECONDS),
        )
        channel = Channel.EMAIL if kind == IdentityKind.EMAIL else Channel.SMS
        outbound = Outbound(
            channel=channel,
            to=value,
            subject=_("Your Kefu verification code"),
            body=_(
                "Your code to view ticket %(number)s is %(code)s. "
                "It expires in %(minutes)d minutes."
            )
            % {
                "number": ticket.number,
                "code": code,
                "minutes": settings.STATUS_CODE_TTL_SECONDS // 60,
            },
            ticket_number=ticket.number or "",
            reference=f"kefu-code-{access.pk}",
            kind="code",
        )
        transaction.on_commit(lambda: _send_code(outbound))
    return access


def portal_message(*, ticket: Ticket, text: str, token: str) -> IntakeResult:
    """A customer writes on their ticket from the self-service page (after proving who they
    are with a one-time code). It goes through intake like any channel, onto that ticket,
    and the answer bot may reply; `token` makes a resubmitted form one message."""
    identity = ticket.customer.identities.order_by("pk").first()
    if identity is None:
        raise ValidationError(_("This ticket has no contact to write from."))
    return intake_message(
        inbound=InboundMessage(
            channel=Channel.WEB,
            provider_id=f"portal:{token}",
            identities=[Identity(kind=identity.kind, value=identity.value)],
            text=text,
            thread_ticket_number=ticket.number or "",
        )
    )


def _send_code(outbound: Outbound) -> None:
    try:
        backend_for(outbound.channel).send(outbound)
    except Exception:
        logger.exception("could not send a status code on %s", outbound.channel)


def status_code_verify(*, number: str, code: str) -> Ticket | None:
    """Check a code for a ticket. Each code works once, expires, and allows a few attempts."""
    now = timezone.now()
    access = (
        StatusAccessCode.objects.filter(
            ticket__number=number.strip(), used_at__isnull=True, expires_at__gt=now
        )
        .select_related("ticket")
        .order_by("-created_at")
        .first()
    )
    if access is None or access.attempts >= settings.STATUS_CODE_MAX_ATTEMPTS:
        return None
    StatusAccessCode.objects.filter(pk=access.pk).update(attempts=F("attempts") + 1)
    if not hmac.compare_digest(access.code_hash, _code_hash(code.strip())):
        return None
    claimed = StatusAccessCode.objects.filter(pk=access.pk, used_at__isnull=True).update(
        used_at=now
    )
    return access.ticket if claimed == 1 else None


# --- integration tokens ------------------------------------------------------------------


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(*, name: str, actor: User | None) -> tuple[IntegrationToken, str]:
    """Create a token and return it with its key, which is not stored and cannot be shown
    again."""
    key = secrets.token_urlsafe(32)
    token = IntegrationToken.objects.create(name=name, prefix=key[:8], key_hash=token_hash(key))
    AuditEntry.objects.create(
        actor=actor, action="token_issued", object_type="token", object_id=str(token.pk)
    )
    return token, key
