"""Who placed an order: the contract between the core and the shop's orders API.

A customer who writes "订单号 SO20261123001" may be known to us by another phone or email than
the one the order was placed with. When a shop has an orders API, Kefu asks it who owns an
order number the first time a message mentions it, and links the number to that customer as
an `order` identity; merge suggestions then show when two customer records share it. The
backend is named by dotted path in `settings.KEFU_ORDERS_BACKEND` (empty: no orders API).

A backend may also give the whole order (`order`): the owner's fields together with the
order's snapshot (the format of after-sales' order snapshots, docs/aftersales.md), which
the after-sales app stores and keeps fresh. A backend without `order` only names owners.
"""

from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class OrderOwner:
    """What the shop knows of the customer who placed an order (any may be empty)."""

    user_id: str = ""
    phone: str = ""
    email: str = ""


class OrderLookupError(Exception):
    """The orders API could not answer now (unreachable, 5xx, 429); worth asking again."""


class OrdersBackend(Protocol):
    def owner(self, number: str) -> OrderOwner | None:
        """The order's owner, or None when the shop has no such order."""
        ...

    def order(self, number: str) -> dict[str, object] | None:
        """The shop's whole order: the owner's `user_id`, `phone`, `email` and `name` (any
        may be empty) beside the snapshot's fields (`number`, `placed_at`, `items`, …); None
        when the shop has no such order. Raises OrderLookupError when the API cannot answer
        now."""
        ...


@cache
def orders_backend() -> OrdersBackend | None:
    path = settings.KEFU_ORDERS_BACKEND
    if not path:
        return None
    backend: OrdersBackend = import_string(path)()
    return backend
