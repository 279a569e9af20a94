"""Reads of the core that are more than one line."""

import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

import phonenumbers
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Length, Substr
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kefu.roles import Role, has_role
from sla.models import SlaClock
from sla.selectors import Compliance, compliance
from tickets import hooks, sorting
from tickets.filters import STATUS_OPEN, TicketFilters, filters_apply
from tickets.hooks import TimelineExtra
from tickets.identity import mask_identity
from tickets.masking import CUT_SLACK, safe_cut
from tickets.models import (
    Agent,
    AlertSettings,
    Attachment,
    Call,
    ContactIdentity,
    Customer,
    CustomerMerge,
    Direction,
    IdentityKind,
    Message,
    Notification,
    SlaState,
    Team,
    Ticket,
    TicketEvent,
)

logger = logging.getLogger("kefu.tickets")

QUEUE_PAGE_SIZE = 50


# The signed-in user's agent (with its teams), read once per HTTP request: a page asks for
# it from the view, the header's bell and presence switch, the visibility of tickets and
# search, each of which used to cost two queries. Set by `request_cache_start` when a
# request starts (tickets.apps), emptied when it ends; outside a request (a websocket, a
# task, a test calling a selector) every call reads the database.
_request_agents: ContextVar[dict[int, Agent | None] | None] = ContextVar(
    "kefu_request_agents", default=None
)


def request_cache_start(**_signal: Any) -> None:
    _request_agents.set({})


def request_cache_end(**_signal: Any) -> None:
    _request_agents.set(None)


def agent_for(user: Any) -> Agent | None:
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "groups"):
        return None
    cache = _request_agents.get()
    if cache is not None and user.pk in cache:
        return cache[user.pk]
    # With the user's alert settings (the header's bell), which are one row or none.
    agent = (
        Agent.objects.filter(user=user)
        .select_related("user__kefu_alert_settings")
        .prefetch_related("teams")
        .first()
    )
    if cache is not None:
        cache[user.pk] = agent
    return agent


def team_ids_for(user: Any) -> list[int] | None:
    """The teams whose tickets a user may see: None means all (supervisors and admins)."""
    if has_role(user, Role.SUPERVISOR):
        return None
    agent = agent_for(user)
    if agent is None:
        return []
    return [team.pk for team in agent.teams.all()]


def _visible_condition(user: Any, *, team_ids: list[int] | None = None) -> Q | bool:
    """Which tickets a member of staff may open: True all of them, False none."""
    if not has_role(user, Role.AGENT):
        return False
    teams = team_ids if team_ids is not None else team_ids_for(user)
    if teams is None:
        return True
    return Q(team_id__in=teams) | Q(assignee__user=user)


def tickets_visible_to(user: Any, *, team_ids: list[int] | None = None) -> QuerySet[Ticket]:
    """The tickets a member of staff may open. `team_ids`: the user's `team_ids_for`,
    when the caller has it already (it costs two queries)."""
    condition = _visible_condition(user, team_ids=team_ids)
    if condition is True:
        return Ticket.objects.all()
    if condition is False:
        return Ticket.objects.none()
    return Ticket.objects.filter(condition)


def _may_open(viewer: Any) -> Value | ExpressionWrapper:
    """Whether the viewer may open a ticket, as a column of a query on tickets."""
    condition = _visible_condition(viewer)
    if isinstance(condition, bool):
        return Value(condition, output_field=BooleanField())
    return ExpressionWrapper(condition, output_field=BooleanField())


class _CustomerTicket(NamedTuple):
    pk: int
    may_open: bool
    number: str
    status: str
    subject: str
    created_at: datetime
    is_open: bool
    team_id: int | None
    team_name: str | None


def _customer_tickets(customer: Customer, viewer: Any) -> list[_CustomerTicket]:
    """Every ticket of the customer, in id order, with whether the viewer may open it and
    what the ticket page shows of it (the timeline's ticket numbers, the other-tickets
    card): one query, read once per customer object and viewer."""
    memo = _customer_tickets_memo(customer)
    key = getattr(viewer, "pk", None)
    if key not in memo:
        rows = (
            Ticket.objects.filter(customer=customer)
            .annotate(may_open=_may_open(viewer))
            .order_by("pk")
            .values_list(
                "pk",
                "may_open",
                "number",
                "status",
                "subject",
                "created_at",
                "is_open",
                "team_id",
                "team__name",
            )
        )
        memo[key] = [_CustomerTicket(*row) for row in rows]
    return memo[key]


