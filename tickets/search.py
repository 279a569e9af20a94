"""Find anything: what the header's search box finds, as the viewer may see it.

A query is read as every kind of identifier it could be and as words, all at once:

- a ticket number (`20261123-00427`): the ticket itself (the page jumps to it when it is
  the only thing that could be meant);
- a phone number in any format (`138 0013 8000`, `+86 138-0013-8000`): normalised to E.164
  as intake normalises identities, then the customers with that phone identity;
- an email address, lower-cased; an order number: the customers holding it as an identity,
  and whatever apps above the core know of it (`tickets.hooks.search_sources`: after-sales
  gives the orders' customers and the tickets linked to them);
- words: the tickets whose search document (`TicketSearchDocument`: subject and messages,
  segmented by `document_words`) holds every word of the query; customers whose name
  begins with the query.

Tickets come from `tickets_visible_to` and customers only through a ticket the viewer may
open (supervisors see all): an agent never learns that a customer or ticket of another team
exists. On PostgreSQL words are matched with its full-text search (`simple` config over the
pre-segmented words, GIN index); on SQLite by the stored words themselves. See
docs/search.md.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import phonenumbers
from django.contrib.postgres.search import SearchQuery, SearchQueryCombinable, SearchQueryField
from django.db import connection
from django.db.models import Exists, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.utils.dateparse import parse_datetime

from kb.text import STOPWORDS_EN, STOPWORDS_ZH, has_chinese, normalise, runs, segmenter, stem
from kefu.plans import plans_per_call
from kefu.roles import Role, has_role
from tickets import hooks
from tickets.filters import (
    ASSIGNEE_NONE,
    STATUS_ANY,
    STATUS_OPEN,
    TicketFilters,
    day_start,
    filters_apply,
)
from tickets.identity import mask_identity, normalise_phone
from tickets.models import ContactIdentity, Customer, IdentityKind, Ticket, TicketSearchDocument
from tickets.numbers import is_valid_number
from tickets.selectors import (
    agent_for,
    order_numbers_in,
    phones_in,
    team_ids_for,
    tickets_visible_to,
)

SEARCH_PAGE_SIZE = 25
CUSTOMER_LIMIT = 20
# A message is indexed up to this many characters (a pasted log or a forwarded thread says
# what it is about long before its end), and a document keeps at most this many characters
# of distinct words.
MESSAGE_INDEX_CHARS = 20_000
DOCUMENT_MAX_CHARS = 100_000
QUERY_MAX_CHARS = 200

_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}")
_TICKET_NUMBER = re.compile(r"^\d{8}-\d{5,}$")
_ORDER_SHAPE = re.compile(r"^(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{5,63}$")
_PHONE_SHAPE = re.compile(r"^\+?[\d\s().-]{7,24}$")


# --- words -----------------------------------------------------------------------------------


@lru_cache(maxsize=50_000)
def _english(word: str) -> str:
    # Letters only are stemmed (refunds, refunded → refund); codes and numbers stay whole.
    return stem(word) if word.isalpha() else word


def _words(text: str) -> list[str]:
    found: list[str] = []
    for run in runs(normalise(text)):
        if has_chinese(run):
            found.extend(w for w in segmenter.cut(run, hmm=False) if w not in STOPWORDS_ZH)
        else:
            plain = run.replace("'", "")
            if plain and plain not in STOPWORDS_EN:
                found.append(_english(plain))
    return found


def _identifiers(text: str) -> list[str]:
    """Phone numbers, email addresses and order numbers written in the text, as whole words:
    the national number of a phone (`13800138000`, however it was written), the address,
    the order number without dashes."""
    found: list[str] = []
    if any(char.isdigit() for char in text):
        for e164 in sorted(phones_in(text)):
            number = phonenumbers.parse(e164)
            found.append(phonenumbers.national_significant_number(number))
        found.extend(order_word(order) for order in sorted(order_numbers_in(text)))
    if "@" in text:
        found.extend(_EMAIL.findall(text.lower()))
    return found


def order_word(order: str) -> str:
    """An order number as the search documents hold it: lower case, without dashes."""
    return order.replace("-", "").lower()


def document_words(text: str) -> list[str]:
    """The words a text is found by, in order, each once: jieba's words of Chinese (without
    its stop words), English words lower-cased and stemmed, numbers and codes whole, and the
    phone numbers, email addresses and order numbers written in it."""
    text = text[:MESSAGE_INDEX_CHARS]
    return list(dict.fromkeys([*_words(text), *_identifiers(text)]))


def document_merge(document: str, words: Iterable[str]) -> str:
    """`document` with `words` it does not hold yet added, as stored (" a b c "), cut to
    DOCUMENT_MAX_CHARS at a word boundary."""
    held = document.split()
    seen = set(held)
    held.extend(word for word in dict.fromkeys(words) if word not in seen)
    merged = " ".join(held)
    if len(merged) > DOCUMENT_MAX_CHARS:
        merged = merged[:DOCUMENT_MAX_CHARS].rsplit(" ", 1)[0]
    return f" {merged} " if merged else ""


# --- reading a query -------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    ticket_number: str = ""
    phone: str = ""  # E.164
    email: str = ""
    order: str = ""  # as typed, upper-case
    words: tuple[str, ...] = ()
    # An order number's parts as ordinary words (`SO-2026-001` written without 订单号 is
    # indexed as so, 2026, 001): a second way to find it in text.
    order_parts: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.ticket_number or self.phone or self.email or self.order or self.words)


def query_parse(raw: str) -> ParsedQuery:
    text = " ".join(raw.split())[:QUERY_MAX_CHARS]
    ticket_number = text if _TICKET_NUMBER.match(text) and is_valid_number(text) else ""
    phone = ""
    if not ticket_number and _PHONE_SHAPE.match(text) and sum(c.isdigit() for c in text) >= 7:
        try:
            phone = normalise_phone(text)
        except Exception:  # not a phone number: read as words
            phone = ""
        if phone and not phonenumbers.is_valid_number(phonenumbers.parse(phone)):
            phone = ""
    email = text.lower() if _EMAIL.fullmatch(text.lower()) else ""
    order = text.upper() if _ORDER_SHAPE.match(text) and not ticket_number else ""
    words: list[str] = []
    order_parts: tuple[str, ...] = ()
    if phone:
        words.append(phonenumbers.national_significant_number(phonenumbers.parse(phone)))
    elif email:
        words.append(email)
    elif order and not text.isdigit():
        words.append(order_word(order))
        order_parts = tuple(dict.fromkeys(_words(text)))
    else:
        words.extend(_words(text))
    return ParsedQuery(
        text=text,
        ticket_number=ticket_number,
        phone=phone,
        email=email,
        order=order,
        words=tuple(dict.fromkeys(words)),
        order_parts=order_parts if len(order_parts) > 1 else (),
    )


# --- finding ---------------------------------------------------------------------------------


def words_match(tickets: QuerySet[Ticket], words: Iterable[str]) -> QuerySet[Ticket]:
    """The tickets whose search document holds every one of `words`."""
    words = list(words)
    if connection.vendor == "postgresql":
        query = SearchQuery(" ".join(words), config="simple", search_type="plain")
        return tickets.filter(search_document__vector=query)
    for word in words:
        tickets = tickets.filter(search_document__document__contains=f" {word} ")
    return tickets


class _Lexemes(SearchQueryCombinable, Func):  # type: ignore[misc]
    """A tsquery written out (`'team 1' | 'agent 5'`) and cast as it is: no parser or
    dictionary touches its lexemes, which hold a space no text's words can."""

    output_field = SearchQueryField()
    template = "%(expressions)s::tsquery"


