"""What the edge holds about a customer, for the core's export and erasure
(`tickets.personal_data`): the raw inbound log's payloads, the outbox, the app's push tokens.

A customer's inbound records are those of their tickets, and those with a value in their
payload that is one of their phone numbers, email addresses or app user ids (a payload refused
before it became a message has no ticket). Erasing scrubs a record rather than deleting it:
the row keeps the (channel, provider id) key, so a provider's redelivery is still recognised
and not taken in as a new message.
"""

import json

import phonenumbers
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from channels_ingest.models import InboundRecord, InboundState, OutboxEntry, PushToken
from tickets.models import IdentityKind
from tickets.personal_data import CustomerFootprint, PersonalDataSource

# The key a scrubbed record's payload holds (its only one), and what retention looks for.
SCRUBBED_KEY = "scrubbed_at"

SOURCE = "channels"


def payload_scrubbed(*, reason: str) -> dict[str, str]:
    return {SCRUBBED_KEY: timezone.now().isoformat(), "reason": reason}


def _quoted_forms(footprint: CustomerFootprint) -> list[str]:
    """How a payload may quote the customer: identities as stored, and phones also as the
    national number (providers send `13800138000` as often as `+8613800138000`)."""
    forms = [value for kind, value in footprint.identities if kind != IdentityKind.ORDER]
    for phone in footprint.values(IdentityKind.PHONE):
        try:
            forms.append(str(phonenumbers.parse(phone).national_number))
        except phonenumbers.NumberParseException:
            continue
    return forms


def inbound_records_of(footprint: CustomerFootprint) -> QuerySet[InboundRecord]:
    quoted = Q()
    for form in _quoted_forms(footprint):
        # As a whole JSON string (quotes included): a short app user id such as "u1" must not
        # find every payload that happens to contain "u1".
        quoted |= Q(payload_text__icontains=json.dumps(form))
    matches = Q(ticket_number__in=footprint.ticket_numbers) if footprint.ticket_numbers else Q()
    if not quoted and not matches:
        return InboundRecord.objects.none()
    return (
        InboundRecord.objects.annotate(payload_text=Cast("payload", TextField()))
        .filter(matches | quoted)
        .order_by("pk")
    )


def _outbox_of(footprint: CustomerFootprint) -> QuerySet[OutboxEntry]:
    addresses = [value for kind, value in footprint.identities if kind != IdentityKind.ORDER]
    return OutboxEntry.objects.filter(
        Q(ticket_number__in=footprint.ticket_numbers) | Q(to__in=addresses)
    ).order_by("pk")


def export(footprint: CustomerFootprint) -> dict[str, bytes]:
    records = list(inbound_records_of(footprint))
    files = {
        "inbound_records.json": _json(
            [
                {
                    "channel": record.channel,
                    "provider_id": record.provider_id,
                    "received_at": record.received_at,
                    "state": record.state,
                    "ticket": record.ticket_number,
                    "payload": record.payload,
                    "raw_file": f"inbound/{record.pk}.eml" if record.raw else None,
                }
                for record in records
            ]
        ),
        "outbox.json": _json(
            list(
                _outbox_of(footprint).values(
                    "created_at", "channel", "to", "kind", "ticket_number", "subject", "body"
                )
            )
        ),
        "push_tokens.json": _json(
            list(
                PushToken.objects.filter(user_id__in=footprint.values(IdentityKind.APP_USER))
                .order_by("pk")
                .values("user_id", "platform", "created_at", "updated_at")
            )
        ),
    }
    for record in records:
        if record.raw:
            files[f"inbound/{record.pk}.eml"] = bytes(record.raw)
    return files


def erase(footprint: CustomerFootprint) -> int:
    records = inbound_records_of(footprint)
    # A record still waiting would bring the customer back when taken in: it is closed as
    # failed, with the reason, instead.
    waiting = records.filter(state=InboundState.RECEIVED).values_list("pk", flat=True)
    InboundRecord.objects.filter(pk__in=list(waiting)).update(
        state=InboundState.FAILED, error="erased on request"
    )
    scrubbed = InboundRecord.objects.filter(pk__in=list(records.values_list("pk", flat=True)))
    count = scrubbed.update(payload=payload_scrubbed(reason="erased"), raw=None)
    outbox, _by_model = _outbox_of(footprint).delete()
    tokens, _by_model = PushToken.objects.filter(
        user_id__in=footprint.values(IdentityKind.APP_USER)
    ).delete()
    return count + outbox + tokens


def _json(value: object) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


source = PersonalDataSource(name=SOURCE, export=export, erase=erase)
