"""A complaint is resolved or closed only with its root-cause review, and only by a supervisor
or an administrator: the ticket page and the API say why, and nothing changes."""

import pytest

from feedback.services.complaints import complaint_close_guard
from tests.factories import intake
from tests.feedback.complaints_support import (
    complaint_ticket,
    english,  # noqa: F401
    reviewed,
)
from tickets.models import EventKind, Status, Ticket, TicketEvent
from tickets.services.workflow import StatusRefused, ticket_set_status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

REFUSAL = "is a complaint: a supervisor must record its root-cause review"


def status_events(ticket: Ticket) -> int:
    return TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS).count()


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_the_ticket_page_refuses_to_close_a_complaint_without_its_review(
    client, supervisor, status
):
    ticket = complaint_ticket()
    client.force_login(supervisor.user)

    response = client.post(f"/tickets/{ticket.number}/status/", {"status": status}, follow=True)

    assert response.status_code == 200
    assert REFUSAL in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.closed_at) == (Status.NEW, None, None)
    assert status_events(ticket) == 0


def test_the_api_answers_409_with_the_reason_and_changes_nothing(client, supervisor):
    ticket = complaint_ticket()
    client.force_login(supervisor.user)

    response = client.post(
        f"/api/v1/tickets/{ticket.number}/status/",
        {"status": Status.CLOSED},
        content_type="application/json",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "close_guard"
    assert REFUSAL in body["detail"]
    assert ticket.number in body["detail"]
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert status_events(ticket) == 0


def test_with_its_review_a_supervisor_closes_the_complaint_on_the_page_and_the_api(
    client, supervisor
):
    on_page, on_api = complaint_ticket(), complaint_ticket("Unacceptable, I complain again")
    reviewed(on_page, by=supervisor.user)
    reviewed(on_api, by=supervisor.user)
    client.force_login(supervisor.user)

    page = client.post(f"/tickets/{on_page.number}/status/", {"status": Status.RESOLVED})
    api = client.post(
        f"/api/v1/tickets/{on_api.number}/status/",
        {"status": Status.CLOSED},
        content_type="application/json",
    )

    assert page.status_code == 302
    assert api.status_code == 200
    assert api.json()["status"] == Status.CLOSED
    on_page.refresh_from_db()
    on_api.refresh_from_db()
    assert (on_page.status, on_api.status) == (Status.RESOLVED, Status.CLOSED)
    assert on_page.resolved_at is not None and on_api.closed_at is not None


def test_an_agent_may_not_close_a_complaint_even_with_its_review(agent_client, supervisor):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)

    response = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/status/",
        {"status": Status.RESOLVED},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "Only a supervisor or an administrator may resolve or close a complaint."
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_other_status_changes_and_other_tickets_are_not_guarded(agent_client, agent):
    complaint = complaint_ticket()
    plain = intake(text="快递还没到").ticket

    pending = agent_client.post(
        f"/api/v1/tickets/{complaint.number}/status/",
        {"status": Status.PENDING_CUSTOMER},
        content_type="application/json",
    )
    closed = agent_client.post(
        f"/api/v1/tickets/{plain.number}/status/",
        {"status": Status.CLOSED},
        content_type="application/json",
    )

    assert (pending.status_code, closed.status_code) == (200, 200)
    assert Ticket.objects.get(pk=plain.pk).status == Status.CLOSED


def test_the_status_api_refuses_an_unknown_status_and_an_unseen_ticket(client, supervisor):
    from tests.factories import TeamFactory, make_agent

    ticket = complaint_ticket()
    client.force_login(supervisor.user)
    bad = client.post(
        f"/api/v1/tickets/{ticket.number}/status/",
        {"status": "gone"},
        content_type="application/json",
    )
    outsider = make_agent(teams=[TeamFactory(name="别的组")])
    client.force_login(outsider.user)
    unseen = client.post(
        f"/api/v1/tickets/{ticket.number}/status/",
        {"status": Status.OPEN},
        content_type="application/json",
    )

    assert bad.status_code == 400
    assert "status" in bad.json()
    assert unseen.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_the_service_raises_status_refused_for_kefu_itself_until_reviewed(supervisor):
    ticket = complaint_ticket()

    with pytest.raises(StatusRefused):
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=None)
    reviewed(ticket, by=supervisor.user)

    assert complaint_close_guard(ticket, Status.RESOLVED, None) == ""
    assert ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=None).status == (
        Status.RESOLVED
    )
