"""The shop's webhook: every change of a case, signed, in order per case.

Each step writes a `WebhookDelivery` in its own transaction (`webhook_enqueue`, called by
`aftersales.services.history.step_record`), so a change and what is owed to the shop about
it commit together or not at all. Delivery follows the outbox of the core
(tickets/services/outbox.py):

- after the commit a task is queued (`aftersales.tasks.webhook_deliver`); a broker outage
  only delays it;
- a worker *claims* a delivery with one UPDATE that moves its due time a lease ahead, and
  only when every earlier delivery of the same case has been sent: the shop sees a case's
  changes in the order they happened, and a failing one holds the later ones of that case
  back (never those of other cases);
- a 2xx answer marks it sent and queues the case's next one; anything else (an error
  status, a timeout, a refused connection) makes it due again after a backoff, until
  AFTERSALES_WEBHOOK_MAX_ATTEMPTS, after which it is failed and holds its case's later
  deliveries until it is retried (`webhook_retry`, or the admin);
- `webhook_sweep` (Celery beat, or the embedded ticker) queues what is due: deliveries
  whose task never reached the broker, retries whose time has come, and those whose worker
  died (their lease ran out). A delivery a worker died during may go out twice; it carries
  the same `X-Kefu-Event-Id`, which the shop uses to drop the copy.

The body is the JSON payload, signed with HMAC-SHA256 under AFTERSALES_WEBHOOK_SECRET:
`X-Kefu-Signature: sha256=<hex>`, with `X-Kefu-Event-Id` and `X-Kefu-Timestamp`.
"""

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from aftersales.models import Case, CaseStep, WebhookDelivery, WebhookStatus
from aftersales.steps import Step
from kefu.celery import task_queue

logger = logging.getLogger("kefu.aftersales.webhook")

SWEEP_BATCH = 500
# The sweep leaves alone what was due only a moment ago: its own task is on the way.
SWEEP_GRACE = timedelta(seconds=5)
# Kept of a failed answer, for the admin.
ERROR_CHARS = 500


def webhook_enabled() -> bool:
    return bool(settings.AFTERSALES_WEBHOOK_URL)


def event_type_of(step: str) -> str:
    return "case.opened" if step == Step.SUBMITTED else "case.step_changed"


def case_payload(case: Case, row: CaseStep) -> dict[str, object]:
    """What the shop is told about a case after `row`: the case as it stands and the step."""
    return {
        "case": {
            "number": case.number,
            "order": case.order.number,
            "ticket": case.ticket.number if case.ticket is not None else None,
            "type": case.type,
            "step": case.step,
            "is_open": case.step not in (Step.COMPLETED, Step.CANCELLED, Step.REJECTED),
            "amount_requested": str(case.amount_requested),
            "refunded_amount": str(case.refunded_amount),
            "currency": case.order.currency,
            "opened_by": case.opened_by,
            "created_at": case.created_at.isoformat(),
            "updated_at": case.updated_at.isoformat(),
        },
        "step": {
            "step": row.step,
            "at": row.at.isoformat(),
            "by": "agent" if row.actor_id is not None else "system",
            "note": row.note,
            "data": row.data,
        },
    }


def webhook_enqueue(*, case: Case, row: CaseStep) -> WebhookDelivery | None:
    """Inside the step's transaction (the case row locked): owe the shop this change. None
    when the webhook is off."""
    return webhooks_enqueue([(case, row)])[0]


def webhooks_enqueue(steps: Sequence[tuple[Case, CaseStep]]) -> list[WebhookDelivery | None]:
    """`webhook_enqueue` for many steps at once, in order (a case may take two), in two
    statements: the cases' last sequence numbers read, the deliveries written."""
    if not webhook_enabled() or not steps:
        return [None] * len(steps)
    last = dict(
        WebhookDelivery.objects.filter(case_id__in={case.pk for case, _row in steps})
        .values("case_id")
        .annotate(last=Max("sequence"))
        .values_list("case_id", "last")
    )
    deliveries = []
    for case, row in steps:
        sequence = last[case.pk] = (last.get(case.pk) or 0) + 1
        event_id = uuid.uuid4()
        deliveries.append(
            WebhookDelivery(
                case=case,
                sequence=sequence,
                event_id=event_id,
                event_type=event_type_of(row.step),
                payload={
                    "id": str(event_id),
                    "type": event_type_of(row.step),
                    "sequence": sequence,
                    "created_at": row.at.isoformat(),
                    **case_payload(case, row),
                },
                created_at=row.at,
                due_at=row.at,
            )
        )
    WebhookDelivery.objects.bulk_create(deliveries)
    delivery_ids = [delivery.pk for delivery in deliveries]

    def queue() -> None:
        for delivery_id in delivery_ids:
            webhook_deliver_later(delivery_id)

    transaction.on_commit(queue)
    return list(deliveries)


