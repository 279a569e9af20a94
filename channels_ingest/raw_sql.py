"""Where the edge leaves the ORM, and why.

Each function here is one statement that every inbound payload runs on its way in, written
out because the ORM's version cost a web process or a worker more than the statement itself
(see the function's docstring for what it saves); whether each one stays is for the
benchmarks that run that path to say (`bench/intake.py`, `bench/sms.py`, `bench/email.py`).
Table and column names come from the model (`_meta.db_table`, the fields' columns), quoted by
the connection; values are always parameters. Everything else in the edge goes through the
ORM.
"""

from typing import Any, cast

import psycopg
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field

from channels_ingest.models import InboundRecord


def _column(name: str) -> str:
    column = cast("Field[Any, Any]", InboundRecord._meta.get_field(name)).column
    assert column is not None  # a concrete field of the model
    return column


def inbound_insert(*, fields: dict[str, Any]) -> int | None:
    """Insert one inbound record and return its id, or None when (channel, provider id) is
    already stored (a redelivery): one `INSERT … ON CONFLICT DO NOTHING RETURNING id`.

    Skipping the conflict instead of raising needs no savepoint inside a transaction, and in
    autocommit the statement is its own transaction (no BEGIN/COMMIT round trips). Written
    out because the ORM's create cost a web process more than the statement itself."""
    db = transaction.get_connection()
    meta = InboundRecord._meta
    quote = db.ops.quote_name
    model_fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in fields]
    values = [
        field.get_db_prep_save(value, db)
        for field, value in zip(model_fields, fields.values(), strict=True)
    ]
    # Only identifiers of the model go into the text; every value is a parameter.
    sql = "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}, {}) DO NOTHING RETURNING {}".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(quote(field.column) for field in model_fields),
        ", ".join(["%s"] * len(values)),
        quote(_column("channel")),
        quote(_column("provider_id")),
        quote(meta.pk.column),
    )
    with _cursor_for(db, binary=bool(fields.get("raw"))) as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _cursor_for(db: BaseDatabaseWrapper, *, binary: bool) -> Any:
    """Django's cursor, except for raw bytes on PostgreSQL: those go to the server as a binary
    parameter (server-side binding, for this statement only) instead of being spelled out in
    hex inside the SQL text (Django's client-side binding), which the server would then have
    to parse back; for a mail with attachments that was most of the server's work on the
    insert. Still Django's cursor wrapper: errors, execute wrappers and query logging as
    usual."""
    if db.vendor != "postgresql" or not binary:
        return db.cursor()
    db.ensure_connection()
    # Django's wrappers take any DB-API cursor; the stubs name only their own class.
    binding: Any = psycopg.Cursor(db.connection)
    return db.make_debug_cursor(binding) if db.queries_logged else db.make_cursor(binding)


def synchronous_commit_off() -> None:
    """Let the current transaction commit without waiting for its WAL to reach the disk:
    PostgreSQL's `SET LOCAL synchronous_commit TO OFF`, for this transaction only (ADR 0004).
    There is no ORM spelling of a session setting. Nothing on other databases."""
    db = transaction.get_connection()
    if db.vendor != "postgresql":
        return
    with db.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
