"""Bulk actions on the tickets ticked in the queue: assign, transfer, status, tags, spam."""

import pytest
from django.contrib.messages import get_messages
from django.utils import translation
from django.utils.translation import gettext as _

from feedback.services.complaints import complaint_close_guard
from tests.factories import TeamFactory, intake, make_agent
from tickets.models import AuditEntry, EventKind, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    with translation.override("en"):
        yield


@pytest.fixture
def three(default_team):  # type: ignore[no-untyped-def]
    return [intake(user_id=f"b-{n}", text=f"问题 {n}").ticket for n in range(3)]


def _numbers(tickets: list[Ticket]) -> list[str]:
    return [t.number for t in tickets]


def test_the_queue_rows_have_checkboxes_for_the_bulk_form(agent_client, three):
    page = agent_client.get("/").content.decode()
    assert 'id="bulk-actions"' in page
    for ticket in three:
        assert f'name="tickets" value="{ticket.number}" form="bulk-actions"' in page


def test_bulk_status_and_tags(agent_client, three):
    response = agent_client.post(
        "/queue/bulk/",
        {"action": "status", "status": Status.PENDING_INTERNAL, "tickets": _numbers(three[:2])},
    )
    assert response.status_code == 302
    assert [Ticket.objects.get(pk=t.pk).status for t in three] == [
        Status.PENDING_INTERNAL,
        Status.PENDING_INTERNAL,
        Status.NEW,
    ]
    agent_client.post(
        "/queue/bulk/", {"action": "tags", "tags": "促销, 双十一", "tickets": _numbers(three)}
    )
    assert all(Ticket.objects.get(pk=t.pk).tags == ["促销", "双十一"] for t in three)
    assert TicketEvent.objects.filter(kind=EventKind.TAGS).count() == 3


def test_bulk_assign_and_transfer(agent_client, agent, three):
    colleague = make_agent(teams=[three[0].team])
    agent_client.post(
        "/queue/bulk/", {"action": "assign", "agent": colleague.pk, "tickets": _numbers(three[:2])}
    )
    assert [Ticket.objects.get(pk=t.pk).assignee for t in three[:2]] == [colleague, colleague]

    logistics = TeamFactory(name="物流组")
    agent_client.post(
        "/queue/bulk/",
        {
            "action": "transfer",
            "team": logistics.pk,
            "note": "都是快递",
            "tickets": _numbers(three),
        },
    )
    assert all(Ticket.objects.get(pk=t.pk).team == logistics for t in three)
    assert AuditEntry.objects.filter(action="ticket_transferred").count() == 3


def test_bulk_transfer_without_a_note_is_refused_per_ticket(agent_client, three):
    logistics = TeamFactory(name="物流组")
    response = agent_client.post(
        "/queue/bulk/", {"action": "transfer", "team": logistics.pk, "tickets": _numbers(three)}
    )
    assert response.status_code == 302
    assert all(Ticket.objects.get(pk=t.pk).team != logistics for t in three)
    assert not TicketEvent.objects.filter(kind=EventKind.TRANSFERRED).exists()


def test_bulk_assign_to_an_inactive_agent_is_refused(agent_client, three):
    gone = make_agent(teams=[three[0].team])
    gone.user.is_active = False
    gone.user.save()
    agent_client.post(
        "/queue/bulk/", {"action": "assign", "agent": gone.pk, "tickets": _numbers(three)}
    )
    assert all(Ticket.objects.get(pk=t.pk).assignee != gone for t in three)


def test_close_as_spam(agent_client, three):
    agent_client.post("/queue/bulk/", {"action": "spam", "tickets": [three[0].number]})
    spam = Ticket.objects.get(pk=three[0].pk)
    assert spam.status == Status.CLOSED and spam.tags == ["spam"]
    assert Ticket.objects.get(pk=three[1].pk).status == Status.NEW


def test_bulk_actions_skip_tickets_the_agent_may_not_see(client, three):
    outsider = make_agent(teams=[TeamFactory()])
    client.force_login(outsider.user)
    client.post("/queue/bulk/", {"action": "spam", "tickets": _numbers(three)})
    assert all(Ticket.objects.get(pk=t.pk).status == Status.NEW for t in three)


def test_bulk_actions_need_a_signed_in_agent(client, three):
    response = client.post("/queue/bulk/", {"action": "spam", "tickets": _numbers(three)})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert all(Ticket.objects.get(pk=t.pk).status == Status.NEW for t in three)


def test_the_queue_with_the_bulk_bar_still_costs_a_fixed_number_of_queries(
    agent_client, agent, three, django_assert_max_num_queries
):
    from tickets.services.actions import ticket_transfer

    other = TeamFactory(name="物流组")
    agent.teams.add(other)
    for ticket in three:
        ticket_transfer(ticket=ticket, team=other, agent=None, note="n", actor=agent.user)
    # A fixed number: the header (bell, presence, search, saved views) adds a few of its own.
    with django_assert_max_num_queries(20):
        page = agent_client.get("/")
    assert page.content.decode().count("transfer-note") == 3


def test_bulk_resolve_reports_the_tickets_a_guard_refused_and_resolves_the_others(
    agent_client, three
):
    from tests.feedback.complaints_support import complaint_ticket

    complaint = complaint_ticket(user_id="b-complaint")
    response = agent_client.post(
        "/queue/bulk/",
        {
            "action": "status",
            "status": Status.RESOLVED,
            "tickets": [*_numbers(three), complaint.number],
        },
    )

    told = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    with translation.override("zh-hans"):
        done = _("Done on %(count)d tickets.") % {"count": 3}
        reason = complaint_close_guard(complaint, Status.RESOLVED, None)
    assert told == [("success", done), ("error", f"{complaint.number}: {reason}")]
    assert complaint.number in reason and "复盘" in reason
    assert [Ticket.objects.get(pk=t.pk).status for t in three] == [Status.RESOLVED] * 3
    assert Ticket.objects.get(pk=complaint.pk).status == Status.NEW
    assert TicketEvent.objects.filter(kind=EventKind.STATUS, ticket=complaint).count() == 0


def test_bulk_status_without_a_status_changes_nothing(agent_client, three):
    response = agent_client.post(
        "/queue/bulk/", {"action": "status", "status": "", "tickets": _numbers(three)}
    )

    with translation.override("zh-hans"):
        assert [str(m) for m in get_messages(response.wsgi_request)] == [_("Choose a status.")]
    assert all(Ticket.objects.get(pk=t.pk).status == Status.NEW for t in three)
