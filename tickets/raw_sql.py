"""Where the core leaves the ORM, and why (docs/adr/0005-where-kefu-leaves-the-orm.md).

Each function here is one statement on the intake path that every inbound message runs, or
on a batch's path (`rows_insert`, `rows_update`), kept in SQL because the ORM's version
measured slower on the benchmark that runs that path. Table
and column names come from the models (`_meta.db_table`, quoted by the connection); values
are always parameters. Everything else in the core goes through the ORM.
"""

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from django.db import models, transaction
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from tickets.models import ContactIdentity, Ticket, TicketPromise


def _quote(name: str) -> str:
    return transaction.get_connection().ops.quote_name(name)


def identities_insert(
    *, customer_id: int, identities: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Insert (kind, value) identities for a customer, skipping any that exist (ON CONFLICT DO
    NOTHING, as `bulk_create(ignore_conflicts=True)` would), and return those actually
    inserted (RETURNING): usually all, so intake needs no read to learn whether a concurrent
    intake won one."""
    connection = transaction.get_connection()
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = ", ".join(_quote(name) for name in ("customer_id", "kind", "value", "created_at"))
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(identities))
    params: list[object] = []
    for kind, value in identities:
        params += [customer_id, kind, value, created_at]
    sql = (
        f"INSERT INTO {_quote(ContactIdentity._meta.db_table)} ({columns}) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING {_quote('kind')}, {_quote('value')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(kind, value) for kind, value in cursor.fetchall()}


def ticket_id_next() -> int:
    """The next id of the tickets' sequence, drawn before the row is inserted so that its
    number (which contains the id) goes in with it: one INSERT, no UPDATE after it.

    PostgreSQL has a sequence of its own. SQLite keeps an AUTOINCREMENT table's last id in
    `sqlite_sequence`; bumping it there takes the database's write lock, so two writers never
    draw the same id, and an INSERT with an explicit id keeps the counter at the maximum."""
    db = transaction.get_connection()
    table = Ticket._meta.db_table
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            return int(cursor.fetchone()[0])
        cursor.execute("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = %s", [table])
        if cursor.rowcount == 0:
            # No ticket was ever inserted: the table has no counter row yet.
            sql = f"SELECT %s, COALESCE(MAX(id), 0) + 1 FROM {_quote(table)}"  # noqa: S608
            cursor.execute(f"INSERT INTO sqlite_sequence (name, seq) {sql}", [table])
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        return int(cursor.fetchone()[0])


_PROMISE_SQL = """
WITH owner AS (
    SELECT customer_id FROM {identity}
    WHERE {identity_match}
    ORDER BY CASE kind {strength} ELSE 99 END
    LIMIT 1
), open_ticket AS (
    SELECT t.id, t.number FROM {ticket} t JOIN owner ON t.customer_id = owner.customer_id
    WHERE t.channel = %(channel)s AND t.is_open
    ORDER BY t.created_at DESC
    LIMIT 1
), promise AS (
    INSERT INTO {promise} AS p (channel, kind, value, ticket_id, promised_at)
    SELECT %(channel)s, %(kind)s, %(value)s,
        nextval(pg_get_serial_sequence(%(ticket_table)s, 'id')), %(now)s
    WHERE NOT EXISTS (SELECT 1 FROM open_ticket)
    ON CONFLICT (channel, kind, value) DO UPDATE SET
        ticket_id = CASE WHEN {ended} THEN EXCLUDED.ticket_id ELSE p.ticket_id END,
        promised_at = CASE WHEN {ended} THEN EXCLUDED.promised_at ELSE p.promised_at END
    RETURNING p.ticket_id, p.promised_at
)
SELECT id, number, NULL FROM open_ticket
UNION ALL
SELECT ticket_id, NULL, promised_at FROM promise
"""

# The promised ticket has ended, or never opened and never will.
_PROMISE_ENDED_SQL = """(
    EXISTS (SELECT 1 FROM {ticket} t WHERE t.id = p.ticket_id AND NOT t.is_open)
    OR (p.promised_at < %(abandoned_before)s
        AND NOT EXISTS (SELECT 1 FROM {ticket} t WHERE t.id = p.ticket_id))
)"""


def promise_claim(
    *,
    channel: str,
    identities: list[tuple[str, str]],
    strength: list[str],
    now: datetime,
    abandoned_before: datetime,
) -> tuple[int, str | None, datetime | None]:
    """One statement (PostgreSQL): the sender's open ticket on the channel, of the customer
    their strongest identity names, as (id, number, None); otherwise a ticket id reserved from
    the tickets' sequence and promised to their strongest identity, as (id, None, promised
    at). An existing promise is kept unless its ticket ended or was abandoned."""
    rank = {kind: position for position, kind in enumerate(strength)}
    kind, value = min(identities, key=lambda pair: rank.get(pair[0], len(rank)))
    params: dict[str, object] = {"channel": channel, "kind": kind, "value": value}
    matches = []
    for index, (identity_kind, identity_value) in enumerate(identities):
        matches.append(f"(kind = %(k{index})s AND value = %(v{index})s)")
        params[f"k{index}"], params[f"v{index}"] = identity_kind, identity_value
    cases = " ".join(f"WHEN %(s{position})s THEN {position}" for position in range(len(strength)))
    params.update({f"s{position}": k for position, k in enumerate(strength)})
    params["now"], params["abandoned_before"] = now, abandoned_before
    params["ticket_table"] = Ticket._meta.db_table
    tables = {
        "identity": _quote(ContactIdentity._meta.db_table),
        "ticket": _quote(Ticket._meta.db_table),
        "promise": _quote(TicketPromise._meta.db_table),
    }
    sql = _PROMISE_SQL.format(
        identity_match=" OR ".join(matches),
        strength=cases,
        ended=_PROMISE_ENDED_SQL.format(**tables),
        **tables,
    )
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, params)
        ticket_id, number, promised_at = cursor.fetchone()
    return int(ticket_id), number, promised_at


def _array_type(field: "models.Field[Any, Any]", db: Any) -> str:
    """The column's type for an array cast, without a length: a value too long for a
    `varchar(n)` column fails on assignment, as in a plain INSERT, instead of being cut by
    the cast."""
    return re.sub(r"\(\d+\)$", "", cast(str, field.db_type(db)))


def _array_placeholder(db: Any, field: "models.Field[Any, Any]", values: list[Any]) -> str:
    """`%b::type[]`: the array in binary, where the connection binds parameters on the server
    (ADR 13). A column of nothing but NULLs has no element type for a binary array, and a
    connection that merges parameters into the text on the client has no binary at all:
    `%s`, the array as text."""
    binary = db.settings_dict.get("OPTIONS", {}).get("server_side_binding") is True
    kind = "b" if binary and any(value is not None for value in values) else "s"
    return f"%{kind}::{_array_type(field, db)}[]"


def _column_values(field: "models.Field[Any, Any]", rows: Sequence[Any], db: Any) -> list[Any]:
    """One column's values for the statement, as psycopg sends them. A value of the plain
    Python type of its field goes as it is (psycopg dumps it in binary, as Django would
    have prepared it); a JSON value as its text; anything else (a lazy translation, an int
    for a float) as Django prepares it (`get_db_prep_save`)."""
    attname = field.attname
    values = [getattr(row, attname) for row in rows]
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return [None if value is None else json.dumps(value, cls=encoder) for value in values]
    if isinstance(field, models.DateTimeField):
        return [
            value
            if value is None or (type(value) is datetime and value.tzinfo is not None)
            else field.get_db_prep_save(value, db)
            for value in values
        ]
    plain = next((kind for base, kind in _PLAIN_TYPES if isinstance(field, base)), None)
    return [
        value if value is None or type(value) is plain else field.get_db_prep_save(value, db)
        for value in values
    ]


# The Python type of each kind of field whose values psycopg adapts exactly as Django would
# prepare them; the first kind the field is an instance of counts.
_PLAIN_TYPES: tuple[tuple[type, type], ...] = (
    (models.BooleanField, bool),
    (models.CharField, str),
    (models.TextField, str),
    (models.FloatField, float),
    (models.IntegerField, int),
    (models.ForeignKey, int),
)


def rows_insert(model: type[models.Model], rows: Sequence[Any]) -> list[Any]:
    """Insert new rows of `model` (unsaved instances) in one
    `INSERT … SELECT … FROM unnest(…) RETURNING` statement, each column one array sent in
    binary, and give each instance its primary key, as `bulk_create` does (no signals
    either). The batches on the feedback benchmark write a trail entry, an outbound message
    and a notice or survey per ticket: Django's `bulk_create` prepares every value of every
    row in Python, and psycopg writes its arrays as text, escaping each string with a
    regular expression; together about a fifth of a batch (ADR 0005). Outside PostgreSQL, for
    one row, or when a value is an expression (a database default), it is `bulk_create`."""
    db = transaction.get_connection()
    meta = model._meta
    pk = cast("models.Field[Any, Any]", meta.pk)
    fields = [
        cast("models.Field[Any, Any]", field)
        for field in meta.concrete_fields
        if field is not pk and not getattr(field, "generated", False)
    ]
    if db.vendor != "postgresql" or len(rows) < 2 or not isinstance(pk, AutoFieldMixin):
        return model._default_manager.bulk_create(rows)
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for row in rows:
                field.pre_save(row, add=True)
    columns = [_column_values(field, rows, db) for field in fields]
    if any(hasattr(v, "resolve_expression") for column in columns for v in column):
        return model._default_manager.bulk_create(rows)
    quote = db.ops.quote_name
    arrays = ", ".join(
        _array_placeholder(db, field, column) for field, column in zip(fields, columns, strict=True)
    )
    template = "INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) RETURNING {pk}"
    sql = template.format(
        table=quote(meta.db_table),
        names=", ".join(quote(field.column) for field in fields),
        arrays=arrays,
        pk=quote(pk.column),
    )
    with db.cursor() as cursor:
        cursor.execute(sql, columns)
        ids = [row[0] for row in cursor.fetchall()]
    for row, pk_value in zip(rows, ids, strict=True):
        setattr(row, pk.attname, pk_value)
        row._state.adding = False
        row._state.db = db.alias
    return list(rows)


def rows_update(model: type[models.Model], rows: Sequence[Any], fields: Sequence[str]) -> None:
    """Write `fields` of many rows of `model`, each its own values, in one
    `UPDATE … FROM unnest(…)` statement, each column one array sent in binary (a batch of
    status changes: the tickets, their SLA clocks). Django's `bulk_update` builds a
    `CASE WHEN id = … THEN …` expression per row and field; for 500 tickets compiling it
    took about 3.5 s of a 12.8 s batch on the feedback benchmark (ADR 0005, as after-sales
    measured for its cases in ADR 0007). Outside PostgreSQL, or for one row, it is the ORM's."""
    db = transaction.get_connection()
    if db.vendor != "postgresql" or len(rows) < 2:
        model._default_manager.bulk_update(rows, fields)
        return
    quote = db.ops.quote_name
    meta = model._meta
    pk = cast("models.Field[Any, Any]", meta.pk)
    columns = [pk, *(cast("models.Field[Any, Any]", meta.get_field(name)) for name in fields)]
    values = [_column_values(column, rows, db) for column in columns]
    arrays = ", ".join(
        _array_placeholder(db, column, column_values)
        for column, column_values in zip(columns, values, strict=True)
    )
    # Only identifiers of the model go into the text; every value is a parameter.
    template = (
        "UPDATE {table} SET {sets} FROM unnest({arrays}) AS v ({names}) WHERE {table}.{pk} = v.{pk}"
    )
    sql = template.format(
        table=quote(meta.db_table),
        sets=", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:]),
        arrays=arrays,
        names=", ".join(quote(c.column) for c in columns),
        pk=quote(pk.column),
    )
    with db.cursor() as cursor:
        cursor.execute(sql, values)
