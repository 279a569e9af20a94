"""What after-sales does when a customer writes (`tickets.signals.ticket_event_recorded`):
link the ticket to the order the message names, and fetch named orders Kefu lacks."""

from functools import partial
from typing import Any

from django.db import transaction

from aftersales.models import Order
from aftersales.services.order_fetch import orders_fetchable
from aftersales.services.order_links import numbers_written, ticket_order_autolink
from aftersales.tasks import orders_fetch
from kefu.celery import task_queue
from tickets.models import Customer, EventKind, TicketEvent

# At most this many order numbers of one message are fetched (as the core's owner lookups).
ORDERS_PER_MESSAGE = 5

_CUSTOMER_WROTE = (EventKind.CREATED, EventKind.MESSAGE_IN)


def on_ticket_event(sender: Any, event: TicketEvent, **kwargs: Any) -> None:
    """Runs inside the transaction that records the customer's message; its own entry
    (`order_linked`) is not one it answers."""
    if event.kind not in _CUSTOMER_WROTE:
        return
    ticket = event.ticket
    numbers = numbers_written(ticket)
    if not numbers:
        return
    ticket_order_autolink(ticket=ticket, numbers=numbers, now=event.created_at)
    if not orders_fetchable():
        return
    known = set(Order.objects.filter(number__in=numbers).values_list("number", flat=True))
    missing = [number for number in numbers if number not in known][:ORDERS_PER_MESSAGE]
    if missing:
        transaction.on_commit(partial(task_queue, orders_fetch, ticket.pk, missing))


def orders_move(source: Customer, target: Customer) -> list[int]:
    """A customer merge (tickets.hooks): the source's orders become the target's."""
    ids = list(Order.objects.filter(customer=source).values_list("pk", flat=True))
    Order.objects.filter(pk__in=ids).update(customer=target)
    return ids


def orders_move_back(ids: list[int], source: Customer, target: Customer) -> None:
    """Its undo: the orders that moved, and are still the target's, go back."""
    Order.objects.filter(pk__in=ids, customer=target).update(customer=source)
