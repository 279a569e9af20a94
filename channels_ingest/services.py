"""Writes of the edge: store what arrived, then process it into the core."""

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from channels_ingest.app.normalise import app_inbound
from channels_ingest.models import InboundRecord, InboundState
from tickets.inbound import InboundMessage
from tickets.services import IntakeResult, intake_message

logger = logging.getLogger("kefu.ingest")

NORMALISERS: dict[str, Callable[[InboundRecord], InboundMessage]] = {
    "app": app_inbound,
}


def inbound_store(
    *, channel: str, provider_id: str, payload: dict[str, Any], source: str
) -> tuple[InboundRecord, bool]:
    """Store a payload as it arrived, committed before the caller answers the provider.
    Returns the record and whether it is new; a redelivery returns the first record."""
    try:
        with transaction.atomic():
            record = InboundRecord.objects.create(
                channel=channel, provider_id=provider_id, payload=payload, source=source
            )
        return record, True
    except IntegrityError:
        return InboundRecord.objects.get(channel=channel, provider_id=provider_id), False


def inbound_process(*, record: InboundRecord) -> IntakeResult | None:
    """Normalise a stored payload and take it into a ticket. Safe to run any number of times:
    intake is idempotent on (channel, provider id). A payload that cannot become a message
    is marked failed with the reason (visible in the admin's inbound log) and not retried."""
    normalise = NORMALISERS.get(record.channel)
    if normalise is None:
        _mark_failed(record, f"no normaliser for channel {record.channel!r}")
        return None
    try:
        result = intake_message(inbound=normalise(record))
    except ValidationError as error:
        _mark_failed(record, "; ".join(error.messages))
        return None
    number = result.ticket.number or ""
    InboundRecord.objects.filter(pk=record.pk).update(
        state=InboundState.PROCESSED,
        ticket_number=number,
        processed_at=timezone.now(),
        error="",
        attempts=F("attempts") + 1,
    )
    record.state = InboundState.PROCESSED
    record.ticket_number = number
    return result


def _mark_failed(record: InboundRecord, error: str) -> None:
    logger.warning("inbound %s:%s refused: %s", record.channel, record.provider_id, error)
    InboundRecord.objects.filter(pk=record.pk).update(
        state=InboundState.FAILED, error=error, attempts=F("attempts") + 1
    )
    record.state = InboundState.FAILED
    record.error = error