def _any_of(lexemes: Iterable[str]) -> _Lexemes:
    quoted = ("'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes)
    return _Lexemes(Value(" | ".join(quoted)))


def _access_lexemes(user: Any) -> list[str] | None:
    """The facet lexemes (tickets.models.search) of the tickets the user may open, as
    `tickets_visible_to`: their teams' and their own. None: every ticket (supervisors and
    admins); []: none."""
    if not has_role(user, Role.AGENT):
        return []
    teams = team_ids_for(user)
    if teams is None:
        return None
    lexemes = [f"team {int(team)}" for team in teams]
    agent = agent_for(user)
    if agent is not None:
        lexemes.append(f"agent {int(agent.pk)}")
    return lexemes


def _filter_lexemes(filters: TicketFilters) -> list[str]:
    """The facet lexemes a document must hold to pass `filters`, as `filters_apply` (whose
    default status is any) narrows the tickets; the opening days are the caller's."""
    wanted: list[str] = []
    if filters.status == STATUS_OPEN:
        wanted.append("is open")
    elif filters.status and filters.status != STATUS_ANY:
        wanted.append(f"status {filters.status}")
    if filters.team is not None:
        wanted.append(f"team {int(filters.team)}")
    if filters.assignee == ASSIGNEE_NONE:
        wanted.append("agent none")
    elif filters.assignee.isdigit():
        wanted.append(f"agent {int(filters.assignee)}")
    for facet, value in (
        ("channel", filters.channel),
        ("category", filters.category),
        ("tier", filters.tier),
        ("tag", filters.tag),
        ("sla", filters.sla_state),
    ):
        if value:
            wanted.append(f"{facet} {value}")
    return wanted


def words_keys(
    *,
    user: Any,
    tickets: QuerySet[Ticket],
    words: Iterable[str],
    filters: TicketFilters | None,
    cursor: str = "",
) -> QuerySet[Any]:
    """(created_at, ticket id) of the tickets among `tickets` (the user's `tickets_visible_to`
    narrowed by `filters`) whose search document holds every one of `words`, newest first.

    On PostgreSQL this is answered from the search documents alone: the words, the access
    lexemes of the user's tickets and the lexemes of the filters make one tsquery, which the
    GIN index answers by intersecting their lists, and the documents' copy of the opening
    time orders and pages them (docs/search.md)."""
    if connection.vendor != "postgresql":
        keys = words_match(tickets, words)
        if cursor:
            keys = _before_cursor(keys, cursor)
        return keys.order_by("-created_at", "-pk").values_list("created_at", "pk")
    query: Any = SearchQuery(" ".join(words), config="simple", search_type="plain")
    documents = TicketSearchDocument.objects.all()
    access = _access_lexemes(user)
    if access is not None:
        if not access:
            documents = documents.none()
        else:
            query = query & _any_of(access)
    if filters is not None:
        for lexeme in _filter_lexemes(filters):
            query = query & _any_of([lexeme])
        if filters.opened_from is not None:
            documents = documents.filter(created_at__gte=day_start(filters.opened_from))
        if filters.opened_to is not None:
            documents = documents.filter(
                created_at__lt=day_start(filters.opened_to + timedelta(days=1))
            )
    documents = documents.filter(vector=query)
    if cursor:
        at_text, _sep, pk_text = cursor.rpartition("_")
        at = parse_datetime(at_text) if at_text else None
        if at is not None and pk_text.isdigit():
            documents = documents.filter(
                Q(created_at__lt=at) | Q(created_at=at, ticket_id__lt=int(pk_text))
            )
    return documents.order_by("-created_at", "-ticket_id").values_list("created_at", "ticket_id")


def customers_visible_to(
    user: Any, *, visible: QuerySet[Ticket] | None = None
) -> QuerySet[Customer]:
    """Customers the user may know of: those with a ticket the user may open (all of them
    for supervisors; `visible`: the user's `tickets_visible_to`, when already at hand).
    Merged-away and erased records are left out: their tickets moved or were emptied."""
    customers = Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    if has_role(user, Role.SUPERVISOR):
        return customers
    if not has_role(user, Role.AGENT):
        return Customer.objects.none()
    if visible is None:
        visible = tickets_visible_to(user)
    return customers.filter(Exists(visible.filter(customer=OuterRef("pk"))))


@dataclass(frozen=True)
class CustomerHit:
    customer: Customer
    matched: str  # the kind that matched: "phone", "email", "order" or "name"
    contact: str  # what matched, masked as on the ticket page ("" for a name)
    # The number of the customer's newest ticket the viewer may open ("" for none).
    latest_ticket: str


@dataclass(frozen=True)
class SearchResults:
    query: ParsedQuery
    customers: list[CustomerHit]
    tickets: list[Ticket]
    next_cursor: str | None
    # The ticket to open straight away: the query was exactly its number.
    jump_to: Ticket | None = None
    kinds: list[str] = field(default_factory=list)  # what the query was read as


def _identity_customers(query: ParsedQuery) -> dict[int, str]:
    wanted = Q(pk__in=[])
    if query.phone:
        wanted |= Q(kind=IdentityKind.PHONE, value=query.phone)
    if query.email:
        wanted |= Q(kind=IdentityKind.EMAIL, value=query.email)
    if query.order:
        # The unique index, in the spellings one would type, not a case-insensitive scan.
        spellings = sorted({query.text, query.order, query.text.lower()})
        wanted |= Q(kind=IdentityKind.ORDER, value__in=spellings)
    found: dict[int, str] = {}
    if query.phone or query.email or query.order:
        for customer_id, kind in ContactIdentity.objects.filter(wanted).values_list(
            "customer_id", "kind"
        ):
            found.setdefault(customer_id, kind)
    return found


def _name_starts(text: str) -> Q:
    """Names that begin with the text (a Chinese name begins with the surname), in the
    spellings one types: found by the name's prefix index on PostgreSQL, not by a scan."""
    wanted = Q(pk__in=[])
    for spelling in sorted({text, text.lower(), text.title(), text.upper()}):
        wanted |= Q(name__startswith=spelling)
    return wanted


def _customer_hit(customer: Customer, matched: str, query: ParsedQuery) -> CustomerHit:
    contact = {
        IdentityKind.PHONE: mask_identity(IdentityKind.PHONE, query.phone),
        IdentityKind.EMAIL: mask_identity(IdentityKind.EMAIL, query.email),
        IdentityKind.ORDER: query.order,
        "order": query.order,
    }.get(matched, "")
    return CustomerHit(
        customer=customer,
        matched=matched,
        contact=contact,
        latest_ticket=getattr(customer, "latest_ticket", None) or "",
    )


def _cursor(ticket: Ticket) -> str:
    return f"{ticket.created_at.isoformat()}_{ticket.pk}"


def _before_cursor(tickets: QuerySet[Ticket], cursor: str) -> QuerySet[Ticket]:
    at_text, _sep, pk_text = cursor.rpartition("_")
    at = parse_datetime(at_text) if at_text else None
    if at is None or not pk_text.isdigit():
        return tickets
    return tickets.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=int(pk_text)))


