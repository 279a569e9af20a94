"""A customer's suggestions and their complaints' reviews are part of the customer's export
and are scrubbed by erasure; the statuses and causes the counts need stay."""

import io
import json
import zipfile

import pytest

from feedback.models import ComplaintReview, Suggestion
from feedback.services.complaints import suggestion_from_ticket
from tests.factories import intake
from tests.feedback.complaints_support import (
    complaint_ticket,
    english,  # noqa: F401
    reviewed,
)
from tickets.models import Status
from tickets.services.privacy import customer_erase, customer_export
from tickets.services.workflow import ticket_set_status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_export_holds_the_customers_suggestion_and_complaint_review(supervisor):
    ticket = complaint_ticket(user_id="u-privacy")
    reviewed(ticket, by=supervisor.user)
    suggestion_from_ticket(
        ticket=ticket, actor=supervisor.user, title="按时间筛选", body="建议加筛选"
    )
    other = intake(text="建议增加纸袋", user_id="u-other").ticket
    suggestion_from_ticket(ticket=other, actor=supervisor.user, title="纸袋", body="")

    archive = io.BytesIO()
    customer_export(
        customer=ticket.customer, actor=supervisor.user, destination=archive, via="page"
    )

    with zipfile.ZipFile(archive) as opened:
        held = json.loads(opened.read("complaints/suggestions_and_reviews.json"))
    assert [s["title"] for s in held["suggestions"]] == ["按时间筛选"]
    assert [r["root_cause__code"] for r in held["complaint_reviews"]] == ["agent_attitude"]


def test_erasure_scrubs_the_text_and_keeps_status_and_cause(
    supervisor, django_capture_on_commit_callbacks
):
    ticket = complaint_ticket(user_id="u-erased")
    reviewed(ticket, by=supervisor.user, status="done")
    suggestion = suggestion_from_ticket(
        ticket=ticket, actor=supervisor.user, title="按时间筛选", body="建议加筛选"
    )
    other = intake(text="建议增加纸袋", user_id="u-kept").ticket
    kept = suggestion_from_ticket(ticket=other, actor=supervisor.user, title="纸袋", body="")
    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=supervisor.user)

    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=ticket.customer, actor=supervisor.user, via="page")

    suggestion.refresh_from_db()
    review = ComplaintReview.objects.get(complaint__ticket=ticket)
    assert (suggestion.title, suggestion.body, suggestion.customer_id) == ("[erased]", "", None)
    assert suggestion.status == "new"
    assert (review.summary, review.action) == ("", "[erased]")
    assert (review.root_cause.code, review.action_status) == ("agent_attitude", "done")
    assert Suggestion.objects.get(pk=kept.pk).title == "纸袋"
