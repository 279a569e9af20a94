import pytest
from django.urls import reverse

from channels_ingest.models import OutboxEntry
from sla.services import clocks_tick
from tests.factories import TeamFactory, UserFactory, intake, make_agent
from tickets.models import (
    AuditEntry,
    DeliveryStatus,
    Direction,
    EventKind,
    SlaState,
    Status,
    Ticket,
    TicketEvent,
)

pytestmark = pytest.mark.django_db


def test_the_queue_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_staff_role_gets_403(client, db):
    client.force_login(UserFactory())

    assert client.get("/").status_code == 403
    assert client.get("/board/").status_code == 403
    assert client.get("/outbox/").status_code == 403


def test_login_with_the_django_form_lands_an_agent_on_the_queue(client, agent):
    response = client.post(
        reverse("login"), {"username": agent.user.username, "password": "pw-for-tests"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_queue_lists_open_tickets_of_the_agents_teams_in_priority_order(agent_client):
    regular = intake(text="请问发票怎么开", user_id="a")
    urgent = intake(text="吃了发霉的面包，食物中毒了", user_id="b")
    other_team = TeamFactory()
    hidden = intake(text="other", user_id="c")
    Ticket.objects.filter(pk=hidden.ticket.pk).update(team=other_team, assignee=None)

    response = agent_client.get("/")

    page = response.context["page"]
    assert [t.number for t in page.tickets] == [urgent.ticket.number, regular.ticket.number]
    assert hidden.ticket.number not in response.content.decode()


def test_the_queue_costs_a_fixed_number_of_queries(agent_client, django_assert_max_num_queries):
    for index in range(30):
        intake(text=f"问题 {index}", user_id=f"q{index}")

    with django_assert_max_num_queries(8):
        response = agent_client.get("/queue/rows/")

    assert response.status_code == 200
    assert response.content.decode().count("<tr") == 30


def test_the_ticket_page_reads_the_agents_record_once(agent_client, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = intake(text="草莓坏了", user_id="once").ticket

    with CaptureQueriesContext(connection) as captured:
        response = agent_client.get(reverse("tickets:ticket", args=[ticket.number]))

    agent_reads = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith('SELECT "tickets_agent"."id"')
        and f'"tickets_agent"."user_id" = {agent.user_id}' in query["sql"]
    ]
    assert response.status_code == 200
    assert len(agent_reads) == 1


def test_outside_a_request_the_agents_teams_are_read_afresh(agent):
    from tickets.selectors import team_ids_for

    other = TeamFactory()
    before = team_ids_for(agent.user)
    agent.teams.add(other)

    assert other.pk not in before
    assert other.pk in team_ids_for(agent.user)


def test_keyset_pages_cover_every_ticket_once(agent):
    from tickets.selectors import queue_page

    numbers = {intake(user_id=f"k{i}").ticket.number for i in range(7)}
    seen: list[str] = []
    cursor = ""
    while True:
        page = queue_page(user=agent.user, view="team", cursor=cursor, size=3)
        seen.extend(t.number for t in page.tickets)
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    assert sorted(seen) == sorted(numbers)


def test_the_ticket_page_shows_the_whole_customer_timeline_and_sla(agent_client):
    old = intake(user_id="u1", text="上个月的订单")
    Ticket.objects.filter(pk=old.ticket.pk).update(status=Status.CLOSED)
    new = intake(user_id="u1", text="这次的草莓坏了")

    response = agent_client.get(f"/tickets/{new.ticket.number}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "上个月的订单" in html and "这次的草莓坏了" in html
    assert [c.milestone for c in response.context["clocks"]] == ["first_response", "resolution"]
    assert response.context["clocks"][0].business_seconds_left > 0


def test_a_reply_is_delivered_through_the_outbox_and_its_status_shows(
    agent_client, agent, django_capture_on_commit_callbacks
):
    result = intake(user_id="u1", text="hello")

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            f"/tickets/{result.ticket.number}/reply/",
            {"body": "您好，马上为您处理", "kind": "reply"},
        )

    assert response.status_code == 302
    reply = result.ticket.messages.get(direction=Direction.OUT)
    assert reply.delivery_status == DeliveryStatus.SENT
    entry = OutboxEntry.objects.get()
    assert (entry.channel, entry.to, entry.body) == ("app", "u1", "您好，马上为您处理")
    ticket = Ticket.objects.get(pk=result.ticket.pk)
    assert ticket.first_response_at == reply.created_at
    assert ticket.status == Status.OPEN
    assert ticket.awaiting_reply_since is None
    page = agent_client.get(f"/tickets/{result.ticket.number}/").content.decode()
    assert f'data-delivery="{reply.pk}"' in page


def test_a_reply_on_a_channel_without_an_address_shows_as_failed(
    agent_client, django_capture_on_commit_callbacks
):
    result = intake(email="li@example.com", text="hello")

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(f"/tickets/{result.ticket.number}/reply/", {"body": "hi"})

    reply = result.ticket.messages.get(direction=Direction.OUT)
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error == "no address on this channel"
    assert OutboxEntry.objects.count() == 0


def test_an_internal_note_is_not_sent(agent_client, django_capture_on_commit_callbacks):
    result = intake(user_id="u1")

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            f"/tickets/{result.ticket.number}/reply/", {"body": "查一下", "kind": "note"}
        )

    assert result.ticket.messages.filter(direction=Direction.NOTE).count() == 1
    assert OutboxEntry.objects.count() == 0
    assert Ticket.objects.get(pk=result.ticket.pk).first_response_at is None


def test_an_agent_cannot_open_a_ticket_of_another_team(client, default_team):
    result = intake(user_id="u1")
    outsider = make_agent(teams=[TeamFactory()])
    client.force_login(outsider.user)

    assert (
        client.get(f"/tickets/{result.ticket.number}/").status_code == 403
    )  # a styled page naming the team
    assert client.post(f"/tickets/{result.ticket.number}/reply/", {"body": "x"}).status_code == 404


def test_contact_details_are_masked_until_revealed_and_the_reveal_is_audited(agent_client, agent):
    result = intake(phone="13800138000", user_id="u1")

    page = agent_client.get(f"/tickets/{result.ticket.number}/").content.decode()
    revealed = agent_client.post(f"/tickets/{result.ticket.number}/reveal/").json()

    assert "+86138****8000" in page
    assert "+8613800138000" not in page
    assert {"kind": "phone", "value": "+8613800138000"} in revealed["contacts"]
    audit = AuditEntry.objects.get(action="pii_revealed")
    assert audit.actor == agent.user
    assert (
        TicketEvent.objects.filter(ticket=result.ticket, kind=EventKind.PII_REVEALED).count() == 1
    )


def test_a_breach_shows_on_the_ticket_in_its_trail_and_on_the_board(
    agent_client, supervisor, client
):
    from datetime import timedelta

    from django.utils import timezone

    result = intake(user_id="u1")

    clocks_tick(now=timezone.now() + timedelta(days=30))

    ticket = Ticket.objects.get(pk=result.ticket.pk)
    assert ticket.sla_state == SlaState.BREACHED
    breaches = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_BREACH)
    assert sorted(e.data["milestone"] for e in breaches) == ["first_response", "resolution"]
    client.force_login(supervisor.user)
    assert client.get("/board/counters/").json()["breached"] == 1


def test_status_changes_are_recorded_with_the_actor(agent_client, agent):
    result = intake(user_id="u1")

    agent_client.post(f"/tickets/{result.ticket.number}/status/", {"status": "resolved"})

    ticket = Ticket.objects.get(pk=result.ticket.pk)
    assert (ticket.status, ticket.is_open) == (Status.RESOLVED, False)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.STATUS)
    assert (event.actor, event.data) == (agent.user, {"from": "new", "to": "resolved"})


def test_pages_switch_between_chinese_and_english(agent_client):
    chinese = agent_client.get("/").content.decode()
    agent_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = agent_client.get("/").content.decode()

    assert "队列" in chinese
    assert ">Queue<" in english


def test_an_english_browser_gets_english_until_the_menu_chooses_chinese(agent_client, settings):
    page = agent_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    assert "Queue" in page and "队列" not in page
    assert agent_client.get("/").headers["Content-Language"] == "zh-hans"
    agent_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = agent_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "队列" in page