def webhook_deliver_later(delivery_id: int) -> None:
    from aftersales.tasks import webhook_deliver

    task_queue(webhook_deliver, delivery_id)


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """After the `attempts`-th failed attempt: 30 s, 1 min, 2 min … at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _earlier_unsent() -> Exists:
    return Exists(
        WebhookDelivery.objects.filter(
            case_id=OuterRef("case_id"), sequence__lt=OuterRef("sequence")
        ).exclude(status=WebhookStatus.SENT)
    )


def webhook_claim(delivery_id: int, *, now: datetime) -> bool:
    """Start sending a delivery if it is due, nobody holds it, and every earlier delivery of
    its case has been sent. Earlier deliveries only ever become sent, so once that holds it
    keeps holding; the UPDATE decides between two workers."""
    delivery = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .annotate(held=_earlier_unsent())
        .values("held")
        .first()
    )
    if delivery is None or delivery["held"]:
        return False
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookStatus.PENDING, due_at__lte=now
        ).update(due_at=now + lease())
    )


def signature(body: bytes, secret: str) -> str:
    """The `X-Kefu-Signature` header's value for a body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one delivery if this worker claims it; record the outcome. Returns the delivery,
    or None when it was not this worker's to send."""
    now = timezone.now()
    if not webhook_claim(delivery_id, now=now):
        return None
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Kefu-Webhook/1",
        "X-Kefu-Event-Id": str(delivery.event_id),
        "X-Kefu-Event-Type": delivery.event_type,
        "X-Kefu-Timestamp": str(int(now.timestamp())),
        "X-Kefu-Signature": signature(body, settings.AFTERSALES_WEBHOOK_SECRET),
    }
    error = ""
    try:
        response = httpx.post(
            settings.AFTERSALES_WEBHOOK_URL,
            content=body,
            headers=headers,
            timeout=settings.AFTERSALES_WEBHOOK_TIMEOUT_SECONDS,
        )
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}: {response.text[:ERROR_CHARS]}"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:ERROR_CHARS]
    done = timezone.now()
    attempts = delivery.attempts + 1
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookStatus.SENT, sent_at=done, due_at=None, attempts=attempts, last_error=""
        )
        following = (
            WebhookDelivery.objects.filter(
                case_id=delivery.case_id,
                sequence__gt=delivery.sequence,
                status=WebhookStatus.PENDING,
            )
            .order_by("sequence")
            .values_list("pk", flat=True)
            .first()
        )
        if following is not None:
            webhook_deliver_later(following)
    elif attempts >= settings.AFTERSALES_WEBHOOK_MAX_ATTEMPTS:
        logger.error("webhook %s failed for good: %s", delivery.event_id, error)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookStatus.FAILED, due_at=None, attempts=attempts, last_error=error
        )
    else:
        logger.warning("webhook %s attempt %d failed: %s", delivery.event_id, attempts, error)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            due_at=done + retry_delay(attempts), attempts=attempts, last_error=error
        )
    delivery.refresh_from_db()
    return delivery


def webhook_retry(*, delivery: WebhookDelivery) -> bool:
    """Try a delivery that failed for good again, now (it holds its case's later ones)."""
    changed = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookStatus.FAILED).update(
        status=WebhookStatus.PENDING, due_at=timezone.now(), attempts=0
    )
    if changed:
        transaction.on_commit(lambda: webhook_deliver_later(delivery.pk))
    return bool(changed)


def webhook_sweep(*, now: datetime | None = None) -> int:
    """Queue every delivery that is due and first in line in its case. Returns how many."""
    from aftersales.tasks import webhook_deliver as deliver_task

    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(status=WebhookStatus.PENDING, due_at__lte=now - SWEEP_GRACE)
        .annotate(held=_earlier_unsent())
        .filter(held=False)
        .order_by("due_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    queued = sum(task_queue(deliver_task, delivery_id) for delivery_id in due)
    if queued:
        logger.info("webhook sweep queued %d deliveries", queued)
    return queued
