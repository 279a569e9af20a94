"""What after-sales tells the core's search of an order number (tickets.hooks): the customer
whose order it is and the tickets linked to it; of a case number, the case's ticket."""

from aftersales.models import Case, Order, TicketOrder
from tickets.hooks import SearchFound


def _spellings(typed: str) -> list[str]:
    # Numbers are stored as the shop sends them; an exact match on the unique index, in the
    # spellings one would type, instead of a case-insensitive scan of every order.
    return sorted({typed, typed.upper(), typed.lower()})


def order_search(typed: str) -> SearchFound:
    spellings = _spellings(typed.strip())
    orders = list(Order.objects.filter(number__in=spellings).values_list("pk", "customer_id"))
    ticket_ids = set(
        TicketOrder.objects.filter(order_id__in=[pk for pk, _customer in orders]).values_list(
            "ticket_id", flat=True
        )
        if orders
        else []
    )
    ticket_ids |= {
        ticket_id
        for ticket_id in Case.objects.filter(number__in=spellings).values_list(
            "ticket_id", flat=True
        )
        if ticket_id is not None
    }
    return SearchFound(
        ticket_ids=frozenset(ticket_ids),
        customer_ids=frozenset(customer for _pk, customer in orders if customer is not None),
    )
