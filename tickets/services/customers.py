"""Customers and their identities: who a sender is, merges and their undo, adopting a
visitor's tickets, and revealing contact details (audited).
"""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.hooks import customer_merge_parts
from tickets.identity import normalise_identity
from tickets.inbound import InboundMessage
from tickets.models import (
    AuditEntry,
    Call,
    ContactIdentity,
    Customer,
    CustomerMerge,
    EventKind,
    IdentityKind,
    Message,
    Ticket,
)
from tickets.raw_sql import identities_insert
from tickets.services.audit import audit_record
from tickets.services.trail import event_record

# The order in which identities decide who a customer is when they disagree: an app account
# is the strongest proof, an email address the weakest.
IDENTITY_STRENGTH = [IdentityKind.APP_USER, IdentityKind.PHONE, IdentityKind.EMAIL]


def customer_resolve(*, identities: list[tuple[str, str]], name: str) -> Customer:
    """Find the customer behind normalised (kind, value) identities, creating the customer and
    attaching identities not seen before. When identities belong to different customers the
    strongest one wins and nothing is merged automatically (a merge is a supervisor's call).

    Call inside a transaction: an existing customer's row stays locked until it ends, so one
    intake per customer at a time decides whether to thread into a ticket or open one.
    """
    return customer_resolve_or_create(identities=identities, name=name)[0]


def customer_resolve_or_create(
    *, identities: list[tuple[str, str]], name: str
) -> tuple[Customer, bool]:
    """`customer_resolve`, also telling whether the customer was created by this call (and so
    has no tickets yet)."""
    query = Q()
    for kind, value in identities:
        query |= Q(kind=kind, value=value)
    known = {(i.kind, i.value): i.customer_id for i in ContactIdentity.objects.filter(query)}
    owner = strongest_owner(known)
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
    attached = identities_insert(customer_id=customer.pk, identities=missing)
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
        winner = strongest_owner(winners)
        assert winner is not None  # winners is not empty
        customer = Customer.objects.select_for_update().get(pk=winner)
        ContactIdentity.objects.filter(customer=orphan).update(customer=customer)
        orphan.delete()
        return customer, False
    return customer, owner is None


def strongest_owner(owners: dict[tuple[str, str], int]) -> int | None:
    for strength in IDENTITY_STRENGTH:
        for (kind, _value), customer_id in owners.items():
            if kind == strength:
                return customer_id
    return next(iter(owners.values()), None)


def identities_normalised(message: InboundMessage) -> list[tuple[str, str]]:
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
            "target": _kept(target),
        }
        ContactIdentity.objects.filter(pk__in=ids["identities"]).update(customer=target)
        Ticket.objects.filter(pk__in=ids["tickets"]).update(customer=target)
        Call.objects.filter(pk__in=ids["calls"]).update(customer=target)
        # What apps above the core keep of the customer (orders) moves too.
        moved["parts"] = {name: part.move(source, target) for name, part in customer_merge_parts()}
        # The target keeps what it has; what it lacks, it takes from the source.
        target.name = target.name or source.name
        target.is_vip = target.is_vip or source.is_vip
        target.adviser_id = target.adviser_id or source.adviser_id
        target.preferred_channel = target.preferred_channel or source.preferred_channel
        target.language = target.language or source.language
        target.save(update_fields=_KEPT)
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
            event_record(
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
            event_record(
                ticket=ticket,
                kind=EventKind.CUSTOMER_MERGED,
                actor=None,
                data={"from": source, "to": target.pk, "signed_in": True},
            )
    return ids


# The target customer's fields a merge may fill in from the source, restored by an undo.
_KEPT = ["name", "is_vip", "adviser", "preferred_channel", "language"]


def _kept(customer: Customer) -> dict[str, object]:
    return {
        "name": customer.name,
        "is_vip": customer.is_vip,
        "adviser": customer.adviser_id,
        "preferred_channel": customer.preferred_channel,
        "language": customer.language,
    }


def _counts(moved: dict[str, object]) -> dict[str, int]:
    counts = {
        kind: len(value)
        for kind, value in moved.items()
        if isinstance(value, list) and kind in ("identities", "tickets", "calls")
    }
    parts = moved.get("parts")
    if isinstance(parts, dict):
        counts.update({name: len(ids) for name, ids in parts.items()})
    return counts


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
        parts = dict(customer_merge_parts())
        for name, part_ids in (moved.get("parts") or {}).items():
            if name in parts:
                parts[name].move_back(part_ids, source, target)
        before = moved.get("target", {})
        # Merges recorded before these fields were kept restore what they recorded.
        target.name = before.get("name", target.name)
        target.is_vip = before.get("is_vip", target.is_vip)
        target.adviser_id = before.get("adviser", target.adviser_id)
        target.preferred_channel = before.get("preferred_channel", target.preferred_channel)
        target.language = before.get("language", target.language)
        target.save(update_fields=_KEPT)
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
            event_record(
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
        event_record(ticket=ticket, kind=EventKind.PII_REVEALED, actor=actor, data={})
    return identities


def message_reveal_text(*, message: Message, actor: User) -> Message:
    """Record that `actor` saw a message's text unmasked (the phone, ID and bank-card numbers
    that agents see masked), in the audit log and on the ticket's trail; returns the message,
    whose stored text was never masked."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="pii_revealed",
            object_type="message",
            object_id=str(message.pk),
            data={"ticket": message.ticket.number},
        )
        event_record(
            ticket=message.ticket,
            kind=EventKind.PII_REVEALED,
            actor=actor,
            data={"message": message.pk},
        )
    return message
