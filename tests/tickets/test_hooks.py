"""The core's hooks for apps above it (tickets.hooks, tickets.signals): their entries are
merged into the customer's timeline and paged with the same cursor, their panels show on
the ticket page, and every trail entry is announced inside its transaction."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html

from tests.factories import intake
from tickets import hooks
from tickets.models import EventKind, TicketEvent
from tickets.selectors import customer_timeline
from tickets.services.trail import event_record
from tickets.signals import ticket_event_recorded

pytestmark = pytest.mark.django_db


@pytest.fixture
def extra_source():  # type: ignore[no-untyped-def]
    """A source of three entries an hour apart, the latest an hour ago, filtered by the
    cursor the way a real source filters its rows."""
    now = timezone.now()
    rows = [(now - timedelta(hours=h), 100 + h) for h in (1, 2, 3)]
    asked = []

    def source(customer, before, size):  # type: ignore[no-untyped-def]
        condition = before("at")
        asked.append(condition)
        kept = []
        for at, pk in rows:
            # Evaluate the Q the core built against plain values: (at, pk) before the cursor.
            if _matches(condition, at, pk):
                kept.append(hooks.TimelineExtra(at=at, pk=pk, html=format_html("<p>X{}</p>", pk)))
        return sorted(kept, key=lambda e: (e.at, e.pk), reverse=True)[:size]

    hooks.timeline_source_register("test", source)
    yield asked
    hooks._timeline_sources.pop("test", None)


def _matches(condition, at, pk) -> bool:  # type: ignore[no-untyped-def]
    """A small evaluator for the Q objects `tickets.selectors._before` builds."""
    if not condition.children:
        return True
    results = []
    for child in condition.children:
        if hasattr(child, "children"):
            results.append(_matches(child, at, pk))
            continue
        key, value = child
        field, _, op = key.partition("__")
        actual = at if field == "at" else pk
        results.append({"lt": actual < value, "lte": actual <= value, "": actual == value}[op])
    combined = any(results) if condition.connector == "OR" else all(results)
    return not combined if condition.negated else combined


def test_entries_of_a_source_are_merged_and_paged(agent, extra_source):
    ticket = intake(user_id="hook-1", text="我的订单呢").ticket

    first = customer_timeline(
        customer=ticket.customer, viewer=agent.user, include_internal=True, size=2
    )
    assert [e.extra is None for e in first.entries] == [True, True]  # the newest: the ticket
    assert first.earlier is not None

    rest = customer_timeline(
        customer=ticket.customer,
        viewer=agent.user,
        include_internal=True,
        before=first.earlier,
        size=10,
    )
    extras = [e.extra.pk for e in rest.entries if e.extra is not None]
    assert extras == [103, 102, 101]  # oldest first, none lost, none twice
    assert all(e.extra is None for e in first.entries)


def test_a_ticket_panel_shows_on_the_ticket_page(agent_client, default_team):
    ticket = intake(user_id="hook-2", text="你好").ticket
    hooks.ticket_panel_register(
        "test", lambda request, t: format_html("<section id='panel-test'>{}</section>", t.number)
    )
    try:
        page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    finally:
        hooks._ticket_panels.pop("test", None)
    assert f"<section id='panel-test'>{ticket.number}</section>" in page


def test_trail_entries_are_announced_inside_their_transaction():
    ticket = intake(user_id="hook-3", text="你好").ticket
    seen = []

    def receiver(event, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((event.kind, transaction.get_connection().in_atomic_block))

    ticket_event_recorded.connect(receiver, dispatch_uid="test-hooks")
    try:
        with transaction.atomic():
            event_record(ticket=ticket, kind=EventKind.NOTE, actor=None, data={})
    finally:
        ticket_event_recorded.disconnect(dispatch_uid="test-hooks")
    assert seen == [(EventKind.NOTE, True)]
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.NOTE).count() == 1