def _customer_tickets_memo(customer: Customer) -> dict[Any, list[_CustomerTicket]]:
    """`_customer_tickets` read on this customer object so far, by viewer's id."""
    memo: dict[Any, list[_CustomerTicket]] = customer.__dict__.setdefault(
        "_kefu_customer_tickets", {}
    )
    return memo


def _tickets_seen(customer: Customer, viewer: Any) -> tuple[list[int], list[int]]:
    """The customer's tickets the viewer may open and those they may not."""
    seen: tuple[list[int], list[int]] = ([], [])
    for row in _customer_tickets(customer, viewer):
        seen[0 if row.may_open else 1].append(row.pk)
    return seen


def _ticket_of(row: _CustomerTicket, customer: Customer) -> Ticket:
    """A ticket object of the row's columns (the others deferred), as `.only()` makes one."""
    known = {
        "id": row.pk,
        "number": row.number,
        "status": row.status,
        "subject": row.subject,
        "created_at": row.created_at,
        "is_open": row.is_open,
        "customer_id": customer.pk,
        "team_id": row.team_id,
    }
    # `from_db` takes the values in the model's column order.
    names = [f.attname for f in Ticket._meta.concrete_fields if f.attname in known]
    db = Ticket.objects.db
    ticket = Ticket.from_db(db, names, [known[name] for name in names])
    ticket.customer = customer
    if row.team_id is not None:
        ticket.team = Team.from_db(db, ["id", "name"], (row.team_id, row.team_name))
    return ticket


def ticket_for(user: Any, number: str, *, for_page: bool = False) -> Ticket | None:
    """The ticket with this number, if the user may open it. `for_page`: what the ticket page
    reads of it besides, in the same query or one more: `newest_message_id` (what its reply
    form says it saw, 0 for none) and the customer's contacts (`customer_identities`)."""
    tickets = tickets_visible_to(user).select_related("customer", "team", "assignee__user")
    if for_page:
        newest = Message.objects.filter(ticket=OuterRef("pk")).order_by("-pk").values("pk")[:1]
        tickets = tickets.annotate(
            newest_message_id=Coalesce(Subquery(newest), Value(0))
        ).prefetch_related(
            Prefetch("customer__identities", queryset=ContactIdentity.objects.order_by("pk"))
        )
    return tickets.filter(number=number).first()


def customer_identities(customer: Customer) -> list[ContactIdentity]:
    """The customer's contacts in the order they were added; read once per page when the
    customer came from `ticket_for(..., for_page=True)`."""
    if "identities" in getattr(customer, "_prefetched_objects_cache", {}):
        return list(customer.identities.all())
    return list(customer.identities.order_by("pk"))


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    next_cursor: str | None


QUEUE_VIEWS = ("team", "mine", "unassigned", "at_risk")
QUEUE_SORTS = ("priority", "due")  # and the columns of tickets.sorting, "-" for descending


def _cursor(ticket: Ticket, sort: str) -> str:
    if sort == "due":
        if ticket.sla_due_at is None:
            return f"n_{ticket.pk}"
        return f"d_{ticket.sla_due_at.isoformat()}_{ticket.pk}"
    return f"{ticket.priority_rank}_{ticket.created_at.isoformat()}_{ticket.pk}"


def _after_cursor(tickets: QuerySet[Ticket], cursor: str, sort: str) -> QuerySet[Ticket]:
    """Rows strictly after the cursor in the sort order; a malformed cursor means page one."""
    parts = cursor.split("_")
    try:
        if sort == "due":
            if parts[0] == "n" and len(parts) == 2:
                return tickets.filter(sla_due_at__isnull=True, pk__gt=int(parts[1]))
            if parts[0] == "d" and len(parts) == 3:
                due = parse_datetime(parts[1])
                if due is None:
                    return tickets
                return tickets.filter(
                    Q(sla_due_at__gt=due)
                    | Q(sla_due_at=due, pk__gt=int(parts[2]))
                    | Q(sla_due_at__isnull=True)
                )
            return tickets
        if len(parts) != 3:
            return tickets
        rank, created_at, pk = int(parts[0]), parse_datetime(parts[1]), int(parts[2])
    except ValueError:
        return tickets
    if created_at is None:
        return tickets
    return tickets.filter(
        Q(priority_rank__gt=rank)
        | Q(priority_rank=rank, created_at__gt=created_at)
        | Q(priority_rank=rank, created_at=created_at, pk__gt=pk)
    )


