"""The outbox: work owed after a commit is kept on the row it concerns, not only in the broker.

Two kinds of work are owed on a message: sending it (an outbound message while it is
`queued`: replies, acknowledgements, bot answers; the app's push webhook is one such send) and
the answer bot's look at it (a customer message on a bot channel). Each has a due time on the
message (`delivery_due_at`, `bot_due_at`), set in the transaction that creates the message, so
the work exists the moment the message does.

- After the commit a task is queued at once (`kefu.celery.task_queue`); if the broker is
  down, that is logged and nothing else happens: the request that created the message still
  succeeds.
- A worker starts the work by *claiming* it: one UPDATE that moves the due time a lease ahead
  (OUTBOX_LEASE_SECONDS) if it is due. Only one worker wins; a second copy of the task (a
  redelivery, the sweep's) finds nothing due and does nothing.
- When the work is done the due time is cleared; a delivery that failed for a reason that may
  pass (TransientDeliveryError) is due again after a backoff, until DELIVERY_MAX_ATTEMPTS.
- `outbox_sweep` (Celery beat, or the embedded ticker) queues whatever is due: work whose task
  never reached the broker, retries whose time has come, and work whose worker died (its lease
  ran out). A send that a worker died during may therefore be attempted again; it goes out
  with the same reference (`kefu-<id>`) and Message-ID, which providers use to drop the copy.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from kefu.celery import task_queue
from tickets.models import DeliveryStatus, Message

logger = logging.getLogger("kefu.tickets.outbox")

# At most this many rows of each kind per sweep; the rest are due at the next one.
SWEEP_BATCH = 500
# Work is queued by the sweep only once it has been due this long: work just created has its
# own task on the way, which claims it within moments.
SWEEP_GRACE = timedelta(seconds=5)


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed attempt a delivery is tried again: 10 s,
    20 s, 40 s … at most 10 minutes."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 600))


def delivery_claim(message_id: int, *, now: datetime) -> bool:
    """Start sending the message if its delivery is due; False if it is not (sent already,
    not due yet, or another worker holds it)."""
    return bool(
        Message.objects.filter(
            pk=message_id, delivery_status=DeliveryStatus.QUEUED, delivery_due_at__lte=now
        ).update(delivery_due_at=now + lease())
    )


def bot_claim(message_id: int, *, now: datetime) -> bool:
    """Start the bot's look at the message if it is due."""
    return bool(
        Message.objects.filter(pk=message_id, bot_due_at__lte=now).update(bot_due_at=now + lease())
    )


def bot_done(message_id: int) -> None:
    Message.objects.filter(pk=message_id).update(bot_due_at=None)


def deliveries_due(now: datetime) -> QuerySet[Message]:
    return Message.objects.filter(
        delivery_due_at__lte=now, delivery_status=DeliveryStatus.QUEUED
    ).order_by("delivery_due_at")


def outbox_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Queue every send and bot decision that is due. Returns how many of each were queued."""
    from tickets.tasks import bot_consider, deliver_message

    now = now or timezone.now()
    counts = {"deliveries": 0, "bot": 0}
    due = deliveries_due(now - SWEEP_GRACE).values_list("pk", flat=True)[:SWEEP_BATCH]
    for message_id in due:
        counts["deliveries"] += task_queue(deliver_message, message_id)
    bot_due = Message.objects.filter(bot_due_at__lte=now - SWEEP_GRACE).order_by("bot_due_at")
    for message_id in bot_due.values_list("pk", flat=True)[:SWEEP_BATCH]:
        counts["bot"] += task_queue(bot_consider, message_id)
    if counts["deliveries"] or counts["bot"]:
        logger.info("outbox sweep queued %(deliveries)s deliveries, %(bot)s bot decisions", counts)
    return counts
