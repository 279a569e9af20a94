"""Prepared statements on PostgreSQL (ADR 13), and the blocks planned per call."""

import pytest
from django.db import connection, transaction

from kefu.plans import plans_per_call

# Outside a test transaction, as the site runs; serialized like the suite's other such tests.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return str(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_on_postgresql_statements_are_bound_by_the_server_and_prepared_when_repeated():
    options = connection.settings_dict["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    with connection.cursor() as cursor:
        for _ in range(6):
            cursor.execute("SELECT count(*) FROM django_content_type WHERE app_label = %s", ["x"])
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT count(*) FROM django_content_type%%'"
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plan_cache_mode: PostgreSQL")
def test_a_block_planned_per_call_asks_for_custom_plans_and_only_inside_it():
    assert _plan_cache_mode() == "auto"
    with plans_per_call():
        assert connection.in_atomic_block
        assert _plan_cache_mode() == "force_custom_plan"
    assert _plan_cache_mode() == "auto"
    assert not connection.in_atomic_block


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plan_cache_mode: PostgreSQL")
def test_inside_a_transaction_the_block_is_a_savepoint_and_a_failure_leaves_the_outer_going():
    with transaction.atomic():
        with pytest.raises(ValueError), plans_per_call():
            raise ValueError("refused")
        assert _plan_cache_mode() == "auto"  # the savepoint's SET LOCAL was rolled back


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite prepares nothing")
def test_without_prepared_statements_the_block_opens_no_transaction():
    with plans_per_call():
        assert not connection.in_atomic_block
