"""Writes of the edge: store what arrived, then process it into the core."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from channels_ingest.app.normalise import app_inbound
from channels_ingest.chat.normalise import chat_inbound
from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.sms.normalise import sms_inbound
from tickets.inbound import InboundMessage
from tickets.services import IntakeResult, intake_message

logger = logging.getLogger("kefu.ingest")

NORMALISERS: dict[str, Callable[[InboundRecord], InboundMessage]] = {
    "app": app_inbound,
    "chat": chat_inbound,
    "sms": sms_inbound,
}


class Refused(Exception):
    """A stored payload that can never become a message; the reason is kept on the record."""


def _sms(record: InboundRecord) -> IntakeResult | None:
    """Opt-out and opt-in keywords are honoured and open no ticket; anything else is a
    customer message."""
    from channels_ingest.sms.services import (
        START_WORDS,
        STOP_WORDS,
        keyword_of,
        sms_opt_in,
        sms_opt_out,
    )
    from tickets.identity import normalise_phone

    word = keyword_of(str(record.payload.get("Body", "")))
    if word in STOP_WORDS | START_WORDS:
        try:
            phone = normalise_phone(str(record.payload.get("From", "")))
        except ValidationError as error:
            raise Refused("; ".join(error.messages)) from error
        if word in STOP_WORDS:
            sms_opt_out(phone=phone, keyword=word)
        else:
            sms_opt_in(phone=phone)
        return None
    return intake_message(inbound=sms_inbound(record))


def _email(record: InboundRecord) -> IntakeResult | None:
    from channels_ingest.email.ingest import EmailRefused, email_process

    try:
        return email_process(record)
    except EmailRefused as error:
        raise Refused(str(error)) from error


def _phone(record: InboundRecord) -> IntakeResult | None:
    from channels_ingest.phone.ingest import PhoneRefused, phone_process

    try:
        return phone_process(record)
    except PhoneRefused as error:
        raise Refused(str(error)) from error


# Channels whose processing is more than normalise-then-intake (bounces, acknowledgements).
PROCESSORS: dict[str, Callable[[InboundRecord], IntakeResult | None]] = {
    "email": _email,
    "phone": _phone,
    "sms": _sms,
}


def inbound_store(
    *,
    channel: str,
    provider_id: str,
    payload: dict[str, Any],
    source: str,
    raw: bytes | None = None,
) -> tuple[InboundRecord, bool]:
    """Store a payload as it arrived, committed before the caller answers the provider.
    Returns the record and whether it is new; a redelivery returns the first record."""
    try:
        if transaction.get_connection().in_atomic_block:
            # Inside the caller's transaction: a savepoint keeps it usable after a conflict.
            with transaction.atomic():
                record = InboundRecord.objects.create(
                    channel=channel,
                    provider_id=provider_id,
                    payload=payload,
                    source=source,
                    raw=raw,
                )
        else:
            # In autocommit one INSERT is its own transaction: no BEGIN/COMMIT round trips.
            record = InboundRecord.objects.create(
                channel=channel, provider_id=provider_id, payload=payload, source=source, raw=raw
            )
        return record, True
    except IntegrityError:
        return InboundRecord.objects.get(channel=channel, provider_id=provider_id), False


@dataclass(frozen=True)
class Received:
    record: InboundRecord
    created: bool  # False for a redelivery of a payload we already have
    result: IntakeResult | None  # None when it did not (yet) become a message
    queued: bool  # processing failed unexpectedly; stored, and a worker will retry


def inbound_receive(
    *,
    channel: str,
    provider_id: str,
    payload: dict[str, Any],
    source: str,
    raw: bytes | None = None,
) -> Received:
    """Store a payload and take it in, for edges that answer with the result (the app API).

    The usual case is one transaction: store, intake, mark processed — one commit, as cheap
    as it gets, and nothing is acknowledged until it has committed. A redelivery finds the
    stored record and returns it (re-processing it if it had not been). If processing fails
    unexpectedly the transaction is gone, so the payload is then stored on its own and queued
    for a worker: still stored before the caller acknowledges, never lost.
    """
    try:
        with transaction.atomic():
            record = InboundRecord.objects.create(
                channel=channel, provider_id=provider_id, payload=payload, source=source, raw=raw
            )
            # Already inside this transaction: no savepoint needed.
            result = _inbound_process(record=record)
        return Received(record=record, created=True, result=result, queued=False)
    except IntegrityError:
        existing = InboundRecord.objects.filter(channel=channel, provider_id=provider_id).first()
        if existing is None:
            raise
        if existing.state == InboundState.PROCESSED:
            return Received(record=existing, created=False, result=None, queued=False)
        return Received(
            record=existing, created=False, result=inbound_process(record=existing), queued=False
        )
    except Exception:
        logger.exception("inbound %s:%s: processing failed, storing to retry", channel, provider_id)
        record, created = inbound_store(
            channel=channel, provider_id=provider_id, payload=payload, source=source, raw=raw
        )
        _queue_retry(record.pk)
        return Received(record=record, created=created, result=None, queued=True)


def _queue_retry(record_id: int) -> None:
    from channels_ingest.tasks import process_inbound

    try:
        process_inbound.apply_async((record_id,), countdown=5)
    except Exception:
        logger.exception("inbound %s: could not queue; the sweep will take it", record_id)


def inbound_process(*, record: InboundRecord) -> IntakeResult | None:
    """Normalise a stored payload and take it into a ticket. Safe to run any number of times:
    intake is idempotent on (channel, provider id). A payload that cannot become a message
    is marked failed with the reason (visible in the admin's inbound log) and not retried.

    One transaction: the message, what processing adds (an acknowledgement) and the record's
    new state commit together, or not at all and the record stays to be retried. It is also
    one commit instead of three, which is most of the cost of a mail on a busy database."""
    with transaction.atomic():
        return _inbound_process(record=record)


def _inbound_process(*, record: InboundRecord) -> IntakeResult | None:
    processor = PROCESSORS.get(record.channel)
    normalise = NORMALISERS.get(record.channel)
    if processor is None and normalise is None:
        _mark_failed(record, f"no normaliser for channel {record.channel!r}")
        return None
    try:
        if processor is not None:
            result = processor(record)
        else:
            assert normalise is not None
            result = intake_message(inbound=normalise(record))
    except ValidationError as error:
        _mark_failed(record, "; ".join(error.messages))
        return None
    except Refused as error:
        _mark_failed(record, str(error))
        return None
    number = result.ticket.number or "" if result is not None else ""
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
