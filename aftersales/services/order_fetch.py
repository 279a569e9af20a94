"""Orders fetched from the shop's orders API (`tickets.orders`): stored like a push, kept
fresh while agents look at them, and fetched when a customer names one Kefu lacks."""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.models import Order, OrderSource
from aftersales.services.orders import order_upsert
from tickets.identity import normalise_identity
from tickets.models import Customer, IdentityKind
from tickets.orders import OrderOwner, orders_backend
from tickets.services.customers import customer_resolve
from tickets.services.orders import order_owner_customer

logger = logging.getLogger("kefu.aftersales")

# The identities of an order's owner as the shop names them, strongest first.
OWNER_FIELDS = (
    ("user_id", IdentityKind.APP_USER),
    ("phone", IdentityKind.PHONE),
    ("email", IdentityKind.EMAIL),
)


def orders_fetchable() -> bool:
    """Whether an orders backend that gives whole orders is configured (a backend written
    for owners only has no `order`)."""
    return callable(getattr(orders_backend(), "order", None))


def order_is_stale(order: Order, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return order.fetched_at < now - timedelta(seconds=settings.ORDERS_STALE_SECONDS)


def order_refresh(*, number: str, now: datetime | None = None) -> Order | None:
    """Fetch an order from the shop's orders API and store it (source `api-fetch`). A
    stored order keeps its customer; a new one goes to the customer the shop's owner
    identities name (`tickets.services.orders.order_owner_customer`), or to a new customer
    with those identities when none is known yet. Returns None when nothing is configured,
    the shop has no such order, or the answer names no owner.

    Raises OrderLookupError when the API cannot answer now, and ValidationError (nothing
    written) when its snapshot is malformed or names another number."""
    backend = orders_backend()
    fetch = getattr(backend, "order", None)
    if not callable(fetch):
        return None
    body = fetch(number)
    if body is None:
        return None
    if str(body.get("number") or "") != number:
        raise ValidationError(
            _("The orders API answered for order %(answered)s, not %(number)s.")
            % {"answered": body.get("number"), "number": number},
            code="number",
        )
    with transaction.atomic():
        stored = Order.objects.filter(number=number).select_related("customer").first()
        customer = stored.customer if stored is not None else _owner(body)
        if customer is None:
            logger.info("order %s names no owner Kefu can use; not stored", number)
            return None
        return order_upsert(snapshot=body, customer=customer, source=OrderSource.API_FETCH, now=now)


def _owner(body: Mapping[str, object]) -> Customer | None:
    owner = OrderOwner(**{field: str(body.get(field) or "") for field, _kind in OWNER_FIELDS})
    known = order_owner_customer(owner)
    if known is not None:
        return Customer.objects.select_for_update().get(pk=known)
    identities = []
    for field, kind in OWNER_FIELDS:
        raw = str(body.get(field) or "")
        if not raw:
            continue
        try:
            identities.append((kind.value, normalise_identity(kind, raw)))
        except ValidationError:
            continue
    if not identities:
        return None
    return customer_resolve(identities=identities, name=str(body.get("name") or ""))
