"""After-sales work done in the background."""

import logging

from celery import shared_task
from django.core.exceptions import ValidationError

from aftersales.models import Order
from aftersales.services.order_fetch import order_refresh
from aftersales.services.order_links import ticket_order_autolink
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
