"""Where the edge leaves the ORM, and why.

Each function here is one statement that every inbound payload runs on its way in, written
out because the ORM's version cost a web process or a worker more than the statement itself
(see the function's docstring for what it saves); whether each one stays is for the
benchmarks that run that path to say (`bench/intake.py`, `bench/sms.py`, `bench/email.py`).
Table and column names come from the model (`_meta.db_table`, the fields' columns), quoted by
the connection; values are always parameters. Everything else in the edge goes through the
ORM.
"""

import functools
from typing import Any, cast

import psycopg
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field

from channels_ingest.models import InboundRecord, InboundState


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


@functools.cache
def _mark_processed_sql(vendor: str) -> str:
    """The statement of `inbound_mark_processed`, spelled once per database vendor (the
    vendor is the cache's key: quoting is the connection's and differs between vendors)."""
    quote = transaction.get_connection().ops.quote_name
    state, number, processed_at, error, attempts = (
        quote(_column(name))
        for name in ("state", "ticket_number", "processed_at", "error", "attempts")
    )
    return (
        f"UPDATE {quote(InboundRecord._meta.db_table)} "  # noqa: S608
        f"SET {state} = %s, {number} = %s, {processed_at} = %s, {error} = %s, "
        f"{attempts} = {attempts} + 1 "
        f"WHERE {quote(InboundRecord._meta.pk.column)} = %s"
    )


def inbound_mark_processed(*, record_id: int, ticket_number: str, processed_at: Any) -> None:
    """What `InboundRecord.objects.filter(pk=…).update(state=PROCESSED, ticket_number=…,
    processed_at=…, error="", attempts=F("attempts") + 1)` compiles to, written out: every
    processed payload runs it, and compiling the update cost several times the statement.
    `processed_at` is an aware datetime."""
    db = transaction.get_connection()
    with db.cursor() as cursor:
        cursor.execute(
            _mark_processed_sql(db.vendor),
            [
                InboundState.PROCESSED.value,
                ticket_number,
                db.ops.adapt_datetimefield_value(processed_at),
                "",
                record_id,
            ],
        )


def synchronous_commit_off() -> None:
    """Let the current transaction commit without waiting for its WAL to reach the disk:
    PostgreSQL's `SET LOCAL synchronous_commit TO OFF`, for this transaction only (ADR 0004).
    There is no ORM spelling of a session setting. Nothing on other databases."""
    db = transaction.get_connection()
    if db.vendor != "postgresql":
        return
    with db.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
