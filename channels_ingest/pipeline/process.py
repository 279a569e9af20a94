"""Where a stored payload is processed: normalised and taken into the core by its channel's
adapter, and the record marked processed, or failed with the reason."""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.pipeline.adapter import Refused
from channels_ingest.pipeline.registry import adapter_for
from channels_ingest.raw_sql import synchronous_commit_off
from tickets.raw_sql import rows_update
from tickets.services.intake import IntakeResult

logger = logging.getLogger("kefu.ingest")


def inbound_process(*, record: InboundRecord, answered: bool = False) -> IntakeResult | None:
    """Normalise a stored payload and take it into a ticket. Safe to run any number of times:
    intake is idempotent on (channel, provider id). A payload that cannot become a message
    is marked failed with the reason (visible in the admin's inbound log) and not retried.

    One transaction: the message, what processing adds (an acknowledgement) and the record's
    new state commit together, or not at all and the record stays to be retried. It is also
    one commit instead of three, which is most of the cost of a mail on a busy database.

    The commit does not wait for the disk (`commit_without_waiting`) unless `answered`: the
    caller is about to tell someone the result (the ticket number), which must then survive
    a crash of the database."""
    with transaction.atomic():
        if not answered:
            commit_without_waiting()
        return inbound_process_within(record=record)


def inbound_process_within(*, record: InboundRecord) -> IntakeResult | None:
    """`inbound_process` inside the caller's transaction, which commits it (no savepoint of
    its own): the door's store-and-take-in, and each record a drain claims."""
    adapter = adapter_for(record.channel)
    if adapter is None:
        _mark_failed(record, f"no adapter for channel {record.channel!r}")
        return None
    try:
        result = adapter.process(record)
    except ValidationError as error:
        _mark_failed(record, "; ".join(error.messages))
        return None
    except Refused as error:
        _mark_failed(record, str(error))
        return None
    number = result.ticket.number if result is not None else ""
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


def inbound_process_many(*, records: Sequence[InboundRecord]) -> set[int]:
    """Take in together, inside the caller's transaction, the records of one channel that
    its adapter can take in as a batch (`ChannelAdapter.process_many`), and mark them
    processed in one statement; returns their pks. The rest are left as they are, for
    `inbound_process_within`. The caller holds the records' row locks."""
    adapter = adapter_for(records[0].channel) if records else None
    if adapter is None or adapter.process_many is None:
        return set()
    results = adapter.process_many(records)
    now = timezone.now()
    done = [record for record in records if record.pk in results]
    for record in done:
        record.state = InboundState.PROCESSED
        record.ticket_number = results[record.pk].ticket.number
        record.processed_at = now
        record.error = ""
        record.attempts += 1  # under the row lock the caller holds
    rows_update(
        InboundRecord, done, ["state", "ticket_number", "processed_at", "error", "attempts"]
    )
    return {record.pk for record in done}


def commit_without_waiting() -> None:
    """Let the current transaction commit without waiting for its WAL to reach the disk
    (PostgreSQL's `synchronous_commit` off, for this transaction only; ADR 0004).

    Only for processing a record that was stored, and committed durably, before: if the
    database crashes before the WAL writer flushes (a fraction of a second later, or at the
    next ordinary commit, whichever is first), the record is back to `received` and the sweep
    takes it in again. Nothing a provider sent can be lost this way, and the worker does not
    sit idle waiting for a disk write on every message."""
    if not settings.INBOUND_ASYNC_COMMIT:
        return
    if len(transaction.get_connection().atomic_blocks) != 1:
        # Inside someone else's transaction, which may hold writes that must wait for the
        # disk (the record's own store, say): its commit is not ours to relax.
        return
    synchronous_commit_off()


def _mark_failed(record: InboundRecord, error: str) -> None:
    logger.warning("inbound %s:%s refused: %s", record.channel, record.provider_id, error)
    InboundRecord.objects.filter(pk=record.pk).update(
        state=InboundState.FAILED, error=error, attempts=F("attempts") + 1
    )
    record.state = InboundState.FAILED
    record.error = error
