"""`__in_ids`: the same rows as `__in`, on foreign keys and primary keys, including an empty
list (nothing matches; excluded, everything does)."""

import pytest

from tests.factories import TeamFactory, intake
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def test_in_ids_matches_as_in_does():
    TeamFactory(is_default=True)
    tickets = [intake().ticket for _ in range(4)]  # each with the customer's message
    chosen = [tickets[0].pk, tickets[2].pk]

    by_key = set(
        Message.objects.filter(ticket_id__in_ids=chosen).values_list("ticket_id", flat=True)
    )
    by_pk = set(Ticket.objects.filter(pk__in_ids=chosen).values_list("pk", flat=True))
    left = set(Ticket.objects.exclude(pk__in_ids=chosen).values_list("pk", flat=True))

    assert by_key == by_pk == set(chosen)
    assert left == {tickets[1].pk, tickets[3].pk}


def test_ids_given_as_text_or_numbers_match_the_same():
    TeamFactory(is_default=True)
    ticket = intake().ticket

    assert list(Ticket.objects.filter(pk__in_ids=[str(ticket.pk)])) == [ticket]
    with pytest.raises(ValueError):
        list(Ticket.objects.filter(pk__in_ids=["1}"]))


def test_an_empty_list_matches_nothing_and_excludes_nothing():
    TeamFactory(is_default=True)
    ticket = intake().ticket

    assert list(Ticket.objects.filter(pk__in_ids=[])) == []
    assert list(Ticket.objects.exclude(pk__in_ids=[]).values_list("pk", flat=True)) == [ticket.pk]


def test_the_ids_travel_as_one_parameter_on_postgresql():
    from django.db import connection

    sql, params = Ticket.objects.filter(pk__in_ids=[3, 1, 2]).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql
        assert "{3,1,2}" in params
    else:
        assert "IN (" in sql
        assert list(params[-3:]) == [3, 1, 2]
