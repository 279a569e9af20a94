"""The hooks through which apps above the core take part in customers' data rights.

The core exports and erases what it holds (`tickets.services.privacy`) and enforces the
retention of its own rows (`tickets.services.retention`). An app that holds more about a
customer (the edge's raw inbound log and outbox) registers a `PersonalDataSource` and its
`RetentionKind`s here from its `AppConfig.ready`; the core calls them without importing it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CustomerFootprint:
    """How other apps find a customer's rows: by the customer's ids (the customer and the
    records merged into it), the numbers of their tickets, and their identities as stored
    (kind, normalised value). Taken before anything is erased."""

    customer_ids: tuple[int, ...]
    ticket_numbers: tuple[str, ...]
    identities: tuple[tuple[str, str], ...]

    def values(self, kind: str) -> list[str]:
        return [value for identity_kind, value in self.identities if identity_kind == kind]


@dataclass(frozen=True)
class PersonalDataSource:
    """`export` returns files for the customer's archive (path inside it → bytes); `erase`
    deletes or scrubs the customer's rows, in the caller's transaction, and returns how many
    rows it touched."""

    name: str
    export: Callable[[CustomerFootprint], dict[str, bytes]]
    erase: Callable[[CustomerFootprint], int]


@dataclass(frozen=True)
class RetentionKind:
    """One kind of data with a retention period. `due(now)` counts the rows past it; `enforce
    (now)` deletes or anonymises them and returns how many. Run in `order` (lower first):
    tickets are anonymised before the customers left with nothing are."""

    name: str
    description: str
    due: Callable[[datetime], int]
    enforce: Callable[[datetime], int]
    order: int = 100


_sources: dict[str, PersonalDataSource] = {}
_retention: dict[str, RetentionKind] = {}


def personal_data_register(source: PersonalDataSource) -> None:
    _sources[source.name] = source


def personal_data_sources() -> list[PersonalDataSource]:
    return [_sources[name] for name in sorted(_sources)]


def retention_register(kind: RetentionKind) -> None:
    _retention[kind.name] = kind


def retention_kinds() -> list[RetentionKind]:
    return sorted(_retention.values(), key=lambda kind: (kind.order, kind.name))
