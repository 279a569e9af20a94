"""A stored carrier payload, taken in: each of its events applied to its shipment."""

import logging

from aftersales.services.logistics import tracking_event_apply
from channels_ingest.logistics.normalise import (
    KUAIDI100,
    BadEvent,
    TrackingUpdate,
    generic_updates,
    kuaidi100_updates,
)
from channels_ingest.models import InboundRecord
from channels_ingest.pipeline.adapter import Refused
from tickets.services.intake import IntakeResult

CHANNEL = "logistics"

logger = logging.getLogger("kefu.ingest.logistics")


def updates_of(record: InboundRecord) -> list[TrackingUpdate]:
    if record.source == KUAIDI100:
        return kuaidi100_updates(record.payload.get("param"))
    return generic_updates(record.payload)


def logistics_process(record: InboundRecord) -> IntakeResult | None:
    """Apply the payload's events, oldest first. Events of parcels Kefu does not know are
    skipped, and the record is then kept as refused with their numbers (the inbound log's
    dead letters): retried once the shop's order has arrived, it applies them, and applying
    the others again changes nothing."""
    try:
        updates = updates_of(record)
    except BadEvent as error:
        raise Refused(str(error)) from error
    unknown: list[str] = []
    for update in sorted(updates, key=lambda update: update.at):
        applied = tracking_event_apply(
            carrier=update.carrier,
            tracking_number=update.tracking_number,
            status=update.status,
            location=update.location,
            at=update.at,
            raw=update.raw,
        )
        if applied is None and update.tracking_number not in unknown:
            unknown.append(update.tracking_number)
    if unknown:
        raise Refused(f"unknown tracking numbers: {', '.join(unknown[:20])}")
    return None
