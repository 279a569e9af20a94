"""Customers' data rights: export everything Kefu holds about a customer in one archive, and
erase a customer on request, keeping anonymous statistics.

Erasing keeps what the statistics need and nothing that says who the customer was: tickets
keep their status, channel, category, tier, timings and SLA record, and messages their
direction, channel, timestamps, delivery status and sentiment; message text becomes
`ERASED_TEXT`, subjects and HTML go, attachments are deleted (rows and files), identities are
deleted, the name is blanked, calls lose the customer's number and recordings, one-time codes
and ticket promises for the customer's identities are deleted. Apps above the core scrub what
they hold through `tickets.personal_data` (the raw inbound log, the outbox, push tokens). One
audit entry records who erased which customer id, when, and how many rows, never the data.
"""

import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.contrib.auth.models import User
from django.core.files.storage import Storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from tickets.models import (
    OPEN_STATUSES,
    Attachment,
    AuditEntry,
    Call,
    CallDirection,
    ContactIdentity,
    Customer,
    CustomerMerge,
    Message,
    StatusAccessCode,
    Ticket,
    TicketEvent,
    TicketPromise,
)
from tickets.personal_data import CustomerFootprint, personal_data_sources
from tickets.services.audit import audit_record
from tickets.services.search_index import search_document_clear

# What an erased message's text becomes. Stored, not translated: it is data, and the pages
# show it as it is.
ERASED_TEXT = "[erased]"

# Keys of a ticket event's data that may hold free text (a delivery error quoting an address,
# a reason an agent typed); emptied when the ticket is anonymised.
_EVENT_TEXT_KEYS = ("error", "reason")


