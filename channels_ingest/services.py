"""Writes of the edge: store what arrived, then process it into the core."""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import psycopg
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field
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
    ticket_number: str = "",
) -> tuple[InboundRecord, bool]:
    """Store a payload as it arrived, committed before the caller answers the provider.
    Returns the record and whether it is new; a redelivery returns the first record.
    `ticket_number` is the ticket already promised to the sender (queued app intake)."""
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
    # One INSERT that skips a conflict instead of raising: no savepoint inside a transaction,
    # and in autocommit it is its own transaction (no BEGIN/COMMIT round trips). Written out
    # because the ORM's create costs a web process more than the statement itself.
    db = transaction.get_connection()
    meta = InboundRecord._meta
    quote = db.ops.quote_name
    model_fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in fields]
    values = [
        field.get_db_prep_save(value, db)
        for field, value in zip(model_fields, fields.values(), strict=True)
    ]
    # Only identifiers of the model go into the text; every value is a parameter.
    sql = "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}, {}) DO NOTHING RETURNING {}".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(quote(field.column) for field in model_fields),
        ", ".join(["%s"] * len(values)),
        quote("channel"),
        quote("provider_id"),
        quote("id"),
    )
    with _cursor_for(db, binary=bool(raw)) as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:  # a redelivery: the first record stands
        return InboundRecord.objects.get(channel=channel, provider_id=provider_id), False
    record = InboundRecord(pk=row[0], **fields)
    record._state.adding = False
    record._state.db = db.alias
    return record, True


def _cursor_for(db: BaseDatabaseWrapper, *, binary: bool) -> Any:
    """Django's cursor, except for raw bytes on PostgreSQL: those go to the server as a binary
    parameter (server-side binding, for this statement only) instead of being spelled out in
    hex inside the SQL text (Django's client-side binding), which the server would then have
    to parse back; for a mail with attachments that was most of the server's work on the
    insert. Still Django's cursor wrapper: errors, execute wrappers and query logging as
    usual."""
    if db.vendor != "postgresql" or not binary:
        return db.cursor()
    db.ensure_connection()
    # Django's wrappers take any DB-API cursor; the stubs name only their own class.
    binding: Any = psycopg.Cursor(db.connection)
    return db.make_debug_cursor(binding) if db.queries_logged else db.make_cursor(binding)


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


# How long a rung bell stays up if its drain task never starts (a lost task message); the
# inbound sweep also takes what is left behind.
BELL_SECONDS = 60


def _bell_key(channel: str) -> str:
    # The database's name keeps two installations (or test runs) on one Redis apart.
    return f"kefu:inbound-bell:{connection.settings_dict['NAME']}:{channel}"


@functools.cache
def _bell_redis() -> redis.Redis | None:
    """One client per process. Django's Redis cache builds a client on every call, which
    costs a web process more than the round trip itself."""
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None


def _bell_raise(channel: str) -> bool:
    """Raise the channel's bell; False when it was already up."""
    client = _bell_redis()
    if client is None:  # embedded: the process's own cache
        return bool(cache.add(_bell_key(channel), 1, timeout=BELL_SECONDS))
    return bool(client.set(_bell_key(channel), 1, nx=True, ex=BELL_SECONDS))


def bell_lower(channel: str) -> None:
    client = _bell_redis()
    if client is None:
        cache.delete(_bell_key(channel))
    else:
        client.delete(_bell_key(channel))


def inbound_ring(channel: str) -> None:
    """Wake a worker to take in a channel's stored records, once the caller's transaction
    commits (at once in autocommit).

    A doorbell rather than a task per record: the first record stored after a drain started
    raises the bell (SET NX in Redis; in the process's cache in embedded mode) and queues
    one drain task; records stored while the
    bell is up only need the drain that is already queued. The drain lowers the bell before
    it looks for records, so a record is either seen by that look or rings again. Queuing a
    task costs a web process more than everything else it does for a message; this costs it
    one Redis round trip. If the broker cannot take the task, the bell is lowered again and
    the record waits for the next ring or the inbound sweep."""
    from channels_ingest.tasks import inbound_drain_task

    def ring() -> None:
        try:
            if _bell_raise(channel):
                try:
                    inbound_drain_task.delay(channel)
                except Exception:
                    bell_lower(channel)
                    raise
        except Exception:
            logger.exception("inbound %s: could not wake a worker; the sweep will", channel)

    transaction.on_commit(ring)


