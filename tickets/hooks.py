"""Where apps above the core show what they own on the core's pages, without the core
importing them (DESIGN.md: import rules).

An app registers its contributions in its `AppConfig.ready`:

- **ticket panels**: `ticket_panel_register(name, panel)`; `panel(request, ticket)` returns
  the HTML of one card for the ticket page's side column ("" for none). It runs after the
  page's own role check; it must check anything further it shows.
- **portal sections**: `portal_section_register(name, section)`; `section(request, customer)`
  returns the HTML of one card on the customer's self-service home ("" for none). The
  customer is the one the one-time code proved.
- **timeline sources**: `timeline_source_register(name, source)`; `source(customer,
  before, size)` returns up to `size` `TimelineExtra`s of the customer, newest first, that
  come strictly before the timeline cursor — `before(field)` is the `Q` that says so for a
  datetime field of the source's rows. The core merges them with messages, the trail and
  calls, and pages through them with the same cursor.
- **search sources**: `search_source_register(name, source)`; `source(order_number)`
  returns a `SearchFound` (the ticket ids and customer ids the app knows for an order
  number or an after-sales case number, as typed). The core's search (tickets.search) keeps
  only those the viewer may see.

- **customer merge parts**: `customer_merge_part_register(name, part)`; when staff merge
  two customers, `part.move(source, target)` moves what the app keeps of `source` to
  `target` (an order, say) and returns the ids it moved; they are kept with the merge, and
  an undo calls `part.move_back(ids, source, target)`. Both run inside the merge's
  transaction.

- **ticket order number**: `ticket_order_number_register(name, finder)`; `finder(ticket)`
  returns the number of the order the ticket is about ("" when it knows none). The first
  non-empty answer fills a macro's {order_number}. `batch(tickets)`, when registered too,
  answers for many tickets in one go (a dict by ticket id, leaving out those with none).

- **close guards**: `close_guard_register(name, guard)`; `guard(ticket, status, actor)` is
  asked before a ticket is resolved or closed (`status` is the one asked for, `actor` the
  user who asks, None for Kefu itself) and returns why it may not be ("" when it may). The
  status service refuses with the first reason given and changes nothing. It runs under the
  ticket's row lock, inside the status change's transaction. A guard that can answer for a
  batch of tickets at once (the queue's bulk status action) also registers `batch`:
  `batch(tickets, status, actor)` returns the reasons by ticket id, for those it refuses;
  without it the guard is asked once per ticket.

- **ticket opened**: `ticket_opened_register(name, listener)`; `listener(ticket)` runs in the
  intake's transaction right after a new ticket (triaged, routed, with its SLA clocks) is
  stored, so what an app records about the new ticket commits or rolls back with it.
- **inbound reply interceptors**: `inbound_interceptor_register(name, interceptor)`;
  `interceptor(customer, inbound)` looks at a message from a known customer before intake
  threads it, inside intake's transaction, and returns an `InboundClaim` when the message is
  an answer the app was waiting for (a digit replying to a survey, say): the core then stores
  the message on the claim's ticket as it is (no reopening, no new ticket, no triage, no
  bot) and calls `claim.accept(message)` in the same transaction. None lets intake go on
  as usual. An interceptor must be quick for every other message (it sees them all).
  `batch(pairs)`, when registered too, looks at many (customer, inbound) pairs at once (a
  drain's batch of stored SMS) and returns an `InboundClaims`: the claimed ones' tickets by
  position, and one `accept` for all their stored messages. The core's batch intake
  (`tickets.services.intake.intake_claimed_many`) is used only while every interceptor
  has a batch form; it must decide exactly as the one-message form would.

- **trail labels**: `trail_label_register(name, kind, label)`; `label(data)` returns what
  the ticket page's timeline shows after "→" for a trail entry of `kind` that the app
  records (its stored `data`), in the active language, or "" for an entry it did not
  record (several apps record notices). The first non-empty answer is shown; none shows the
  stored `to` as it is (in the language of whoever recorded it).

Each name is registered once (a second registration under a name replaces the first, so a
reloaded app does not show twice). Sources and sections are kept in registration order.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest

from tickets.inbound import InboundMessage
from tickets.models import Customer, Message, Ticket


@dataclass(frozen=True)
class TimelineExtra:
    """One entry an app adds to a customer's timeline: when, a key unique within its source
    (its row's pk), and the entry's HTML, already rendered and escaped."""

    at: datetime
    pk: int
    html: str


@dataclass(frozen=True)
class CustomerMergePart:
    """What an app moves when two customers are merged, and moves back on an undo."""

    move: Callable[[Customer, Customer], list[int]]
    move_back: Callable[[list[int], Customer, Customer], None]


@dataclass(frozen=True)
class SearchFound:
    """What an app knows of an order number: tickets linked to it, customers who hold it."""

    ticket_ids: frozenset[int] = frozenset()
    customer_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class InboundClaim:
    """An app's claim on an inbound message: the ticket to store it on, and what to do with
    the stored message (in intake's transaction)."""

    ticket: Ticket
    accept: Callable[[Message], None]


@dataclass(frozen=True)
class InboundClaims:
    """An app's claims on a batch of inbound messages: the ticket to store each claimed one
    on, by its position in the batch, and what to do with the stored messages (by the same
    positions), all in intake's transaction."""

    tickets: dict[int, Ticket]
    accept: Callable[[dict[int, Message]], None]


InboundInterceptor = Callable[[Customer, InboundMessage], InboundClaim | None]
InboundBatchInterceptor = Callable[[Sequence[tuple[Customer, InboundMessage]]], InboundClaims]
TicketPanel = Callable[[HttpRequest, Ticket], str]
PortalSection = Callable[[HttpRequest, Customer], str]
TimelineBefore = Callable[[str], Q]
TimelineSource = Callable[[Customer, TimelineBefore, int], list[TimelineExtra]]
SearchSource = Callable[[str], SearchFound]

_ticket_panels: dict[str, TicketPanel] = {}
_portal_sections: dict[str, PortalSection] = {}
_timeline_sources: dict[str, TimelineSource] = {}
_customer_merge_parts: dict[str, CustomerMergePart] = {}
TicketOrderNumber = Callable[[Ticket], str]
TicketOrderNumbers = Callable[[Sequence[Ticket]], dict[int, str]]
_ticket_order_numbers: dict[str, TicketOrderNumber] = {}
_ticket_order_number_batches: dict[str, TicketOrderNumbers] = {}
_search_sources: dict[str, SearchSource] = {}
CloseGuard = Callable[[Ticket, str, User | None], str]
CloseGuardBatch = Callable[[Sequence[Ticket], str, User | None], dict[int, str]]
_close_guards: dict[str, CloseGuard] = {}
_close_guard_batches: dict[str, CloseGuardBatch] = {}
TicketOpened = Callable[[Ticket], None]
_ticket_opened: dict[str, TicketOpened] = {}


def ticket_panel_register(name: str, panel: TicketPanel) -> None:
    _ticket_panels[name] = panel


def portal_section_register(name: str, section: PortalSection) -> None:
    _portal_sections[name] = section


def timeline_source_register(name: str, source: TimelineSource) -> None:
    _timeline_sources[name] = source


def ticket_panels(request: HttpRequest, ticket: Ticket) -> list[str]:
    return [html for panel in _ticket_panels.values() if (html := panel(request, ticket))]


def portal_sections(request: HttpRequest, customer: Customer) -> list[str]:
    return [html for section in _portal_sections.values() if (html := section(request, customer))]


def timeline_sources() -> list[tuple[str, TimelineSource]]:
    return list(_timeline_sources.items())


def customer_merge_part_register(name: str, part: CustomerMergePart) -> None:
    _customer_merge_parts[name] = part


def customer_merge_parts() -> list[tuple[str, CustomerMergePart]]:
    return list(_customer_merge_parts.items())


def ticket_order_number_register(
    name: str, finder: TicketOrderNumber, *, batch: TicketOrderNumbers | None = None
) -> None:
    _ticket_order_numbers[name] = finder
    _ticket_order_number_batches.pop(name, None)
    if batch is not None:
        _ticket_order_number_batches[name] = batch


def ticket_order_number(ticket: Ticket) -> str:
    """The number of the order the ticket is about, as an app above the core knows it."""
    for finder in _ticket_order_numbers.values():
        if number := finder(ticket):
            return number
    return ""


def ticket_order_numbers(tickets: Sequence[Ticket]) -> dict[int, str]:
    """`ticket_order_number` of many tickets, by ticket id (those with none left out)."""
    found: dict[int, str] = {}
    for name, finder in _ticket_order_numbers.items():
        left = [ticket for ticket in tickets if ticket.pk not in found]
        if not left:
            break
        batch = _ticket_order_number_batches.get(name)
        if batch is not None:
            found.update((pk, number) for pk, number in batch(left).items() if number)
        else:
            found.update((t.pk, number) for t in left if (number := finder(t)))
    return found


def search_source_register(name: str, source: SearchSource) -> None:
    _search_sources[name] = source


def search_sources() -> list[tuple[str, SearchSource]]:
    return list(_search_sources.items())


def close_guard_register(
    name: str, guard: CloseGuard, *, batch: CloseGuardBatch | None = None
) -> None:
    _close_guards[name] = guard
    _close_guard_batches.pop(name, None)
    if batch is not None:
        _close_guard_batches[name] = batch


def close_refusal(ticket: Ticket, status: str, actor: User | None) -> str:
    """Why `actor` (None: Kefu itself) may not resolve or close the ticket now, by the first
    guard that says so; "" when every guard lets it."""
    return close_refusals([ticket], status, actor).get(ticket.pk, "")


def close_refusals(tickets: Sequence[Ticket], status: str, actor: User | None) -> dict[int, str]:
    """`close_refusal` for many tickets: the first guard's reason by ticket id, for the
    tickets some guard refuses."""
    refused: dict[int, str] = {}
    for name, guard in _close_guards.items():
        left = [ticket for ticket in tickets if ticket.pk not in refused]
        if not left:
            break
        batch = _close_guard_batches.get(name)
        if batch is not None:
            refused.update(
                (pk, reason) for pk, reason in batch(left, status, actor).items() if reason
            )
        else:
            refused.update((t.pk, reason) for t in left if (reason := guard(t, status, actor)))
    return refused


def ticket_opened_register(name: str, listener: TicketOpened) -> None:
    _ticket_opened[name] = listener


def ticket_opened(ticket: Ticket) -> None:
    """Tell the apps above the core that a new ticket was stored (inside the intake's
    transaction)."""
    for listener in _ticket_opened.values():
        listener(ticket)


_inbound_interceptors: dict[str, InboundInterceptor] = {}
_inbound_batch_interceptors: dict[str, InboundBatchInterceptor] = {}


def inbound_interceptor_register(
    name: str, interceptor: InboundInterceptor, *, batch: InboundBatchInterceptor | None = None
) -> None:
    _inbound_interceptors[name] = interceptor
    _inbound_batch_interceptors.pop(name, None)
    if batch is not None:
        _inbound_batch_interceptors[name] = batch


def inbound_interceptor_unregister(name: str) -> None:
    _inbound_interceptors.pop(name, None)
    _inbound_batch_interceptors.pop(name, None)


def inbound_intercept(customer: Customer, inbound: InboundMessage) -> InboundClaim | None:
    """The first claim an app makes on the message, else None."""
    for interceptor in _inbound_interceptors.values():
        if (claim := interceptor(customer, inbound)) is not None:
            return claim
    return None


def inbound_intercept_many(
    pairs: Sequence[tuple[Customer, InboundMessage]],
) -> list[InboundClaims] | None:
    """Every interceptor's claims on a batch, in registration order, each asked only about
    the positions no earlier one claimed; None when an interceptor has no batch form (the
    batch cannot be decided as the one-message form would)."""
    if _inbound_interceptors.keys() != _inbound_batch_interceptors.keys():
        return None
    found: list[InboundClaims] = []
    claimed: set[int] = set()
    for name in _inbound_interceptors:
        left = [index for index in range(len(pairs)) if index not in claimed]
        if not left:
            break
        claims = _inbound_batch_interceptors[name]([pairs[index] for index in left])
        # Back to the batch's positions.
        tickets = {left[index]: ticket for index, ticket in claims.tickets.items()}
        if tickets:
            found.append(InboundClaims(tickets=tickets, accept=_accept_at(claims.accept, left)))
            claimed.update(tickets)
    return found


def _accept_at(
    accept: Callable[[dict[int, Message]], None], asked: list[int]
) -> Callable[[dict[int, Message]], None]:
    """`accept` taking the batch's positions, for an interceptor asked about `asked`."""
    local = {position: index for index, position in enumerate(asked)}
    return lambda messages: accept({local[k]: message for k, message in messages.items()})


TrailLabel = Callable[[dict[str, object]], str]

_trail_labels: dict[str, tuple[str, TrailLabel]] = {}


def trail_label_register(name: str, kind: str, label: TrailLabel) -> None:
    _trail_labels[name] = (kind, label)


def trail_label(kind: str, data: dict[str, object]) -> str:
    """What an app says a trail entry of `kind` moved to, in the active language; "" when no
    app says."""
    for labelled, label in _trail_labels.values():
        if labelled == kind and (said := label(data)):
            return said
    return ""
