"""Timestamps read from PostgreSQL by psycopg's C loader, in the UTC Django works in.

Django registers its own loader for `timestamptz` on every connection: a Python subclass of
psycopg's Python loader, which parses each value's text in Python (about 5 µs a value).
A page reads hundreds of them (the ticket page: every ticket of a customer with 500, the
timeline's messages and trail), and a batch tens of thousands. psycopg's binary package has
the same loader in C. `utc_timestamps` puts a loader on a connection that hands each value
to the C one and still answers Django's check of its time zone (`timezone`), for a
connection whose session time zone is UTC (Django sets it so with USE_TZ); any other
connection keeps Django's loader. Figures: docs/adr/0013-prepared-statements.md.
"""

from datetime import UTC, datetime
from typing import Any

from django.db.backends.signals import connection_created

try:
    from psycopg.types.datetime import TimestamptzLoader as _PythonLoader
    from psycopg_binary._psycopg import (  # type: ignore[attr-defined,import-not-found,unused-ignore]
        TimestamptzLoader as _CLoader,
    )
except ImportError:  # no psycopg's binary package: Django's loader stays
    _CLoader = None


if _CLoader is not None:

    class UtcTimestampLoader(_PythonLoader):
        """`timestamptz` text in a UTC session, parsed by psycopg's C loader."""

        timezone = UTC  # what Django's cursors compare with their connection's zone

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._load = _CLoader(oid, context).load

        def load(self, data: Any) -> datetime:
            value: datetime = self._load(data)
            return value if value.tzinfo is UTC else value.astimezone(UTC)


def utc_timestamps(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Receiver of `connection_created`: the C loader on a PostgreSQL connection in UTC."""
    if _CLoader is None or connection.vendor != "postgresql" or connection.timezone is not UTC:
        return
    raw = connection.connection
    if raw.info.parameter_status("TimeZone") != "UTC":
        return
    raw.adapters.register_loader("timestamptz", UtcTimestampLoader)


def utc_timestamps_connect() -> None:
    connection_created.connect(utc_timestamps, dispatch_uid="kefu.pg_loaders")