def queue_tickets(
    *, user: Any, view: str = "team", filters: TicketFilters | None = None
) -> QuerySet[Ticket]:
    """The tickets of a queue view (as `queue_page`), unordered: for a page or a count."""
    tickets = filters_apply(
        Ticket.objects.all(), filters or TicketFilters(), default_status=STATUS_OPEN
    )
    if view == "mine":
        return tickets.filter(assignee__user=user)
    teams = team_ids_for(user)
    if teams is not None:
        tickets = tickets.filter(team_id__in=teams)
    if view == "unassigned":
        tickets = tickets.filter(assignee__isnull=True)
    elif view == "at_risk":
        tickets = tickets.filter(sla_state__in=[SlaState.AT_RISK, SlaState.BREACHED])
    return tickets


def queue_page(
    *,
    user: Any,
    view: str = "team",
    sort: str = "priority",
    cursor: str = "",
    size: int = QUEUE_PAGE_SIZE,
    filters: TicketFilters | None = None,
) -> QueuePage:
    """One page of open tickets, by keyset.

    `view` is "mine" (assigned to the user), "unassigned", "at_risk" (SLA warned or breached)
    or "team" (every open ticket of the user's teams). `sort` is "priority" (urgent first,
    then VIP, then oldest) or "due" (next SLA deadline first; tickets with none last), or
    any column of `tickets.sorting.COLUMNS`, "-column" for descending. `filters` narrow
    it further (tickets.filters; without a status filter, open tickets only).
    Two queries whatever the page: the tickets with their joins, nothing else.
    """
    tickets = queue_tickets(user=user, view=view, filters=filters)
    column, descending = sorting.sort_parse(sort)
    if column not in QUEUE_SORTS or descending:
        if cursor:
            tickets = sorting.column_after(tickets, column, descending, cursor)
        rows = list(
            tickets.select_related("customer", "team", "assignee__user").order_by(
                *sorting.column_order(column, descending)
            )[: size + 1]
        )
        more = len(rows) > size
        rows = rows[:size]
        return QueuePage(
            tickets=rows,
            next_cursor=sorting.column_cursor(rows[-1], column) if more and rows else None,
        )
    if sort not in QUEUE_SORTS:
        sort = "priority"
    if cursor:
        tickets = _after_cursor(tickets, cursor, sort)
    order = (
        [F("sla_due_at").asc(nulls_last=True), "pk"]
        if sort == "due"
        else ["priority_rank", "created_at", "pk"]
    )
    tickets = queue_sla_annotate(tickets)
    rows = list(
        tickets.select_related(
            "customer", "team", "assignee__user", "last_transfer__from_team"
        ).order_by(*order)[: size + 1]
    )
    more = len(rows) > size
    rows = rows[:size]
    return QueuePage(tickets=rows, next_cursor=_cursor(rows[-1], sort) if more and rows else None)


def calls_visible_to(user: Any) -> QuerySet[Call]:
    """Calls of the user's teams and calls they answered (all of them for supervisors)."""
    if not has_role(user, Role.AGENT):
        return Call.objects.none()
    teams = team_ids_for(user)
    if teams is None:
        return Call.objects.all()
    return Call.objects.filter(Q(team_id__in=teams) | Q(answered_by__user=user))


def call_for(user: Any, pk: int) -> Call | None:
    return (
        calls_visible_to(user)
        .select_related("customer", "ticket", "team", "answered_by__user")
        .filter(pk=pk)
        .first()
    )


TIMELINE_PAGE_SIZE = 50
# The most entries a live refresh of the ticket page brings (everything from the oldest entry
# the page first showed); more than that, and it brings the newest with an "earlier" link.
TIMELINE_LIVE_MAX = 200
# How much of a message the timeline shows before a "show more" link. A little more is read,
# to cut where no number is cut in two (tickets.masking.safe_cut).
MESSAGE_HEAD_CHARS = 2000
_HEAD_READ_CHARS = MESSAGE_HEAD_CHARS + CUT_SLACK
# "Show more" brings this much more of a long message at a time: a megabyte at once would be
# a slow page to mask and to draw.
MESSAGE_PIECE_CHARS = 20_000

