"""Queued mode's wake-up: a stored record rings a bell, and one drain task takes in every
record of its channel that is waiting (ADR 0003)."""

import functools
import logging

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction

from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.pipeline.process import (
    commit_without_waiting,
    inbound_process_many,
    inbound_process_within,
)
from channels_ingest.pipeline.registry import adapter_for

# How many waiting records a drain claims at a time. A batch taken in together (SMS survey
# digits) commits as one: 500 took 10,000 replies in 5.6 s on bench/feedback.py, 100 in 9.0 s.
DRAIN_BATCH = 500

# What a lost database connection raises (as opposed to a record that cannot be taken in).
DatabaseUnreachable = (OperationalError, InterfaceError)

logger = logging.getLogger("kefu.ingest")

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
    one drain task; records stored while the bell is up only need the drain that is already
    queued. The drain lowers the bell before it looks for records, so a record is either
    seen by that look or rings again. Queuing a task costs a web process more than
    everything else it does for a message; this costs it one Redis round trip. If the
    broker cannot take the task, the bell is lowered again and the record waits for the
    next ring or the inbound sweep."""
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


def inbound_drain(*, channel: str, batch: int = DRAIN_BATCH) -> int:
    """Take in every record of a channel still waiting, oldest first; returns how many this
    call took in. Each record is claimed with a row lock that other drains skip, processed
    and committed on its own (as `inbound_process`). A record whose processing fails
    unexpectedly is left for the inbound sweep to retry and skipped for the rest of this
    drain.

    A channel whose adapter takes in batches (`ChannelAdapter.process_many`: SMS digits
    answering surveys) gets each batch first, claimed and committed together; what it
    leaves, and the whole batch if that fails, goes one by one as above."""
    bell_lower(channel)  # first: a record stored from now on rings again
    adapter = adapter_for(channel)
    batches = adapter is not None and adapter.process_many is not None
    taken = 0
    given_up: list[int] = []
    while True:
        if batches:
            together, ids = _take_together(channel, skip=given_up, size=batch)
            taken += len(together)
            if not together and not ids:
                # None waiting, or every one waiting is another drain's right now.
                return taken
        else:
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
                    commit_without_waiting()  # the record was stored, and answered, before
                    inbound_process_within(record=record)
                taken += 1
            except DatabaseUnreachable as error:
                # Not this record's fault: the database went away (a restart, a failover).
                # Every record would fail the same way; the sweep drains them when it is back.
                logger.error("inbound %s: database unreachable, drain stopped: %s", channel, error)
                return taken
            except Exception:
                logger.exception("inbound %s: processing failed; the sweep retries it", record_id)
                given_up.append(record_id)


def _take_together(channel: str, *, skip: list[int], size: int) -> tuple[set[int], list[int]]:
    """Claim the next `size` records waiting (row locks that other drains skip, so two
    drains claim different batches) and take in together, in one transaction, those the
    channel's adapter takes as a batch. Returns their pks and, oldest first, the pks of the
    claimed records it left for one by one. A batch that fails unexpectedly is rolled back
    and logged, and all of it is left for one by one (which says which record is at fault).
    Raises what a lost database connection raises."""
    claimed: list[int] = []
    try:
        with transaction.atomic():
            records = list(
                InboundRecord.objects.select_for_update(skip_locked=True)
                .filter(channel=channel, state=InboundState.RECEIVED)
                .exclude(pk__in=skip)
                .order_by("pk")[:size]
            )
            claimed = [record.pk for record in records]
            commit_without_waiting()  # stored, and answered, before (as one by one)
            together = inbound_process_many(records=records)
    except DatabaseUnreachable:
        raise
    except Exception:
        logger.exception("inbound %s: a batch of %d failed; one by one", channel, len(claimed))
        return set(), claimed
    return together, [pk for pk in claimed if pk not in together]
