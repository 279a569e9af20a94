"""`rows_insert` and `rows_update` write what `bulk_create` and `bulk_update` would: every kind
of column (text, numbers, a flag, times, JSON, a foreign key, NULLs), the primary keys in the
order of the rows, a value too long refused. On PostgreSQL each column goes as one array, in
binary where the connection binds parameters on the server and as text where it does not;
elsewhere they are the ORM's calls."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import DataError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from tests.factories import TeamFactory, intake
from tickets.models import Message, Ticket, TicketEvent
from tickets.raw_sql import rows_insert, rows_update

pytestmark = pytest.mark.django_db

COLUMNS = (
    "ticket_id",
    "direction",
    "channel",
    "author_id",
    "body",
    "delivery_status",
    "delivery_attempts",
    "delivery_due_at",
    "is_automatic",
    "notice",
    "sentiment",
    "created_at",
    "subject",
    "defects",
)


NOW = timezone.now()


def _messages(ticket: Ticket, now: Any = NOW) -> list[Message]:
    return [
        Message(
            ticket=ticket,
            direction="out",
            channel="sms",
            body='您好，"引号" \\ 反斜杠 {花括号}, NULL',
            delivery_status="queued",
            delivery_attempts=2,
            delivery_due_at=now + timedelta(minutes=5),
            is_automatic=True,
            notice="survey:csat",
            sentiment=0,  # an int for a float column
            created_at=now,
            subject=gettext_lazy("Subject"),  # a lazy translation
            defects=["no-date", {"header": "From"}],
        ),
        Message(
            ticket=ticket,
            direction="in",
            channel="sms",
            body="",
            created_at=now - timedelta(seconds=1),
            sentiment=None,
            defects=[],
        ),
        Message(ticket=ticket, direction="note", channel="sms", body="NULL", created_at=now),
    ]


def _stored(ids: list[int]) -> list[tuple[Any, ...]]:
    return list(Message.objects.filter(pk__in=ids).order_by("pk").values_list(*COLUMNS))


@pytest.fixture
def ticket() -> Ticket:
    TeamFactory(is_default=True)
    return intake().ticket


@pytest.fixture(params=["binary", "text"])
def binding(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a PostgreSQL connection may send the arrays (ADR 13)."""
    if request.param == "text" and connection.vendor == "postgresql":
        # The check reads the setting; the cursor in use takes text arrays either way.
        options = connection.settings_dict.setdefault("OPTIONS", {})
        monkeypatch.setitem(options, "server_side_binding", False)
    return str(request.param)


def test_rows_insert_stores_what_bulk_create_stores(ticket: Ticket, binding: str) -> None:
    inserted = rows_insert(Message, _messages(ticket))
    created = Message.objects.bulk_create(_messages(ticket))

    assert [m.pk for m in inserted] == sorted(m.pk for m in inserted)
    assert all(not m._state.adding for m in inserted)
    mine = _stored([m.pk for m in inserted])
    theirs = _stored([m.pk for m in created])
    assert mine == theirs
    assert mine[0][4] == '您好，"引号" \\ 反斜杠 {花括号}, NULL'
    assert (mine[0][10], mine[1][10], mine[0][13]) == (0.0, None, ["no-date", {"header": "From"}])
    assert mine[2][4] == "NULL"  # the word, not a NULL
    # Each instance got its own row's id.
    assert [Message.objects.get(pk=m.pk).body for m in inserted] == [m.body for m in inserted]


def test_rows_insert_refuses_a_value_too_long_for_its_column_on_postgresql(ticket: Ticket) -> None:
    rows = _messages(ticket)
    rows[1].notice = "x" * 41  # notice is varchar(40)

    if connection.vendor != "postgresql":  # bulk_create, and SQLite keeps any length
        rows_insert(Message, rows)
        assert Message.objects.filter(notice="x" * 41).count() == 1
        return
    with pytest.raises(DataError), transaction.atomic():
        rows_insert(Message, rows)
    assert not Message.objects.filter(notice="survey:csat").exists()


def test_rows_insert_of_trail_entries_keeps_their_json(ticket: Ticket) -> None:
    now = timezone.now()
    entries = rows_insert(
        TicketEvent,
        [
            TicketEvent(
                ticket=ticket,
                kind="status",
                data={"from": "open", "to": "resolved"},
                created_at=now,
            ),
            TicketEvent(
                ticket=ticket, kind="notice", data={"to": "短信 · SMS", "n": [1, 2]}, created_at=now
            ),
        ],
    )

    stored = {
        e.pk: (e.kind, e.data) for e in TicketEvent.objects.filter(pk__in=[e.pk for e in entries])
    }
    assert stored == {
        entries[0].pk: ("status", {"from": "open", "to": "resolved"}),
        entries[1].pk: ("notice", {"to": "短信 · SMS", "n": [1, 2]}),
    }
    assert all(e.created_at == now for e in TicketEvent.objects.filter(pk__in=stored))


def test_rows_update_writes_each_row_its_own_values(ticket: Ticket, binding: str) -> None:
    rows = rows_insert(Message, _messages(ticket))
    later = timezone.now() + timedelta(hours=1)
    rows[0].delivery_status, rows[0].delivery_due_at, rows[0].defects = "sent", None, []
    rows[1].delivery_status, rows[1].delivery_due_at, rows[1].defects = "failed", later, ["x"]
    rows[2].delivery_status, rows[2].delivery_due_at, rows[2].defects = "queued", later, {"y": 1}

    rows_update(Message, rows, ["delivery_status", "delivery_due_at", "defects"])

    stored = list(
        Message.objects.filter(pk__in=[m.pk for m in rows])
        .order_by("pk")
        .values_list("delivery_status", "delivery_due_at", "defects")
    )
    assert stored == [("sent", None, []), ("failed", later, ["x"]), ("queued", later, {"y": 1})]
