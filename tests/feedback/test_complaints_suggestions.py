"""Customer suggestions (建议): an agent turns a ticket into one from the ticket page; a
supervisor moves it to accepted, done or declined; the done ones are counted."""

import pytest

from feedback.models import Suggestion, SuggestionStatus
from tests.factories import intake
from tests.feedback.complaints_support import english  # noqa: F401
from tickets.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

IDEA = "建议你们的App增加按配送时间筛选的功能"


def test_an_agent_turns_a_ticket_into_a_suggestion(agent_client, agent):
    ticket = intake(text=IDEA).ticket

    response = agent_client.post(
        f"/complaints/{ticket.number}/suggestion/", {"title": "按配送时间筛选", "body": IDEA}
    )
    again = agent_client.post(
        f"/complaints/{ticket.number}/suggestion/", {"title": "再来一次"}, follow=True
    )

    assert response.status_code == 302
    suggestion = Suggestion.objects.get()
    assert (suggestion.ticket_id, suggestion.customer_id, suggestion.status) == (
        ticket.pk,
        ticket.customer_id,
        SuggestionStatus.NEW,
    )
    assert suggestion.created_by_id == agent.user_id
    assert "This ticket&#x27;s suggestion is already recorded." in again.content.decode()
    assert Suggestion.objects.count() == 1
    assert AuditEntry.objects.filter(action="suggestion_recorded").count() == 1
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "按配送时间筛选" in page


def test_a_supervisor_moves_a_suggestion_to_done_and_it_is_counted(client, agent, supervisor):
    ticket = intake(text=IDEA).ticket
    client.force_login(agent.user)
    client.post(f"/complaints/{ticket.number}/suggestion/", {"title": "按配送时间筛选"})
    suggestion = Suggestion.objects.get()
    client.force_login(supervisor.user)

    skipped = client.post(
        f"/complaints/suggestions/{suggestion.pk}/status/", {"status": "done"}, follow=True
    )
    accepted = client.post(
        f"/complaints/suggestions/{suggestion.pk}/status/",
        {"status": "accepted", "note": "排入下个版本"},
    )
    done = client.post(f"/complaints/suggestions/{suggestion.pk}/status/", {"status": "done"})
    page = client.get("/complaints/suggestions/")

    assert "cannot become" in skipped.content.decode()
    assert (accepted.status_code, done.status_code) == (302, 302)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.note) == (SuggestionStatus.DONE, "排入下个版本")
    assert suggestion.done_at is not None and suggestion.decided_by_id == supervisor.user_id
    assert page.context["counts"] == {"new": 0, "accepted": 0, "done": 1, "declined": 0}
    assert list(
        AuditEntry.objects.filter(action="suggestion_status_changed")
        .order_by("pk")
        .values_list("data", flat=True)
    ) == [{"from": "new", "to": "accepted"}, {"from": "accepted", "to": "done"}]


def test_an_agent_may_not_decide_a_suggestion(agent_client, agent):
    ticket = intake(text=IDEA).ticket
    agent_client.post(f"/complaints/{ticket.number}/suggestion/", {"title": "筛选"})
    suggestion = Suggestion.objects.get()

    response = agent_client.post(
        f"/complaints/suggestions/{suggestion.pk}/status/", {"status": "accepted"}
    )

    assert response.status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.NEW
    assert "Move to" not in agent_client.get("/complaints/suggestions/").content.decode()


def test_a_suggestion_needs_a_title(agent_client, agent):
    ticket = intake(text=IDEA).ticket

    agent_client.post(f"/complaints/{ticket.number}/suggestion/", {"title": " "})

    assert not Suggestion.objects.exists()
