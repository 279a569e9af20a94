"""Where after-sales leaves the ORM, and why (ADR 0007).

Two statements: the inbox's store, run by every event the shop posts, and the row-by-row
update of a batch of its events' cases and outcomes. Table and column names come from the
models (`_meta`), quoted by the connection; values are always parameters.
"""

from collections.abc import Sequence
from typing import Any, cast

from django.db import transaction
from django.db.models import Field

from aftersales.models import Case, CaseEvent


def _column(model: Any, name: str) -> str:
    column = cast("Field[Any, Any]", model._meta.get_field(name)).column
    assert column is not None  # a concrete field of the model
    return column


def event_insert(*, case_number: str, fields: dict[str, Any]) -> int | None:
    """Store one event of the case numbered `case_number` and return its id; None when the
    case has that event id already (a redelivery) or there is no such case. One
    `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id`: the case's id is looked up by
    the statement itself, and a redelivery needs no savepoint. The ORM needs a read of the
    case and an insert that raises on a redelivery (a savepoint, or a read first)."""
    db = transaction.get_connection()
    quote = db.ops.quote_name
    meta = CaseEvent._meta
    model_fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in fields]
    values = [
        field.get_db_prep_save(value, db)
        for field, value in zip(model_fields, fields.values(), strict=True)
    ]
    # Only identifiers of the models go into the text; every value is a parameter.
    template = (
        "INSERT INTO {table} ({case_column}, {columns}) "
        "SELECT {case_table}.{case_pk}, {values} FROM {case_table} "
        "WHERE {case_table}.{number} = %s "
        "ON CONFLICT ({case_column}, {event_id}) DO NOTHING RETURNING {pk}"
    )
    sql = template.format(
        table=quote(meta.db_table),
        case_column=quote(_column(CaseEvent, "case")),
        columns=", ".join(quote(field.column) for field in model_fields),
        case_table=quote(Case._meta.db_table),
        case_pk=quote(Case._meta.pk.column),
        values=", ".join(["%s"] * len(values)),
        number=quote(_column(Case, "number")),
        event_id=quote(_column(CaseEvent, "event_id")),
        pk=quote(meta.pk.column),
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [*values, case_number])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def rows_update(model: Any, rows: Sequence[Any], fields: Sequence[str]) -> None:
    """Write `fields` of many rows of `model`, each its own values, in one
    `UPDATE … FROM (VALUES …)` statement (a batch of the shop's events: its cases' steps,
    its events' outcomes). Django's `bulk_update` builds a `CASE WHEN id = … THEN …`
    expression per row and field, and for a batch of 100 cases spends more time compiling
    it than the rest of the batch's statements together (ADR 0007). Outside PostgreSQL, or
    for one row, it is the ORM's."""
    db = transaction.get_connection()
    if db.vendor != "postgresql" or len(rows) < 2:
        model.objects.bulk_update(rows, fields)
        return
    quote = db.ops.quote_name
    meta = model._meta
    pk = meta.pk
    columns = [pk, *(cast("Field[Any, Any]", meta.get_field(name)) for name in fields)]
    # Each value cast to its column's type: the parameters are sent as untyped literals.
    row_sql = "(" + ", ".join(f"%s::{column.db_type(db)}" for column in columns) + ")"
    params: list[Any] = []
    for row in rows:
        params.extend(
            column.get_db_prep_save(getattr(row, column.attname), db) for column in columns
        )
    # Only identifiers of the model go into the text; every value is a parameter.
    template = (
        "UPDATE {table} SET {sets} FROM (VALUES {rows}) AS v ({names}) WHERE {table}.{pk} = v.{pk}"
    )
    sql = template.format(
        table=quote(meta.db_table),
        sets=", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:]),
        rows=", ".join([row_sql] * len(rows)),
        names=", ".join(quote(c.column) for c in columns),
        pk=quote(pk.column),
    )
    with db.cursor() as cursor:
        cursor.execute(sql, params)
