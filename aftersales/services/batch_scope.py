"""What a batch of the shop's events reads once rather than once per event.

`event_inbox.events_apply` opens a scope around its batch; the step services and what they
bring with them (the step clock's team, the notice's template, address and the case's items,
whether a case has events waiting) look here first and read the database only when no batch is
running or the batch has not read it yet. Nothing here outlives the batch's transaction, and
only what a batch cannot change is kept (templates, the team, the cases' items, the
customers' identities), besides the set of cases with waiting events, read as the batch
starts.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aftersales.models import CaseItem, CaseStep
    from tickets.models import ContactIdentity


@dataclass
class BatchScope:
    # The cases' items (with their order items), by case id.
    items: dict[int, list["CaseItem"]]
    # The cases of the batch that have events waiting for them to move.
    waiting: set[int]
    # The last step recorded on each case in this batch.
    steps: dict[int, "CaseStep"] = field(default_factory=dict)
    # The contact identities of the cases' customers (their notices' addresses), by customer.
    identities: dict[int, list["ContactIdentity"]] = field(default_factory=dict)
    # Anything else read once per batch, by name (the after-sales team, notice templates).
    memo: dict[object, Any] = field(default_factory=dict)


_current: ContextVar[BatchScope | None] = ContextVar("aftersales_batch_scope", default=None)


def current() -> BatchScope | None:
    """The running batch's scope, or None outside a batch."""
    return _current.get()


@contextmanager
def batch_scope(
    *,
    items: dict[int, list["CaseItem"]],
    waiting: set[int],
    identities: dict[int, list["ContactIdentity"]],
) -> Iterator[BatchScope]:
    scope = BatchScope(items=items, waiting=waiting, identities=identities)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


_MISSING = object()


def memoised(key: object, read: Any) -> Any:
    """`read()`, once per batch for `key`; every call outside a batch reads."""
    scope = _current.get()
    if scope is None:
        return read()
    value = scope.memo.get(key, _MISSING)
    if value is _MISSING:
        value = scope.memo[key] = read()
    return value
