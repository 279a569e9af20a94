"""Order numbers customers write: asking the shop's orders API who placed them, and
linking each to its owner as an `order` identity.
"""

from django.core.exceptions import ValidationError
from django.db.models import Q

from kefu.celery import task_queue
from tickets.identity import normalise_identity
from tickets.models import (
    AuditEntry,
    ContactIdentity,
    IdentityKind,
    Message,
)
from tickets.orders import OrderOwner, orders_backend
from tickets.selectors import order_numbers_in
from tickets.services.customers import strongest_owner


def orders_later(message_id: int) -> None:
    from tickets.tasks import orders_link

    task_queue(orders_link, message_id)


# At most this many order numbers of one message are looked up (a pasted order list is not
# a reason to hammer the shop's API).
ORDERS_PER_MESSAGE = 5


def message_orders_link(*, message_id: int) -> list[str]:
    """Ask the shop's orders API who placed the orders a customer message mentions, and link
    each number not linked yet to that customer as an `order` identity, audited. The owner
    is found by the identities the shop gives (app user id, phone, email), the strongest
    first; an order placed by someone who never wrote to us stays unlinked (the writer's
    word alone does not make it theirs). Returns the numbers linked. Raises
    OrderLookupError when the API cannot answer now (the task retries)."""
    backend = orders_backend()
    message = Message.objects.select_related("ticket").filter(pk=message_id).first()
    if backend is None or message is None:
        return []
    numbers = order_numbers_in(f"{message.subject}\n{message.body}")
    numbers -= set(
        ContactIdentity.objects.filter(kind=IdentityKind.ORDER, value__in=numbers).values_list(
            "value", flat=True
        )
    )
    linked = []
    for number in sorted(numbers)[:ORDERS_PER_MESSAGE]:
        owner = backend.owner(number)
        if owner is None:
            continue
        owner_id = order_owner_customer(owner)
        if owner_id is None:
            continue
        _identity, created = ContactIdentity.objects.get_or_create(
            kind=IdentityKind.ORDER, value=number, defaults={"customer_id": owner_id}
        )
        if created:
            AuditEntry.objects.create(
                actor=None,
                action="order_linked",
                object_type="customer",
                object_id=str(owner_id),
                data={"order": number, "message": message.pk, "ticket": message.ticket.number},
            )
            linked.append(number)
    return linked


def order_owner_customer(owner: OrderOwner) -> int | None:
    """The customer the shop's identities of an order's owner name (the strongest identity
    wins), or None when none of them is known here."""
    query = Q()
    for kind, raw in (
        (IdentityKind.APP_USER, owner.user_id),
        (IdentityKind.PHONE, owner.phone),
        (IdentityKind.EMAIL, owner.email),
    ):
        if not raw:
            continue
        try:
            query |= Q(kind=kind, value=normalise_identity(kind, raw))
        except ValidationError:
            continue
    if not query:
        return None
    known = {(i.kind, i.value): i.customer_id for i in ContactIdentity.objects.filter(query)}
    return strongest_owner(known)