class PrivacyRefused(Exception):
    """An export or erasure that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class ExportSummary:
    files: int
    tickets: int
    messages: int
    attachments: int


@dataclass(frozen=True)
class ErasureSummary:
    customers: int
    tickets: int
    messages: int
    attachments: int
    identities: int
    calls: int
    # Rows scrubbed by each app above the core, by source name.
    elsewhere: dict[str, int]


def customer_footprint(customer: Customer) -> CustomerFootprint:
    """The customer and every record merged into it (directly or through another merge)."""
    ids = [customer.pk]
    frontier = [customer.pk]
    while frontier:
        frontier = list(
            Customer.objects.filter(merged_into_id__in=frontier)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        ids.extend(frontier)
    numbers = Ticket.objects.filter(customer_id__in=ids).order_by("pk")
    identities = ContactIdentity.objects.filter(customer_id__in=ids).order_by("kind", "value")
    return CustomerFootprint(
        customer_ids=tuple(ids),
        ticket_numbers=tuple(numbers.values_list("number", flat=True)),
        identities=tuple(identities.values_list("kind", "value")),
    )


def customer_export(
    *, customer: Customer, actor: User | None, destination: IO[bytes], via: str
) -> ExportSummary:
    """Write a zip archive of everything Kefu holds about `customer` to `destination`:
    `customer.json` (the customer, merged records, identities, tickets with their messages
    and events, calls, the audit entries about the customer), the attachments' files under
    `attachments/`, and what apps above the core hold (the raw inbound log, the outbox).
    Audited as `customer_exported`; `via` says from where ("page", "command")."""
    footprint = customer_footprint(customer)
    tickets = list(
        Ticket.objects.filter(customer_id__in=footprint.customer_ids)
        .order_by("created_at", "pk")
        .prefetch_related("messages__attachments", "events")
    )
    attachments: list[tuple[str, Attachment]] = []
    document = {
        "exported_at": timezone.now(),
        "customer": _customer_fields(customer),
        "merged_records": [
            _customer_fields(record)
            for record in Customer.objects.filter(pk__in=footprint.customer_ids[1:]).order_by("pk")
        ],
        "identities": list(
            ContactIdentity.objects.filter(customer_id__in=footprint.customer_ids)
            .order_by("kind", "value")
            .values("kind", "value", "created_at")
        ),
        "tickets": [_ticket_fields(ticket, attachments) for ticket in tickets],
        "calls": [
            _call_fields(call)
            for call in Call.objects.filter(customer_id__in=footprint.customer_ids).order_by(
                "started_at", "pk"
            )
        ],
        "audit": list(
            AuditEntry.objects.filter(
                object_type="customer",
                object_id__in=[str(pk) for pk in footprint.customer_ids],
            )
            .order_by("created_at", "pk")
            .values("action", "created_at")
        ),
    }
    files = 0
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "customer.json",
            json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
        files += 1
        for path, attachment in attachments:
            name = attachment.file.name if attachment.file else None
            if not name:
                continue
            with attachment.file.storage.open(name, "rb") as stored:
                archive.writestr(path, stored.read())
            files += 1
        for source in personal_data_sources():
            for path, content in source.export(footprint).items():
                archive.writestr(f"{source.name}/{path}", content)
                files += 1
    messages = sum(len(ticket.messages.all()) for ticket in tickets)
    audit_record(
        actor=actor,
        action="customer_exported",
        object_type="customer",
        object_id=str(customer.pk),
        data={"via": via, "files": files, "tickets": len(tickets), "messages": messages},
    )
    return ExportSummary(
        files=files, tickets=len(tickets), messages=messages, attachments=len(attachments)
    )


def _customer_fields(customer: Customer) -> dict[str, object]:
    return {
        "id": customer.pk,
        "name": customer.name,
        "is_vip": customer.is_vip,
        "created_at": customer.created_at,
        "erased_at": customer.erased_at,
    }


def _ticket_fields(ticket: Ticket, attachments: list[tuple[str, Attachment]]) -> dict[str, object]:
    messages = []
    for message in ticket.messages.all():
        files = []
        for attachment in message.attachments.all():
            path = f"attachments/{attachment.pk}-{get_valid_filename(attachment.filename)}"
            attachments.append((path, attachment))
            files.append(
                {
                    "filename": attachment.filename,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "file": path if attachment.file else None,
                    "refused_reason": attachment.refused_reason,
                }
            )
        messages.append(
            {
                "direction": message.direction,
                "channel": message.channel,
                "created_at": message.created_at,
                "sent_at": message.sent_at,
                "subject": message.subject,
                "body": message.body,
                "quoted_text": message.quoted_text,
                "is_automatic": message.is_automatic,
                "delivery_status": message.delivery_status,
                "attachments": files,
            }
        )
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "channel": ticket.channel,
        "status": ticket.status,
        "category": ticket.category,
        "tier": ticket.tier,
        "created_at": ticket.created_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "anonymised_at": ticket.anonymised_at,
        "messages": messages,
        "events": [{"kind": event.kind, "at": event.created_at} for event in ticket.events.all()],
    }


def _call_fields(call: Call) -> dict[str, object]:
    return {
        "call_id": call.call_id,
        "direction": call.direction,
        "from": call.from_number,
        "to": call.to_number,
        "state": call.state,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration": call.duration,
        "recording_url": call.recording_url,
        "voicemail_url": call.voicemail_url,
    }


def customer_erase(*, customer: Customer, actor: User | None, via: str) -> ErasureSummary:
    """Erase `customer`'s personal data (and that of the records merged into it), keeping
    anonymous statistics; see the module's docstring for what stays. Refused for a record
    merged into another (erase that one) and while a ticket is open (close it first: an
    erased customer's open ticket could not be answered). Audited as `customer_erased`;
    `via` says from where ("page", "command", "retention")."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.merged_into_id is not None:
            raise PrivacyRefused(
                _("This record was merged into customer #%(id)s; erase that customer.")
                % {"id": customer.merged_into_id}
            )
        footprint = customer_footprint(customer)
        ids = footprint.customer_ids
        tickets = Ticket.objects.filter(customer_id__in=ids)
        if tickets.filter(status__in=OPEN_STATUSES).exists():
            raise PrivacyRefused(
                _("The customer has open tickets; close them before erasing the customer.")
            )
        now = timezone.now()
        elsewhere = {source.name: source.erase(footprint) for source in personal_data_sources()}
        ticket_ids = list(tickets.values_list("pk", flat=True))
        messages, attachments = tickets_anonymise(ticket_ids=ticket_ids, now=now)
        calls = _calls_scrub(Call.objects.filter(customer_id__in=ids))
        promised = Q(pk__in=[])
        for kind, value in footprint.identities:
            promised |= Q(kind=kind, value=value)
        TicketPromise.objects.filter(promised).delete()
        # Codes asked for with an order number name no ticket: the customer's own go too.
        StatusAccessCode.objects.filter(customer_id__in=ids).delete()
        identities, _by_model = ContactIdentity.objects.filter(customer_id__in=ids).delete()
        _merges_scrub(ids)
        _audit_scrub(ids)
        Customer.objects.filter(pk__in=ids).update(name="", erased_at=now)
        summary = ErasureSummary(
            customers=len(ids),
            tickets=len(ticket_ids),
            messages=messages,
            attachments=attachments,
            identities=identities,
            calls=calls,
            elsewhere=elsewhere,
        )
        audit_record(
            actor=actor,
            action="customer_erased",
            object_type="customer",
            object_id=str(customer.pk),
            data={
                "via": via,
                "records": list(ids),
                "tickets": summary.tickets,
                "messages": summary.messages,
                "attachments": summary.attachments,
                "identities": summary.identities,
                "calls": summary.calls,
                **{f"{name}_rows": count for name, count in elsewhere.items()},
            },
        )
    return summary


def tickets_anonymise(*, ticket_ids: list[int], now: datetime) -> tuple[int, int]:
    """Remove the personal content of these tickets, in the caller's transaction: message
    text (→ `ERASED_TEXT`), subjects, HTML, quoted history, attachments (rows now, files once
    the transaction has committed), one-time codes, free text in events, the calls' numbers.
    Returns (messages, attachments) touched."""
    messages = Message.objects.filter(ticket_id__in=ticket_ids)
    files = _attachments_delete(Attachment.objects.filter(message__ticket_id__in=ticket_ids))
    message_count = messages.update(
        body=ERASED_TEXT,
        subject="",
        html="",
        quoted_text="",
        defects=[],
        delivery_error="",
        # Threading headers would lead a later mail back to this ticket (and its customer).
        email_message_id="",
    )
    events = [
        event
        for event in TicketEvent.objects.filter(ticket_id__in=ticket_ids)
        if isinstance(event.data, dict) and any(key in event.data for key in _EVENT_TEXT_KEYS)
    ]
    for event in events:
        event.data = {key: "" if key in _EVENT_TEXT_KEYS else v for key, v in event.data.items()}
    TicketEvent.objects.bulk_update(events, ["data"])
    StatusAccessCode.objects.filter(ticket_id__in=ticket_ids).delete()
    _calls_scrub(Call.objects.filter(ticket_id__in=ticket_ids))
    Ticket.objects.filter(pk__in=ticket_ids).update(
        subject="", bot_state={}, reply_token=None, anonymised_at=now
    )
    search_document_clear(ticket_ids=ticket_ids)
    return message_count, files


def _attachments_delete(attachments: QuerySet[Attachment]) -> int:
    stored: list[tuple[Storage, str]] = [
        (attachment.file.storage, attachment.file.name)
        for attachment in attachments.exclude(file="").exclude(file__isnull=True)
        if attachment.file.name
    ]
    count, _by_model = attachments.delete()

    # Files go once the rows' deletion has committed: a rollback keeps both.
    def delete_files() -> None:
        for storage, name in stored:
            storage.delete(name)

    transaction.on_commit(delete_files)
    return count


def _calls_scrub(calls: QuerySet[Call]) -> int:
    """The customer's side of each call (the caller inbound, the callee outbound), and the
    recordings; the agent's side, the times and the outcome stay."""
    inbound = calls.filter(direction=CallDirection.IN).update(
        from_number="", recording_url="", voicemail_url=""
    )
    outbound = calls.filter(direction=CallDirection.OUT).update(
        to_number="", recording_url="", voicemail_url=""
    )
    return inbound + outbound


def _merges_scrub(customer_ids: Iterable[int]) -> None:
    """A merge remembers the records' names (to undo it) and a reason someone typed."""
    ids = list(customer_ids)
    merges = list(CustomerMerge.objects.filter(source_id__in=ids)) + list(
        CustomerMerge.objects.filter(target_id__in=ids).exclude(source_id__in=ids)
    )
    for merge in merges:
        moved = dict(merge.moved)
        for side in ("source", "target"):
            if isinstance(moved.get(side), dict):
                moved[side] = {**moved[side], "name": ""}
        merge.moved = moved
        merge.reason = ""
    CustomerMerge.objects.bulk_update(merges, ["moved", "reason"])


def _audit_scrub(customer_ids: Iterable[int]) -> None:
    """Audit entries stay; an order number one of them quotes is an identity, and goes."""
    entries = [
        entry
        for entry in AuditEntry.objects.filter(
            object_type="customer", object_id__in=[str(pk) for pk in customer_ids]
        )
        if isinstance(entry.data, dict) and "order" in entry.data
    ]
    for entry in entries:
        entry.data = {**entry.data, "order": ""}
    AuditEntry.objects.bulk_update(entries, ["data"])
