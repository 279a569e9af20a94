"""Where an inbound payload is stored: the inbound log, before anyone is told it arrived."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.raw_sql import inbound_insert


def inbound_store(
    *,
    channel: str,
    provider_id: str,
    payload: dict[str, Any],
    source: str,
    raw: bytes | None = None,
    ticket_number: str = "",
) -> tuple[InboundRecord, bool]:
    """Store a payload as it arrived, in the caller's transaction (committed at once in
    autocommit). Returns the record and whether it is new; a redelivery returns the first
    record, unchanged. `ticket_number` is the ticket already promised to the sender (queued
    app intake)."""
    fields: dict[str, Any] = {
        "channel": channel,
        "provider_id": provider_id,
        "source": source,
        "payload": payload,
        "raw": raw,
        "ticket_number": ticket_number,
        "state": InboundState.RECEIVED,
        "attempts": 0,
        "error": "",
        "received_at": timezone.now(),
    }
    record_id = inbound_insert(fields=fields)
    if record_id is None:  # a redelivery: the first record stands
        return InboundRecord.objects.get(channel=channel, provider_id=provider_id), False
    record = InboundRecord(pk=record_id, **fields)
    record._state.adding = False
    record._state.db = transaction.get_connection().alias
    return record, True