def inbound_drain(*, channel: str, batch: int = 100) -> int:
    """Take in every record of a channel still waiting, oldest first; returns how many this
    call took in. Each record is claimed with a row lock that other drains skip, processed
    and committed on its own (as `inbound_process`). A record whose processing fails
    unexpectedly is left for the inbound sweep to retry and skipped for the rest of this
    drain."""
    bell_lower(channel)  # first: a record stored from now on rings again
    taken = 0
    given_up: list[int] = []
    while True:
        ids = list(
            InboundRecord.objects.filter(channel=channel, state=InboundState.RECEIVED)
            .exclude(pk__in=given_up)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return taken
        for record_id in ids:
            try:
                with transaction.atomic():
                    record = (
                        InboundRecord.objects.select_for_update(skip_locked=True)
                        .filter(pk=record_id, state=InboundState.RECEIVED)
                        .first()
                    )
                    if record is None:  # another drain has it, or had it
                        continue
                    _commit_without_waiting()  # the promise was stored, and told, before
                    _inbound_process(record=record)
                taken += 1
            except Exception:
                logger.exception("inbound %s: processing failed; the sweep retries it", record_id)
                given_up.append(record_id)


def inbound_process(*, record: InboundRecord, answered: bool = False) -> IntakeResult | None:
    """Normalise a stored payload and take it into a ticket. Safe to run any number of times:
    intake is idempotent on (channel, provider id). A payload that cannot become a message
    is marked failed with the reason (visible in the admin's inbound log) and not retried.

    One transaction: the message, what processing adds (an acknowledgement) and the record's
    new state commit together, or not at all and the record stays to be retried. It is also
    one commit instead of three, which is most of the cost of a mail on a busy database.

    The commit does not wait for the disk (`_commit_without_waiting`) unless `answered`: the
    caller is about to tell someone the result (the ticket number), which must then survive
    a crash of the database."""
    with transaction.atomic():
        if not answered:
            _commit_without_waiting()
        return _inbound_process(record=record)


def _commit_without_waiting() -> None:
    """Let the current transaction commit without waiting for its WAL to reach the disk
    (PostgreSQL's `synchronous_commit` off, for this transaction only; ADR 0004).

    Only for processing a record that was stored, and committed durably, before: if the
    database crashes before the WAL writer flushes (a fraction of a second later, or at the
    next ordinary commit, whichever is first), the record is back to `received` and the sweep
    takes it in again. Nothing a provider sent can be lost this way, and the worker does not
    sit idle waiting for a disk write on every message."""
    if not settings.INBOUND_ASYNC_COMMIT:
        return
    db = transaction.get_connection()
    if db.vendor != "postgresql" or len(db.atomic_blocks) != 1:
        # Inside someone else's transaction, which may hold writes that must wait for the
        # disk (the record's own store, say): its commit is not ours to relax.
        return
    with db.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


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
    number = (result.ticket.number or "") if result is not None else ""
    _mark_processed(record, number)
    record.state = InboundState.PROCESSED
    record.ticket_number = number
    return result


# What `InboundRecord.objects.filter(pk=…).update(state=PROCESSED, ticket_number=…,
# processed_at=…, error="", attempts=F("attempts") + 1)` compiles to, written out: every
# processed payload runs it, and compiling the update cost several times the statement.
_MARK_PROCESSED_SQL = """
UPDATE "channels_ingest_inboundrecord"
SET "state" = %s, "ticket_number" = %s, "processed_at" = %s, "error" = %s,
    "attempts" = "attempts" + 1
WHERE "id" = %s
"""


def _mark_processed(record: InboundRecord, number: str) -> None:
    connection = transaction.get_connection()
    processed_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            _MARK_PROCESSED_SQL,
            [InboundState.PROCESSED.value, number, processed_at, "", record.pk],
        )


def _mark_failed(record: InboundRecord, error: str) -> None:
    logger.warning("inbound %s:%s refused: %s", record.channel, record.provider_id, error)
    InboundRecord.objects.filter(pk=record.pk).update(
        state=InboundState.FAILED, error=error, attempts=F("attempts") + 1
    )
    record.state = InboundState.FAILED
    record.error = error
