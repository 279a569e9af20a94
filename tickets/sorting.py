"""Sorting the queue by any of its columns, paged by keyset.

A sort is a column name, ascending, or the name after "-", descending. The order is always
the column, then the ticket's id in the same direction, with empty values (no team, no
assignee, no SLA deadline) last either way; a page's cursor is the last row's value and id,
so the next page starts strictly after it, however many tickets arrive meanwhile.

"priority" (tier rank, then oldest) and "due" (next SLA deadline) keep their own cursors
(tickets.selectors.queue_page); the others are here.
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils.dateparse import parse_datetime

from tickets.models import Ticket


@dataclass(frozen=True)
class Column:
    field: str  # the ORM path sorted on
    nullable: bool = False
    is_datetime: bool = False


# Sortable columns by the name the page uses. Team, assignee and customer sort by name.
COLUMNS: dict[str, Column] = {
    # Ascending, these two page by the selector's own cursors (the tier rank with the age).
    "priority": Column("priority_rank"),
    "due": Column("sla_due_at", nullable=True, is_datetime=True),
    "number": Column("number"),
    "subject": Column("subject"),
    "customer": Column("customer__name"),
    "channel": Column("channel"),
    "status": Column("status"),
    "team": Column("team__name", nullable=True),
    "assignee": Column("assignee__user__username", nullable=True),
    "opened": Column("created_at", is_datetime=True),
    "sla_state": Column("sla_state"),
}
SORTS = tuple(COLUMNS)


def sort_parse(sort: str) -> tuple[str, bool]:
    """(column, descending); an unknown column is "priority"."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    if column not in SORTS:
        return "priority", False
    return column, descending


def _value_of(ticket: Ticket, path: str) -> Any:
    value: Any = ticket
    for part in path.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def column_order(column: str, descending: bool) -> list[OrderBy]:
    field = COLUMNS[column].field
    if descending:
        return [F(field).desc(nulls_last=True), F("pk").desc()]
    return [F(field).asc(nulls_last=True), F("pk").asc()]


def column_cursor(ticket: Ticket, column: str) -> str:
    spec = COLUMNS[column]
    value = _value_of(ticket, spec.field)
    if isinstance(value, datetime):
        value = value.isoformat()
    payload = json.dumps([value, ticket.pk], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def column_after(
    tickets: QuerySet[Ticket], column: str, descending: bool, cursor: str
) -> QuerySet[Ticket]:
    """Rows strictly after the cursor in the column's order; a malformed cursor means
    page one."""
    spec = COLUMNS[column]
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, TypeError):
        return tickets
    if not isinstance(pk, int) or not (value is None or isinstance(value, str | int)):
        return tickets
    if value is not None and spec.is_datetime:
        value = parse_datetime(value) if isinstance(value, str) else None
        if value is None:
            return tickets
    field = spec.field
    further = "lt" if descending else "gt"
    if value is None:
        # Empty values come last: after an empty one, only empty ones further on by id.
        return tickets.filter(**{f"{field}__isnull": True, f"pk__{further}": pk})
    after = Q(**{f"{field}__{further}": value}) | Q(**{field: value, f"pk__{further}": pk})
    if spec.nullable:
        after |= Q(**{f"{field}__isnull": True})
    return tickets.filter(after)
