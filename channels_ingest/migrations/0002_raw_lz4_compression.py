"""Raw inbound bytes (whole emails with attachments, up to the size limit) are compressed by
PostgreSQL's TOAST on every insert; lz4 does it several times faster than the default pglz,
and leaves alone what does not compress (attachments usually). PostgreSQL 14 and later; other
databases are left as they are."""

from django.db import migrations


def _alter(apps, schema_editor, method: str) -> None:  # type: ignore[no-untyped-def]
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    model = apps.get_model("channels_ingest", "InboundRecord")
    table = schema_editor.quote_name(model._meta.db_table)
    column = schema_editor.quote_name(model._meta.get_field("raw").column)
    schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _alter(apps, schema_editor, "lz4")


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _alter(apps, schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [
        ("channels_ingest", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
