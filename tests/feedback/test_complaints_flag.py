"""Agents flag a ticket as a complaint from the ticket page and take the flag off again; the
category, the owner, the SLA policy and the audit log follow."""

import pytest

from feedback.models import Complaint, ComplaintSource
from kb.rules import Category
from sla.models import SlaClock
from tests.factories import intake
from tests.feedback.complaints_support import (
    complaint_ticket,
    english,  # noqa: F401
    reviewed,
)
from tickets.models import AuditEntry, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def running_policies(ticket: Ticket) -> set[str]:
    """The policies of the first-response and resolution clocks (a plan clock the complaint
    policy started stays on it after an unflag: the SLA engine re-targets clocks, it does not
    stop those the new policy has no target for)."""
    return set(
        SlaClock.objects.filter(
            subject_id=ticket.pk,
            satisfied_at__isnull=True,
            milestone__in=["first_response", "resolution"],
        ).values_list("policy__name", flat=True)
    )


def test_an_agent_flags_a_ticket_as_a_complaint_from_the_ticket_page(
    agent_client, agent, supervisor
):
    ticket = intake(text="快递还没到，物流信息不动").ticket
    assert ticket.category == Category.LOGISTICS

    response = agent_client.post(
        f"/complaints/{ticket.number}/flag/", {"reason": "客户第二次来电，情绪激动"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.number}/"
    ticket.refresh_from_db()
    complaint = Complaint.objects.get(ticket=ticket)
    assert ticket.category == Category.COMPLAINT
    assert (complaint.source, complaint.flagged_by_id, complaint.previous_category) == (
        ComplaintSource.AGENT,
        agent.user_id,
        Category.LOGISTICS,
    )
    assert complaint.owner_id == supervisor.user_id
    assert "投诉 Complaint" in running_policies(ticket)
    assert list(
        AuditEntry.objects.filter(object_id=str(ticket.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["ticket_category_changed", "complaint_recorded", "complaint_flagged"]


def test_flagging_needs_a_reason_and_changes_nothing_without_one(agent_client, supervisor):
    ticket = intake(text="快递还没到").ticket

    agent_client.post(f"/complaints/{ticket.number}/flag/", {"reason": "  "})

    ticket.refresh_from_db()
    assert ticket.category == Category.LOGISTICS
    assert not Complaint.objects.exists()
    assert not AuditEntry.objects.filter(action="complaint_flagged").exists()


def test_unflagging_puts_the_earlier_category_back(agent_client, supervisor):
    ticket = intake(text="快递还没到，物流信息不动").ticket
    agent_client.post(f"/complaints/{ticket.number}/flag/", {"reason": "客户很生气"})

    response = agent_client.post(f"/complaints/{ticket.number}/unflag/", {"reason": "误判"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.category == Category.LOGISTICS
    assert not Complaint.objects.filter(ticket=ticket).exists()
    assert AuditEntry.objects.filter(
        action="complaint_unflagged", object_id=str(ticket.pk)
    ).exists()
    assert running_policies(ticket) == {"常规 Regular"}


def test_a_complaint_triage_recognised_is_unflagged_to_no_category(agent_client, supervisor):
    ticket = complaint_ticket()

    agent_client.post(f"/complaints/{ticket.number}/unflag/", {"reason": "客户在开玩笑"})

    ticket.refresh_from_db()
    assert ticket.category == ""
    assert not Complaint.objects.filter(ticket=ticket).exists()


def test_a_reviewed_complaint_cannot_be_unflagged(agent_client, supervisor):
    ticket = complaint_ticket()
    reviewed(ticket, by=supervisor.user)

    response = agent_client.post(
        f"/complaints/{ticket.number}/unflag/", {"reason": "误判"}, follow=True
    )

    ticket.refresh_from_db()
    assert ticket.category == Category.COMPLAINT
    assert Complaint.objects.filter(ticket=ticket).exists()
    assert "This complaint has its review: it stays a complaint." in response.content.decode()


def test_the_ticket_page_shows_the_complaint_card_with_flag_or_unflag(agent_client, supervisor):
    plain = intake(text="快递还没到").ticket
    complaint = complaint_ticket()

    plain_page = agent_client.get(f"/tickets/{plain.number}/").content.decode()
    complaint_page = agent_client.get(f"/tickets/{complaint.number}/").content.decode()

    assert f"/complaints/{plain.number}/flag/" in plain_page
    assert f"/complaints/{plain.number}/unflag/" not in plain_page
    assert f"/complaints/{complaint.number}/unflag/" in complaint_page
    assert "Needs its root-cause review before it is resolved or closed." in complaint_page
    # The review itself is a supervisor's: an agent gets no link to it.
    assert f'href="/complaints/{complaint.number}/"' not in complaint_page


def test_an_agent_cannot_flag_a_ticket_they_may_not_see(client, supervisor):
    from tests.factories import TeamFactory, make_agent

    outsider = make_agent(teams=[TeamFactory(name="别的组")])
    ticket = intake(text="快递还没到").ticket
    client.force_login(outsider.user)

    response = client.post(f"/complaints/{ticket.number}/flag/", {"reason": "x"})

    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.category == Category.LOGISTICS
