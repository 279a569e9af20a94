"""The demo's complaints: three complaints (two recognised by triage, one flagged by the demo
agent), two reviews (one with an overdue action, one closed), suggestions in every status;
loaded once."""

from io import StringIO

import pytest
from django.core.management import call_command

from feedback.models import Callback, Complaint, ComplaintReview, ComplaintSource, Suggestion
from feedback.selectors.complaints import (
    overdue_actions,
    reviews_by_cause_and_month,
    reviews_filtered,
    suggestion_counts,
)
from tickets.models import Status

pytestmark = pytest.mark.django_db


def state() -> list[object]:
    return [
        list(Complaint.objects.order_by("pk").values_list("pk", "ticket_id", "source")),
        list(ComplaintReview.objects.order_by("pk").values_list("pk", "action_status")),
        list(Suggestion.objects.order_by("pk").values_list("pk", "status")),
    ]


def test_the_demo_loads_complaints_reviews_and_suggestions_once(settings):
    settings.EMBEDDED = True
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo_complaints", stdout=StringIO())

    sources = sorted(Complaint.objects.values_list("source", flat=True))
    assert sources == sorted([ComplaintSource.TRIAGE] * 5 + [ComplaintSource.AGENT])
    assert all(
        c.owner is not None and c.owner.username == "supervisor" for c in Complaint.objects.all()
    )
    assert [r.complaint.ticket.messages.first().provider_id for r in overdue_actions()] == [
        "demo-c1"
    ]
    closed = [r.complaint.ticket for r in ComplaintReview.objects.filter(action_status="done")]
    assert len(closed) == 4 and all(ticket.status == Status.CLOSED for ticket in closed)
    # Each complaint closed after its review owes a call-back from its supervisor.
    callbacks = Callback.objects.filter(reason="complaint").select_related("owner__user")
    assert sorted(c.ticket_id for c in callbacks) == sorted(t.pk for t in closed)
    assert {c.owner.user.username for c in callbacks if c.owner} == {"supervisor"}
    assert all(c.owner is not None for c in callbacks)
    table = reviews_by_cause_and_month(reviews_filtered())
    logistics = next(row for row in table.rows if row.cause.code == "logistics")
    assert logistics.total == 3
    assert suggestion_counts() == {"new": 1, "accepted": 1, "done": 1, "declined": 1}
    before = state()
    call_command("seed_demo_complaints", stdout=StringIO())
    assert state() == before