def search(
    *,
    user: Any,
    raw: str,
    filters: TicketFilters | None = None,
    cursor: str = "",
    size: int = SEARCH_PAGE_SIZE,
) -> SearchResults:
    """Customers and tickets matching `raw` that `user` may see, tickets newest first and
    narrowed by `filters`, paged by keyset (`cursor`: the last ticket of the page before).

    Each way a ticket can match is its own indexed query (by number, by customer, by the
    apps' hooks, by words), each cut at the page's size; the page is the newest of them.
    Planned for its words on every call (kefu.plans)."""
    with plans_per_call():
        return _search(user=user, raw=raw, filters=filters, cursor=cursor, size=size)


def _search(
    *, user: Any, raw: str, filters: TicketFilters | None, cursor: str, size: int
) -> SearchResults:
    query = query_parse(raw)
    if query.is_empty:
        return SearchResults(query=query, customers=[], tickets=[], next_cursor=None)
    # The user's teams are read once; every part below is narrowed by the same set.
    may_open = tickets_visible_to(user)
    visible = filters_apply(may_open, filters) if filters is not None else may_open
    kinds = [
        kind
        for kind, present in (
            ("ticket_number", query.ticket_number),
            ("phone", query.phone),
            ("email", query.email),
            ("order", query.order),
            ("words", query.words),
        )
        if present
    ]

    jump_to = None
    if query.ticket_number and not cursor:
        jump_to = (
            may_open.select_related("customer", "team", "assignee__user")
            .filter(number=query.ticket_number)
            .first()
        )

    matched_customers = _identity_customers(query)
    hook_tickets: set[int] = set()
    if query.order:
        for _name, source in hooks.search_sources():
            found = source(query.text)
            hook_tickets |= set(found.ticket_ids)
            for customer_id in found.customer_ids:
                matched_customers.setdefault(customer_id, "order")

    parts: list[QuerySet[Ticket]] = []
    if query.ticket_number:
        parts.append(visible.filter(number=query.ticket_number))
    if matched_customers:
        parts.append(visible.filter(customer_id__in=sorted(matched_customers)))
    if hook_tickets:
        parts.append(visible.filter(pk__in=sorted(hook_tickets)))
    keys: set[tuple[datetime, int]] = set()
    for part in parts:
        if cursor:
            part = _before_cursor(part, cursor)
        keys.update(part.order_by("-created_at", "-pk").values_list("created_at", "pk")[: size + 1])
    for words in (query.words, query.order_parts):
        if words:
            by_words = words_keys(
                user=user, tickets=visible, words=words, filters=filters, cursor=cursor
            )
            keys.update(by_words[: size + 1])
    newest = sorted(keys, reverse=True)[: size + 1]
    more = len(newest) > size
    ids = [pk for _at, pk in newest[:size]]
    by_id = Ticket.objects.select_related("customer", "team", "assignee__user").in_bulk(ids)
    tickets = [by_id[pk] for pk in ids if pk in by_id]

    customers: list[CustomerHit] = []
    if not cursor:
        latest = (
            may_open.filter(customer=OuterRef("pk"))
            .order_by("-created_at", "-pk")
            .values("number")[:1]
        )
        known = customers_visible_to(user, visible=may_open).annotate(
            latest_ticket=Subquery(latest)
        )
        found_ids = list(matched_customers)
        rows = {c.pk: c for c in known.filter(pk__in=found_ids)[:CUSTOMER_LIMIT]}
        customers = [
            _customer_hit(rows[pk], matched_customers[pk], query) for pk in found_ids if pk in rows
        ]
        if query.words and not (query.phone or query.email) and len(customers) < CUSTOMER_LIMIT:
            named = known.filter(_name_starts(query.text)).exclude(pk__in=found_ids)
            customers.extend(
                _customer_hit(customer, "name", query)
                for customer in named.order_by("-pk")[: CUSTOMER_LIMIT - len(customers)]
            )
    return SearchResults(
        query=query,
        customers=customers,
        tickets=tickets,
        next_cursor=_cursor(tickets[-1]) if more and tickets else None,
        jump_to=jump_to,
        kinds=kinds,
    )
