"""Which order a ticket is about: linked automatically when the customer's message names
one of their orders, or by an agent from the ticket page. One order per ticket."""

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.models import LinkHow, Order, TicketOrder
from tickets.models import Direction, EventKind, Message, Ticket
from tickets.selectors import order_numbers_in
from tickets.services.audit import audit_record
from tickets.services.trail import event_record


def numbers_written(ticket: Ticket) -> list[str]:
    """The order numbers the ticket's latest customer message names, in the order written."""
    message = (
        Message.objects.filter(ticket=ticket, direction=Direction.IN)
        .order_by("-created_at", "-pk")
        .only("subject", "body")
        .first()
    )
    if message is None:
        return []
    text = f"{message.subject}\n{message.body}"
    upper = text.upper()
    return sorted(order_numbers_in(text), key=lambda number: (upper.find(number), number))


def ticket_order_autolink(
    *, ticket: Ticket, numbers: Sequence[str] | None = None, now: datetime | None = None
) -> TicketOrder | None:
    """Link the ticket to the first order named in its latest customer message (or in
    `numbers`) that is an order of the ticket's customer, unless the ticket has an order
    already. Returns the new link, or None."""
    if TicketOrder.objects.filter(ticket=ticket).exists():
        return None
    if numbers is None:
        numbers = numbers_written(ticket)
    if not numbers:
        return None
    orders = {
        order.number: order
        for order in Order.objects.filter(customer_id=ticket.customer_id, number__in=numbers)
    }
    first = next((orders[number] for number in numbers if number in orders), None)
    if first is None:
        return None
    try:
        with transaction.atomic():
            return ticket_order_link(
                ticket=ticket, order=first, actor=None, how=LinkHow.AUTO, now=now
            )
    except IntegrityError:
        # Linked a moment ago by another message or an agent: theirs stands.
        return None


def ticket_order_link(
    *,
    ticket: Ticket,
    order: Order,
    actor: User | None,
    how: LinkHow,
    now: datetime | None = None,
) -> TicketOrder:
    """Make `order` the ticket's order (an agent's choice replaces an earlier link; linking
    the same order again changes nothing), on the ticket's trail (`order_linked`) and in the
    audit log. Raises ValidationError when the order is another customer's."""
    if order.customer_id != ticket.customer_id:
        raise ValidationError(
            _("Order %(number)s is not an order of this ticket's customer.")
            % {"number": order.number},
            code="ticket_customer",
        )
    now = now or timezone.now()
    with transaction.atomic():
        link = TicketOrder.objects.select_for_update().filter(ticket=ticket).first()
        if link is not None and link.order_id == order.pk:
            return link
        previous = link.order.number if link is not None else ""
        if link is None:
            link = TicketOrder(ticket=ticket)
        link.order = order
        link.linked_by = actor
        link.linked_at = now
        link.how = how
        link.save()
        event_record(
            ticket=ticket,
            kind=EventKind.ORDER_LINKED,
            actor=actor,
            at=now,
            data={"order": order.number, "how": str(how), "to": order.number},
        )
        audit_record(
            actor=actor,
            action="ticket_order_linked",
            object_type="ticket",
            object_id=ticket.number,
            data={"order": order.pk, "number": order.number, "how": str(how), "previous": previous},
        )
    return link
