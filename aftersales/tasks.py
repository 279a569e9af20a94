"""Celery tasks of after-sales. They take ids, may run twice, and call a service."""

from celery import shared_task

from aftersales.services.webhook import webhook_deliver as webhook_deliver_run
from aftersales.services.webhook import webhook_sweep as webhook_sweep_run


@shared_task(name="aftersales.tasks.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    """Send one webhook delivery to the shop. Retries are the outbox's (the sweep), not
    Celery's."""
    webhook_deliver_run(delivery_id=delivery_id)


@shared_task(name="aftersales.tasks.webhook_sweep", ignore_result=True)
def webhook_sweep() -> int:
    """Queue the webhook deliveries that are due (never queued, retries, dead workers)."""
    return webhook_sweep_run()
