"""After-sales work done in the background. Tasks take ids or numbers, may run twice, and
call a service."""

import logging

from celery import shared_task
from django.core.exceptions import ValidationError

from aftersales.models import Order
from aftersales.services.event_inbox import LINGER_SECONDS, events_drain, events_sweep
from aftersales.services.logistics import anomaly_scan
from aftersales.services.order_fetch import order_refresh
from aftersales.services.order_links import ticket_order_autolink
from aftersales.services.webhook import webhook_deliver as webhook_deliver_run
from aftersales.services.webhook import webhook_sweep as webhook_sweep_run
from tickets.models import Ticket
from tickets.orders import OrderLookupError

logger = logging.getLogger("kefu.aftersales")


@shared_task(name="aftersales.tasks.order_refresh", ignore_result=True)
def order_refresh_task(number: str) -> None:
    """Fetch a stale order again for the ticket page. Not retried: the next look at the
    page asks again."""
    try:
        order_refresh(number=number)
    except OrderLookupError as error:
        logger.warning("order %s not refreshed: %s", number, error)
    except ValidationError as error:
        logger.warning("order %s from the orders API refused: %s", number, error.messages)


@shared_task(
    name="aftersales.tasks.orders_fetch",
    ignore_result=True,
    autoretry_for=(OrderLookupError,),
    retry_backoff=True,
    max_retries=5,
)
def orders_fetch(ticket_id: int, numbers: list[str]) -> None:
    """Fetch the orders a customer message names that Kefu does not have yet, then link
    the ticket to the first that is the customer's (unless it has an order already)."""
    for number in numbers:
        if Order.objects.filter(number=number).exists():
            continue
        try:
            order_refresh(number=number)
        except ValidationError as error:
            logger.warning("order %s from the orders API refused: %s", number, error.messages)
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is not None:
        ticket_order_autolink(ticket=ticket, numbers=numbers)


@shared_task(name="aftersales.tasks.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    """Send one webhook delivery to the shop. Retries are the outbox's (the sweep), not
    Celery's."""
    webhook_deliver_run(delivery_id=delivery_id)


@shared_task(name="aftersales.tasks.webhook_sweep", ignore_result=True)
def webhook_sweep() -> int:
    """Queue the webhook deliveries that are due (never queued, retries, dead workers)."""
    return webhook_sweep_run()


@shared_task(name="aftersales.tasks.events_apply", ignore_result=True)
def events_apply() -> int:
    """Apply the shop's queued case events (rung by the inbox's bell), letting a burst
    fill the batches."""
    return events_drain(linger=LINGER_SECONDS)


@shared_task(name="aftersales.tasks.events_sweep", ignore_result=True)
def events_sweep_task() -> int:
    """Apply case events still queued: their ring was lost, or their worker died."""
    return events_sweep()


@shared_task(name="aftersales.tasks.logistics_scan", ignore_result=True)
def logistics_scan() -> int:
    """Every LOGISTICS_SCAN_SECONDS: open an anomaly for each shipment a rule now matches."""
    return sum(anomaly_scan().values())