# The order of entries that share a timestamp: messages, then events, calls, and the lines
# for tickets the viewer may not open.
_RANK_MESSAGE, _RANK_EVENT, _RANK_CALL, _RANK_RESTRICTED = 0, 1, 2, 3
# Entries of apps above the core (tickets.hooks) rank after these, one rank per source.
_RANK_EXTRA = 4


def message_cuts(text: str, piece: int) -> tuple[int, int]:
    """Where piece `piece` of a message's text starts and ends: piece 0 is the beginning the
    timeline shows (MESSAGE_HEAD_CHARS), each next one MESSAGE_PIECE_CHARS more. Pieces are
    counted, not addressed by offset, and cut where no number is cut in two, so that each
    piece, masked on its own, shows no more of a number than the whole text masked would."""
    start, end = 0, safe_cut(text, MESSAGE_HEAD_CHARS)
    for _piece in range(piece):
        start, end = end, safe_cut(text, end + MESSAGE_PIECE_CHARS)
    return start, end


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    ticket: Ticket | None  # None only for a call that belongs to no ticket
    message: Message | None
    event: TicketEvent | None
    call: Call | None = None
    # A ticket of the customer that the viewer may not open: shown as one line (its number,
    # status and team), nothing of its messages, notes or trail.
    restricted: bool = False
    # An entry an app above the core added (tickets.hooks), with its source's rank.
    extra: TimelineExtra | None = None
    extra_rank: int = 0
    # A message's attachments.
    files: tuple[Attachment, ...] = ()

    @property
    def rank(self) -> int:
        if self.extra is not None:
            return self.extra_rank
        if self.message is not None:
            return _RANK_MESSAGE
        if self.event is not None:
            return _RANK_EVENT
        if self.call is not None:
            return _RANK_CALL
        return _RANK_RESTRICTED

    @property
    def pk(self) -> int:
        if self.extra is not None:
            return self.extra.pk
        row = self.message or self.event or self.call or self.ticket
        assert row is not None
        return row.pk

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}_{self.rank}_{self.pk}"


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]  # oldest first
    earlier: str | None  # the cursor of the page before this one; None: this is the first


def _timeline_cursor(cursor: str) -> tuple[datetime, int, int] | None:
    parts = cursor.split("_")
    if len(parts) != 3:
        return None
    at = parse_datetime(parts[0])
    if at is None or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return at, int(parts[1]), int(parts[2])


def _before(field: str, rank: int, cursor: tuple[datetime, int, int] | None) -> Q:
    """Rows of one kind (`rank`) that come strictly before the cursor in timeline order."""
    if cursor is None:
        return Q()
    at, cursor_rank, pk = cursor
    if rank < cursor_rank:
        return Q(**{f"{field}__lte": at})
    if rank > cursor_rank:
        return Q(**{f"{field}__lt": at})
    return Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk})


def _window(
    field: str,
    rank: int,
    *,
    before: tuple[datetime, int, int] | None,
    since: tuple[datetime, int, int] | None,
) -> Q:
    """Rows of one kind strictly before `before` (None: up to now) and, with `since`, at or
    after it in timeline order."""
    inside = _before(field, rank, before)
    if since is not None:
        inside &= ~_before(field, rank, since)
    return inside


