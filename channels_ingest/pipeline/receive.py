"""The door every edge calls: store an inbound payload, then have it processed the way the
deployment and the channel ask, and say what happened in one `Receipt`.

Whatever the way, nothing is acknowledged before the payload is stored (the caller answers
after the door returns, and the door returns after the store has committed), and a
redelivery (the same channel and provider id) changes nothing and answers from the first
record.
"""

import enum
import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.pipeline.doorbell import inbound_ring
from channels_ingest.pipeline.process import inbound_process, inbound_process_within
from channels_ingest.pipeline.registry import adapter_for
from channels_ingest.pipeline.store import inbound_store
from tickets.services.intake import IntakeResult

logger = logging.getLogger("kefu.ingest")


class Mode(enum.Enum):
    INLINE = "inline"  # taken in before the door returns
    QUEUED = "queued"  # stored, answered, and taken in by the doorbell's drain


def inbound_mode() -> Mode:
    """The deployment's mode: queued with `INBOUND_QUEUED` (on by default with a broker) on
    PostgreSQL, whose sequence the ticket promises draw from; inline otherwise (embedded
    mode, SQLite, eager Celery, tests)."""
    if settings.INBOUND_QUEUED and transaction.get_connection().vendor == "postgresql":
        return Mode.QUEUED
    return Mode.INLINE


@dataclass(frozen=True)
class Receipt:
    record: InboundRecord  # as stored, and as processed when this call processed it
    created: bool  # False for a redelivery of a payload already stored
    # What this call's processing made; None when it did not process the payload (queued, a
    # redelivery of one already processed or refused, a failure) or made no message of it.
    result: IntakeResult | None
    # Left for a worker: stored in queued mode, or its processing failed unexpectedly and a
    # retry is queued (the inbound sweep takes it if that is lost too).
    queued: bool

    @property
    def ticket_number(self) -> str:
        """The ticket the payload went into, or is promised to; "" when none (yet)."""
        return self.record.ticket_number


def inbound_receive(
    *,
    channel: str,
    provider_id: str,
    payload: dict[str, Any],
    source: str,
    raw: bytes | None = None,
    answered: bool = False,
) -> Receipt:
    """Store a payload in the inbound log and have it processed: the one way in for every
    edge. `answered`: the caller tells its sender the result (the ticket number, the
    message), so a processing that is not in the store's own transaction must wait for the
    disk before the door returns (ADR 0004).

    - A channel whose edges may answer before processing (`ChannelAdapter.may_queue`: app,
      SMS), in queued mode (`inbound_mode`): the ticket is promised first if the channel
      promises (ADR 0003), then the payload is stored with that number, committed, and a
      worker is woken by the doorbell (`inbound_ring`) once the caller's transaction has
      committed. Raises the core's ValidationError when the promise finds no usable
      identity; nothing is stored then.
    - Otherwise inline: stored and taken in, in one transaction and one commit, before the
      door returns. A channel that `stores_first` (email) commits the store on its own
      first, and its processing does not wait for the disk unless `answered`.

    A redelivery of a record still waiting is processed (inline) or rings again (queued); one
    already processed or refused answers as it stands. If processing fails unexpectedly the
    payload is still stored, committed, and a retry is queued: `Receipt.queued`."""
    adapter = adapter_for(channel)
    if adapter is None:
        raise LookupError(f"no adapter for inbound channel {channel!r}")
    store = functools.partial(
        inbound_store,
        channel=channel,
        provider_id=provider_id,
        payload=payload,
        source=source,
        raw=raw,
    )
    if adapter.may_queue and inbound_mode() is Mode.QUEUED:
        number = ""
        if adapter.promise is not None:
            # Promising before storing spares the common case a look-up; a redelivery's
            # promise names the ticket the sender's next message would get anyway, and is
            # not stored.
            arrived = InboundRecord(
                channel=channel, provider_id=provider_id, payload=payload, source=source
            )
            number = adapter.promise(arrived)
        record, created = store(ticket_number=number)
        waiting = record.state == InboundState.RECEIVED
        if waiting:
            # Also for a redelivery of a record still waiting: its drain may have been lost
            # with a worker, and while the bell is up this is one Redis command.
            inbound_ring(channel)
        return Receipt(record=record, created=created, result=None, queued=waiting)
    if adapter.stores_first:
        record, created = store()
        return _process_stored(record, created=created, answered=answered)
    try:
        with transaction.atomic():
            record, created = store()
            # Inside the store's transaction: one commit for both, and no savepoint.
            result = inbound_process_within(record=record) if created else None
    except Exception:
        logger.exception("inbound %s:%s: processing failed, storing to retry", channel, provider_id)
        # The transaction is gone with the store in it: the payload is stored on its own.
        record, created = store()
        _retry_queue(record.pk)
        return Receipt(record=record, created=created, result=None, queued=True)
    if created:
        return Receipt(record=record, created=True, result=result, queued=False)
    return _process_stored(record, created=False, answered=answered)


def _process_stored(record: InboundRecord, *, created: bool, answered: bool) -> Receipt:
    """Process a record that is stored and committed, unless it already was processed or
    refused (then it answers as it stands)."""
    if record.state != InboundState.RECEIVED:
        return Receipt(record=record, created=created, result=None, queued=False)
    try:
        result = inbound_process(record=record, answered=answered)
    except Exception:
        # Stored and safe: a worker retries it (or the sweep does).
        logger.exception(
            "inbound %s:%s: processing failed, queued", record.channel, record.provider_id
        )
        _retry_queue(record.pk)
        return Receipt(record=record, created=created, result=None, queued=True)
    return Receipt(record=record, created=created, result=result, queued=False)


def _retry_queue(record_id: int) -> None:
    from channels_ingest.tasks import process_inbound

    try:
        process_inbound.apply_async((record_id,), countdown=5)
    except Exception:
        logger.exception("inbound %s: could not queue; the sweep will take it", record_id)
