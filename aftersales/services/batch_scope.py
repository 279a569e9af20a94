"""What a batch of the shop's events reads once rather than once per event.

`event_inbox.events_apply` opens a scope around its batch; what the steps bring with them
(the refund's room and the notice's items, the notice's address, whether a case has events
waiting) looks here first and reads the database only when no batch is running or the batch
has not read it. Nothing here outlives the batch's transaction, and only what a batch cannot
change is kept (the cases' items, the customers' identities), besides the set of cases with
waiting events, read as the batch starts. (The notice templates and the after-sales team
are kept longer, per process, under a revision: `kefu.revisions`.)
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aftersales.models import CaseItem
    from tickets.models import ContactIdentity


@dataclass
class BatchScope:
    # The cases' items (with their order items), by case id.
    items: dict[int, list["CaseItem"]]
    # The cases of the batch that have events waiting for them to move.
    waiting: set[int]
    # The contact identities of the cases' customers (their notices' addresses), by customer.
    identities: dict[int, list["ContactIdentity"]] = field(default_factory=dict)


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
