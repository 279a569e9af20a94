"""Where after-sales leaves the ORM, and why (ADR 0007).

One statement: the inbox's store, run by every event the shop posts. The row-by-row
update of a batch of its events' cases and outcomes is the core's
(`tickets.raw_sql.rows_update`). Table and column names come from the
models (`_meta`), quoted by the connection; values are always parameters.
"""

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
