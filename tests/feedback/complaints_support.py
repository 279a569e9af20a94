"""Test data for complaints: a complaint taken in through intake, its review through the
service, the stock root causes (seeded by the feedback migration)."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation

from feedback.models import Complaint, ComplaintReview, RootCause
from feedback.services.complaints import ReviewInput, complaint_review_save
from tests.factories import intake
from tickets.models import Ticket

COMPLAINT_TEXT = "我要投诉你们的客服，态度太差了"


def complaint_ticket(text: str = COMPLAINT_TEXT, **kwargs: object) -> Ticket:
    return Ticket.objects.get(pk=intake(text=text, **kwargs).ticket.pk)


def cause(code: str = "agent_attitude") -> RootCause:
    return RootCause.objects.get(code=code)


def reviewed(
    ticket: Ticket,
    *,
    by: User,
    code: str = "agent_attitude",
    due: date | None = None,
    status: str = "planned",
    department: str = "客服部",
) -> ComplaintReview:
    complaint = Complaint.objects.get(ticket=ticket)
    return complaint_review_save(
        complaint=complaint,
        actor=by,
        review=ReviewInput(
            root_cause=cause(code),
            department=department,
            summary="客服回复生硬",
            action="全组服务礼仪培训",
            action_owner=by,
            action_due=due or timezone.localdate() + timedelta(days=7),
            action_status=status,
        ),
    )


def review_post(ticket: Ticket, owner: User, **changes: object) -> dict[str, object]:
    """The review form's fields as a browser posts them."""
    data: dict[str, object] = {
        "root_cause": cause().pk,
        "department": "客服部",
        "summary": "客服回复生硬",
        "action": "全组服务礼仪培训",
        "action_owner": owner.pk,
        "action_due": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "action_status": "planned",
    }
    data.update(changes)
    return data


@pytest.fixture
def english(client):  # type: ignore[no-untyped-def]
    """Pages and messages in English, so tests read the messages as written in the code."""
    client.cookies["django_language"] = "en"
    translation.activate("en")
    yield
    translation.deactivate()