def customer_timeline(
    *,
    customer: Customer,
    viewer: Any,
    include_internal: bool,
    before: str = "",
    since: str = "",
    size: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """One page of the customer's timeline as `viewer` may see it, newest `size` entries
    before the cursor `before` (a malformed cursor means the latest page), oldest first.
    With `since` (a cursor: the oldest entry a page showed), every entry from that one on
    instead, at most TIMELINE_LIVE_MAX (the newest; `earlier` then says there are more): what
    a live refresh needs to keep the earlier pages an agent has opened above it.

    The messages and events of every ticket of the customer that the viewer may open
    (`tickets_visible_to`), any channel, with (`include_internal`) internal notes, the trail
    and phone calls the viewer may see (`calls_visible_to`). A ticket the viewer may not open
    is one line (`restricted`) at its opening: never its messages, notes or trail.

    Messages come with `body_head` (the first MESSAGE_HEAD_CHARS and a little more) and
    `body_length` instead of the whole body, so a page stays small whatever customers write.
    """
    cursor = _timeline_cursor(before) if before else None
    start = _timeline_cursor(since) if since else None
    if start is not None:
        size = TIMELINE_LIVE_MAX
    window = partial(_window, before=cursor, since=start)
    open_list, closed_list = _tickets_seen(customer, viewer)
    newest = Message.objects.filter(ticket_id__in_ids=open_list).filter(
        window("created_at", _RANK_MESSAGE)
    )
    if not include_internal:
        newest = newest.filter(direction__in=[Direction.IN, Direction.OUT])
    # The page's messages are picked by id first, without joins: joined to their tickets,
    # a customer with hundreds of tickets made PostgreSQL hash the whole tickets table to
    # sort their messages (bench/search.py).
    page_ids = list(newest.order_by("-created_at", "-pk").values_list("pk", flat=True)[: size + 1])
    # Their tickets and attachments are read on their own, not joined or prefetched: a
    # ticket's many columns and Django's prefetching cost more than the page's messages
    # (bench/search.py); most messages have no attachment, so whether one has is a column of
    # the messages' query, and the attachments are read only for those that have some.
    messages = list(
        Message.objects.filter(pk__in_ids=page_ids)
        .defer("body", "html", "quoted_text")
        .annotate(
            body_head=Substr("body", 1, _HEAD_READ_CHARS),
            body_length=Length("body"),
            quoted_head=Substr("quoted_text", 1, _HEAD_READ_CHARS),
            quoted_length=Length("quoted_text"),
            has_files=Exists(Attachment.objects.filter(message=OuterRef("pk"))),
        )
        .select_related("author__user")
        .order_by("-created_at", "-pk")
    )
    files: dict[int, list[Attachment]] = {}
    with_files = [message.pk for message in messages if message.has_files]
    if with_files:
        for attachment in Attachment.objects.filter(message_id__in_ids=with_files).order_by("pk"):
            files.setdefault(attachment.message_id, []).append(attachment)
    events = (
        list(
            TicketEvent.objects.filter(ticket_id__in_ids=open_list)
            .filter(window("created_at", _RANK_EVENT))
            .select_related("actor")
            .order_by("-created_at", "-pk")[: size + 1]
        )
        if include_internal
        else []
    )
    # What the timeline shows of a ticket is its number (read with the customer's tickets).
    shown = {row.ticket_id for row in messages} | {row.ticket_id for row in events}
    by_id = {
        row.pk: _ticket_of(row, customer)
        for row in _customer_tickets(customer, viewer)
        if row.pk in shown
    }
    entries = []
    for message in messages:
        message.ticket = by_id[message.ticket_id]
        entries.append(
            TimelineEntry(
                at=message.created_at,
                ticket=message.ticket,
                message=message,
                event=None,
                files=tuple(files.get(message.pk, ())),
            )
        )
    for event in events:
        event.ticket = by_id[event.ticket_id]
        entries.append(
            TimelineEntry(at=event.created_at, ticket=event.ticket, message=None, event=event)
        )
    if include_internal:
        calls = (
            calls_visible_to(viewer)
            .filter(customer=customer)
            .filter(window("started_at", _RANK_CALL))
            .prefetch_related("ticket", "answered_by__user")
            .order_by("-started_at", "-pk")[: size + 1]
        )
        entries.extend(
            TimelineEntry(at=c.started_at, ticket=c.ticket, message=None, event=None, call=c)
            for c in calls
        )
    restricted = (
        Ticket.objects.filter(pk__in_ids=closed_list)
        .filter(window("created_at", _RANK_RESTRICTED))
        .select_related("team")
        .only("pk", "number", "status", "team__name", "created_at")
        .order_by("-created_at", "-pk")[: size + 1]
        if closed_list
        else []
    )
    entries.extend(
        TimelineEntry(at=t.created_at, ticket=t, message=None, event=None, restricted=True)
        for t in restricted
    )
    for offset, (_name, source) in enumerate(hooks.timeline_sources()):
        rank = _RANK_EXTRA + offset
        for extra in source(customer, partial(window, rank=rank), size + 1):
            entries.append(
                TimelineEntry(
                    at=extra.at,
                    ticket=None,
                    message=None,
                    event=None,
                    extra=extra,
                    extra_rank=rank,
                )
            )
    entries.sort(key=lambda entry: (entry.at, entry.rank, entry.pk), reverse=True)
    page = entries[:size]
    earlier = page[-1].cursor if len(entries) > size else None
    page.reverse()
    return TimelinePage(entries=page, earlier=earlier)


def message_for(user: Any, pk: int) -> Message | None:
    """A message of a ticket the user may open."""
    return (
        Message.objects.select_related("ticket")
        .filter(pk=pk, ticket__in=tickets_visible_to(user))
        .first()
    )


@dataclass(frozen=True)
class OtherTicket:
    ticket: Ticket
    may_open: bool  # False: the page shows its number, status and team only


def customer_tickets_for(
    *,
    customer: Customer,
    viewer: Any,
    exclude: Ticket | None = None,
    only_open: bool = False,
    limit: int = 20,
) -> list[OtherTicket]:
    """The customer's tickets (less `exclude`; with `only_open`, the open ones), newest first,
    each with whether the viewer may open it. When the customer's tickets were read already
    for this viewer (the ticket page's timeline: `_customer_tickets`), made from those rows
    without a query."""
    if getattr(viewer, "pk", None) in _customer_tickets_memo(customer):
        rows = [
            row
            for row in _customer_tickets(customer, viewer)
            if (exclude is None or row.pk != exclude.pk) and (row.is_open or not only_open)
        ]
        rows.sort(key=lambda row: (row.created_at, row.pk), reverse=True)
        return [
            OtherTicket(ticket=_ticket_of(row, customer), may_open=bool(row.may_open))
            for row in rows[:limit]
        ]
    tickets = customer.tickets.all()
    if exclude is not None:
        tickets = tickets.exclude(pk=exclude.pk)
    if only_open:
        tickets = tickets.filter(is_open=True)
    # What the lists show of each: a ticket's other columns are long or many.
    found = list(
        tickets.select_related("team")
        .only("number", "status", "subject", "created_at", "customer", "team__name")
        .annotate(may_open=_may_open(viewer))
        .order_by("-created_at", "-pk")[:limit]
    )
    return [OtherTicket(ticket=ticket, may_open=bool(ticket.may_open)) for ticket in found]


def customer_other_tickets(*, ticket: Ticket, viewer: Any, limit: int = 20) -> list[OtherTicket]:
    """The other tickets of the ticket's customer, as `customer_tickets_for`."""
    return customer_tickets_for(
        customer=ticket.customer, viewer=viewer, exclude=ticket, limit=limit
    )


def public_messages(*, ticket: Ticket) -> QuerySet[Message]:
    """What a customer may see of a ticket: their messages and our replies, never notes."""
    return ticket.messages.filter(direction__in=[Direction.IN, Direction.OUT]).order_by(
        "created_at", "pk"
    )


def customer_contacts_masked(customer: Customer) -> list[dict[str, str]]:
    return [
        {"kind": identity.kind, "value": mask_identity(identity.kind, identity.value)}
        for identity in sorted(customer_identities(customer), key=lambda i: (i.kind, i.value))
    ]


def notifications_unread(*, user: Any, limit: int = 10) -> list[Notification]:
    """The user's delivered, unread notifications, newest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Notification.objects.filter(user=user, delivered_at__isnull=False, read_at__isnull=True)
        # Of its ticket, the lists show the number (a link to it).
        .select_related("ticket")
        .only("user", "ticket__number", "kind", "text", "created_at", "delivered_at", "read_at")
        .order_by("-created_at")[:limit]
    )


def sla_compliance(*, since: datetime, until: datetime, by: str) -> list[Compliance]:
    """Share of SLA milestones met on time, per `by`: "milestone", "policy", "team" or
    "agent" (the ticket's team or assignee now), over clocks that ended in [since, until).
    One query. Tickets' clocks only: apps above the core that keep clocks of their own on
    the SLA engine (after-sales case steps) give them negative subject ids."""
    clocks = SlaClock.objects.filter(subject_id__gt=0)
    if by == "team":
        clocks = clocks.annotate(
            group=Subquery(Ticket.objects.filter(pk=OuterRef("subject_id")).values("team__name"))
        )
    elif by == "agent":
        clocks = clocks.annotate(
            group=Subquery(
                Ticket.objects.filter(pk=OuterRef("subject_id")).values("assignee__user__username")
            )
        )
    elif by == "policy":
        clocks = clocks.annotate(group=F("policy__name"))
    elif by == "milestone":
        clocks = clocks.annotate(group=F("milestone"))
    else:
        raise ValueError(f"unknown grouping {by!r}")
    return compliance(clocks=clocks, since=since, until=until, by="group")


def article_suggestions(*, ticket: Ticket, limit: int = 3) -> list[dict[str, object]]:
    """Knowledge-base articles for the agent on this ticket: those the bot attached when it
    handed off, else a search for the customer's latest message."""
    if ticket.suggestions:
        return _formatted_answers(list(ticket.suggestions)[:limit])
    latest = ticket.messages.filter(direction=Direction.IN).order_by("-created_at").first()
    if latest is None:
        return []
    from kb.search import suggest_for

    try:
        hits = suggest_for(latest.body, limit=limit)
    except Exception:  # suggestions must never break the ticket page
        logger.exception("article suggestions failed for ticket %s", ticket.pk)
        return []
    return _formatted_answers(
        [{"article_id": h.article_id, "title": h.title, "answer": h.answer} for h in hits]
    )


def _formatted_answers(suggestions: list[dict[str, object]]) -> list[dict[str, object]]:
    """The suggestions with each answer as the article's text with its formatting (the
    search index keeps it on one line): inserted into a reply, it keeps its paragraphs and
    lists."""
    from kb.selectors import article_answers

    ids = [pk for item in suggestions if isinstance(pk := item.get("article_id"), int)]
    answers = article_answers(article_ids=ids)
    formatted = []
    for item in suggestions:
        pk = item.get("article_id")
        answer = answers.get(pk) if isinstance(pk, int) else None
        formatted.append({**item, "answer": answer} if answer else item)
    return formatted


# --- customer merges ---------------------------------------------------------------------

# An order number as customers write it: after 订单(号)/order (no./number/#), 6–32 letters,
# digits and dashes with at least one digit.
ORDER_NUMBER = re.compile(
    r"(?:订单(?:编号|号码|号)?|order\s*(?:no\.?|number|#|id)?)\s*[:：#]?\s*"
    r"((?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{5,31})",
    re.IGNORECASE,
)
SUGGESTION_SCAN_MESSAGES = 50


@dataclass(frozen=True)
class MergeSuggestion:
    customer: Customer
    reason: str
    open_tickets: int


def order_numbers_in(text: str) -> set[str]:
    return {match.group(1).upper() for match in ORDER_NUMBER.finditer(text or "")}


def phones_in(text: str) -> set[str]:
    """Phone numbers written in free text (an email signature, a message), in E.164."""
    found = set()
    for match in phonenumbers.PhoneNumberMatcher(text or "", "CN"):
        if phonenumbers.is_valid_number(match.number):
            found.add(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
    return found


def merge_suggestions(*, customer: Customer, limit: int = 5) -> list[MergeSuggestion]:
    """Other customer records that are probably the same person: a phone number written in
    this customer's messages (an email signature) that another customer uses, or an order
    number that this customer's messages and another customer's share (as an identity, or in
    their tickets: found through the search documents' index, not by reading every message).
    Merged-away records are never suggested."""
    # Imported here: the search module reads the visibility rules from this one.
    from tickets.search import order_word, words_match

    texts = list(
        Message.objects.filter(ticket__customer=customer, direction=Direction.IN)
        .order_by("-created_at")
        .values_list("body", flat=True)[:SUGGESTION_SCAN_MESSAGES]
    )
    phones: set[str] = set()
    orders: set[str] = set()
    for text in texts:
        phones |= phones_in(text)
        orders |= order_numbers_in(text)
    own = set(customer.identities.values_list("kind", "value"))
    orders |= {value.upper() for kind, value in own if kind == IdentityKind.ORDER}
    phones -= {value for kind, value in own if kind == IdentityKind.PHONE}
    others = Customer.objects.exclude(pk=customer.pk).filter(merged_into__isnull=True)
    reasons: dict[int, str] = {}
    for identity in ContactIdentity.objects.filter(
        kind=IdentityKind.PHONE, value__in=sorted(phones), customer__in=others
    ).order_by("value"):
        reasons.setdefault(
            identity.customer_id,
            _("uses the phone number %(phone)s written in this customer's messages")
            % {"phone": mask_identity(IdentityKind.PHONE, identity.value)},
        )
    for order in sorted(orders):
        owners = set(
            ContactIdentity.objects.filter(
                kind=IdentityKind.ORDER, value__iexact=order, customer__in=others
            ).values_list("customer_id", flat=True)
        )
        owners |= set(
            words_match(Ticket.objects.filter(customer__in=others), [order_word(order)])
            .values_list("customer_id", flat=True)
            .distinct()[:limit]
        )
        for owner in sorted(owners):
            reason = _("mentions the same order number %(order)s") % {"order": order}
            reasons.setdefault(owner, reason)
        if len(reasons) >= limit:
            break
    ids = list(reasons)[:limit]
    found = {
        c.pk: c
        for c in Customer.objects.filter(pk__in=ids).annotate(
            open_count=Count("tickets", filter=Q(tickets__is_open=True))
        )
    }
    return [
        MergeSuggestion(customer=found[pk], reason=reasons[pk], open_tickets=found[pk].open_count)
        for pk in ids
        if pk in found
    ]


def merges_recent(*, limit: int = 50) -> QuerySet[CustomerMerge]:
    return CustomerMerge.objects.select_related("source", "target", "actor", "undone_by")[:limit]


def messages_unseen(*, ticket: Ticket, seen_message_id: int, agent: Agent) -> QuerySet[Message]:
    """What arrived on the ticket after the message `seen_message_id` that an agent about to
    reply should read first: the customer's messages and other people's replies (not the
    agent's own, not notes, not Kefu's automatic acknowledgements), oldest first."""
    return (
        ticket.messages.filter(pk__gt=seen_message_id)
        .filter(
            Q(direction=Direction.IN)
            | (Q(direction=Direction.OUT, is_automatic=False) & ~Q(author=agent))
        )
        .select_related("author__user")
        .order_by("pk")
    )


def message_last_id(*, ticket: Ticket) -> int:
    """The newest message's id on the ticket (0 for none): what a reply form says it saw."""
    last = ticket.messages.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


def queue_sla_annotate(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What the queue's SLA column needs besides the next due time, in the same query:
    `sla_breached_since`, when the earliest of the ticket's running clocks that breached was
    due (None when none did), and `sla_paused`, whether a running clock is paused. The
    ticket's `sla_due_at` leaves breached and paused clocks out: after a breach it is the
    next milestone's deadline, which says nothing about how late the ticket already is."""
    running = SlaClock.objects.filter(subject_id=OuterRef("pk"), satisfied_at__isnull=True)
    return tickets.annotate(
        sla_breached_since=Subquery(
            running.filter(breached_at__isnull=False).order_by("due_at").values("due_at")[:1]
        ),
        sla_paused=Exists(running.filter(paused_at__isnull=False)),
    )


@dataclass(frozen=True)
class Bell:
    unread: list[Notification]  # the newest unread, at most BELL_LIST_SIZE
    count: int  # all unread
    play_sound: bool


# The header bell's list: the newest unread; its count says how many there are in all.
BELL_LIST_SIZE = 10


def bell_for(*, user: Any) -> Bell:
    """The header bell of a staff user: delivered, unread notifications and the sound setting.
    Two queries, three when the list is full (then the count is asked separately)."""
    if not getattr(user, "is_authenticated", False):
        return Bell(unread=[], count=0, play_sound=False)
    unread = notifications_unread(user=user, limit=BELL_LIST_SIZE)
    count = len(unread)
    if count >= BELL_LIST_SIZE:
        count = Notification.objects.filter(
            user=user, delivered_at__isnull=False, read_at__isnull=True
        ).count()
    settings = _alert_settings(user)
    return Bell(unread=unread, count=count, play_sound=settings.play_sound if settings else False)


def _alert_settings(user: Any) -> AlertSettings | None:
    """The user's alert settings (None: the defaults): from their agent when this request
    read it already (`agent_for`, which reads them along), else one query."""
    cache = _request_agents.get()
    agent = cache.get(user.pk) if cache is not None else None
    if agent is not None:
        try:
            return agent.user.kefu_alert_settings
        except AlertSettings.DoesNotExist:
            return None
    return AlertSettings.objects.filter(user=user).first()
