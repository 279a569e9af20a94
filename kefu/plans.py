"""Prepared statements, and where PostgreSQL must still plan each call for its parameters.

On PostgreSQL a connection prepares a statement it has run DATABASE_PREPARE_THRESHOLD times
(kefu.settings; docs/adr/0013-prepared-statements.md). After five calls of a prepared
statement PostgreSQL may keep one generic plan for it, made without looking at the
parameters. For the many small lookups of a page (a ticket by number, a customer's rows by
id) that plan is the plan, and not making it again is the saving. For a full-text search
it is not: how many documents hold a word decides the plan, and the generic plan made the
English searches of bench/search.py twice as slow. `plans_per_call` marks such a block:
inside it every statement is planned for its own parameters (`plan_cache_mode =
force_custom_plan`, for the block's transaction only).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction


@contextmanager
def plans_per_call() -> Iterator[None]:
    """Statements run in the block are planned for their parameters on every call. Opens a
    transaction (a savepoint inside one) when statements may be prepared; otherwise does
    nothing."""
    connection = transaction.get_connection()
    prepared = connection.vendor == "postgresql" and connection.settings_dict.get(
        "OPTIONS", {}
    ).get("prepare_threshold")
    if not prepared:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield
