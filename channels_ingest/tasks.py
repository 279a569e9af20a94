"""Celery tasks of the edge: process stored payloads, and sweep up any left behind."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from channels_ingest.email.imap import mailbox_poll
from channels_ingest.models import InboundRecord, InboundState, Mailbox
from channels_ingest.pipeline.doorbell import inbound_drain
from channels_ingest.pipeline.process import inbound_process

logger = logging.getLogger("kefu.ingest")

# A record still "received" this long after arrival was dropped by a crash between storing
# and processing; the sweep takes it in (intake is idempotent, so a slow one is harmless).


@shared_task(
    name="channels_ingest.tasks.process_inbound",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def process_inbound(record_id: int) -> None:
    record = InboundRecord.objects.filter(pk=record_id).first()
    if record is None or record.state == InboundState.PROCESSED:
        return
    inbound_process(record=record)


@shared_task(name="channels_ingest.tasks.inbound_drain", ignore_result=True)
def inbound_drain_task(channel: str) -> int:
    """Rung by `inbound_ring`: take in the channel's waiting records."""
    return inbound_drain(channel=channel)


def _queue_backlog() -> int | None:
    """Messages waiting in the default task queue, or None when the broker cannot tell."""
    from celery import current_app

    try:
        with current_app.connection_for_read() as connection:
            # Not passive: on a broker no worker has used yet the queue does not exist, and
            # declaring the default queue is what a worker does anyway.
            declared = connection.default_channel.queue_declare(
                queue=current_app.conf.task_default_queue
            )
            return int(declared.message_count)
    except Exception:
        return None


@shared_task(name="channels_ingest.tasks.inbound_sweep", ignore_result=True)
def inbound_sweep() -> int:
    """Take in stored payloads whose processing was lost (a crash between storing and
    queueing, a worker killed mid-task, a bell whose drain never ran): one drain for each
    channel that has records waiting for over INBOUND_STALE_SECONDS. Returns how many stale
    records it found. While the task queue holds a backlog (more than INBOUND_SWEEP_BACKLOG
    tasks), records waiting in it look stale too; draining them from here would only race the
    queued tasks, so the sweep waits until the workers have caught up. The periodic tasks that
    beat queues beside the sweep are not a backlog: counting them would hold the sweep back for
    good when every sweep runs often. Drains run side by side safely (each record is claimed with a
    lock the others skip)."""
    backlog = _queue_backlog()
    if backlog is not None and backlog > settings.INBOUND_SWEEP_BACKLOG:
        logger.info("inbound sweep skipped: %d tasks still queued", backlog)
        return 0
    cutoff = timezone.now() - timedelta(seconds=settings.INBOUND_STALE_SECONDS)
    stale = dict(
        InboundRecord.objects.filter(state=InboundState.RECEIVED, received_at__lt=cutoff)
        .values_list("channel")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for channel in stale:
        inbound_drain_task.delay(channel)
    if stale:
        logger.info("inbound sweep: draining %s", stale)
    return sum(stale.values())


@shared_task(name="channels_ingest.tasks.imap_poll", ignore_result=True)
def imap_poll() -> int:
    """Beat's entry: one task per active mailbox, so a slow server delays only its own."""
    ids = list(Mailbox.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    for mailbox_id in ids:
        # A poll not started before the next one is due would only repeat it.
        imap_poll_mailbox.apply_async((mailbox_id,), expires=settings.IMAP_POLL_SECONDS)
    return len(ids)


@shared_task(name="channels_ingest.tasks.imap_poll_mailbox", ignore_result=True)
def imap_poll_mailbox(mailbox_id: int) -> None:
    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    if mailbox is not None:
        mailbox_poll(mailbox=mailbox)
