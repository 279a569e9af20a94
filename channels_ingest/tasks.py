"""Celery tasks of the edge: process stored payloads, and sweep up any left behind."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from channels_ingest.models import InboundRecord, InboundState
from channels_ingest.services import inbound_process

logger = logging.getLogger("kefu.ingest")

# A record still "received" this long after arrival was dropped by a crash between storing
# and processing; the sweep takes it in (intake is idempotent, so a slow one is harmless).
STALE_AFTER = timedelta(seconds=60)


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


@shared_task(name="channels_ingest.tasks.inbound_sweep", ignore_result=True)
def inbound_sweep() -> int:
    cutoff = timezone.now() - STALE_AFTER
    ids = list(
        InboundRecord.objects.filter(state=InboundState.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
    for record_id in ids:
        process_inbound.delay(record_id)
    if ids:
        logger.info("inbound sweep re-queued %d records", len(ids))
    return len(ids)
