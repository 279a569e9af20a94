"""The core's batch form of inbound interceptors (tickets.hooks): each interceptor is asked
about the positions no earlier one claimed, and its claims come back at the batch's
positions."""

import pytest

from tests.factories import app_message
from tickets import hooks
from tickets.models import Customer, Message, Ticket


@pytest.fixture
def clean_interceptors(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(hooks, "_inbound_interceptors", {})
    monkeypatch.setattr(hooks, "_inbound_batch_interceptors", {})


def test_claims_come_back_at_the_batchs_positions(clean_interceptors):
    customers = [Customer(pk=n, name=f"c{n}") for n in range(3)]
    pairs = [(customer, app_message(text=str(n))) for n, customer in enumerate(customers)]
    tickets = [Ticket(pk=10 + n) for n in range(3)]
    asked: dict[str, list[str]] = {}
    accepted: dict[str, dict[int, Message]] = {}

    def batch(name, claim):  # type: ignore[no-untyped-def]
        def interceptor(batch_pairs):  # type: ignore[no-untyped-def]
            asked[name] = [inbound.text for _customer, inbound in batch_pairs]
            return hooks.InboundClaims(
                tickets={index: tickets[int(batch_pairs[index][1].text)] for index in claim},
                accept=lambda messages: accepted.__setitem__(name, messages),
            )

        return interceptor

    # The first claims position 1; the second is asked about 0 and 2 and claims its second.
    hooks.inbound_interceptor_register("first", lambda c, i: None, batch=batch("first", [1]))
    hooks.inbound_interceptor_register("second", lambda c, i: None, batch=batch("second", [1]))

    claims = hooks.inbound_intercept_many(pairs)

    assert asked == {"first": ["0", "1", "2"], "second": ["0", "2"]}
    assert claims is not None
    assert [claim.tickets for claim in claims] == [{1: tickets[1]}, {2: tickets[2]}]
    messages = [Message(pk=100 + n) for n in range(3)]
    claims[0].accept({1: messages[1]})
    claims[1].accept({2: messages[2]})
    assert accepted == {"first": {1: messages[1]}, "second": {1: messages[2]}}


def test_an_interceptor_without_a_batch_form_means_no_batch(clean_interceptors):
    hooks.inbound_interceptor_register("plain", lambda c, i: None)
    assert hooks.inbound_intercept_many([(Customer(pk=1), app_message())]) is None
    # Registered again with a batch form, it takes part.
    hooks.inbound_interceptor_register(
        "plain",
        lambda c, i: None,
        batch=lambda pairs: hooks.InboundClaims(tickets={}, accept=lambda m: None),
    )
    assert hooks.inbound_intercept_many([(Customer(pk=1), app_message())]) == []
