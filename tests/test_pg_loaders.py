"""Timestamps read by psycopg's C loader (kefu.pg_loaders) are the ones Django's loader
reads: the same instants, in UTC."""

from datetime import UTC

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from kefu.pg_loaders import UtcTimestampLoader

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a psycopg loader: PostgreSQL"),
]

TEXTS = [
    "2026-12-05 08:00:00+08",
    "2026-03-01 00:00:00.123456+00",
    "1999-12-31 23:59:59.999999-05:30",
    "2024-02-29 12:00:00+14",
    "0001-01-01 00:00:00+00",
]


class _Django(BaseTzLoader):
    timezone = UTC


def test_the_connection_reads_timestamptz_with_the_c_loader():
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        loader = cursor.cursor.adapters.get_loader(1184, 0)  # timestamptz, text
    assert loader is UtcTimestampLoader
    assert loader.timezone is connection.timezone is UTC


def test_values_are_the_instants_djangos_loader_reads_in_utc():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t::timestamptz, t::timestamptz::text FROM unnest(%s::text[]) AS t",
            ["{" + ",".join(f'"{text}"' for text in TEXTS) + "}"],
        )
        rows = cursor.fetchall()
        context = cursor.cursor
    django_loader = _Django(1184, context)
    for value, text in rows:
        expected = django_loader.load(text.encode())
        assert value == expected
        assert value.tzinfo is UTC
        assert (value.year, value.microsecond) == (expected.year, expected.microsecond)
    assert len(rows) == len(TEXTS)
