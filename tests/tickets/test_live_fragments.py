"""The fragments live pages fetch (htmx) when a websocket event arrives: the same checks and
masking as the full pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TeamFactory, intake, make_agent
from tickets.models import AuditEntry
from tickets.services.notifications import notifications_create

pytestmark = pytest.mark.django_db


def test_the_ticket_fragment_holds_the_timeline_and_the_sla_box_swapped_out_of_band(
    agent_client,
):
    ticket = intake(user_id="u1", text="这次的草莓坏了").ticket

    response = agent_client.get(f"/tickets/{ticket.number}/live/", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "这次的草莓坏了" in html
    assert '<section class="card" id="sla" hx-swap-oob="true">' in html
    assert html.count('data-milestone="') == 2
    # The inside of the timeline's latest part only.
    assert "<html" not in html and 'id="timeline' not in html


def test_the_ticket_page_asks_for_its_fragment_and_its_sla_box_is_not_out_of_band(agent_client):
    ticket = intake(user_id="u1").ticket

    html = agent_client.get(f"/tickets/{ticket.number}/").content.decode()

    assert f'hx-get="/tickets/{ticket.number}/live/?since=' in html
    assert f'<div id="timeline-latest" data-live-ticket="{ticket.number}"' in html
    assert '<section class="card" id="sla">' in html


def test_a_page_whose_ticket_left_the_agents_sight_is_told_so_and_nothing_more(
    client, default_team
):
    ticket = intake(user_id="u1", text="别人的工单").ticket
    client.force_login(make_agent(teams=[TeamFactory()]).user)

    response = client.get(f"/tickets/{ticket.number}/live/", HTTP_HX_REQUEST="true")

    assert response.status_code == 204
    assert response["HX-Trigger"] == "kefu:ticket-gone"
    assert response.content == b""


def test_an_agent_of_another_team_gets_404_from_the_ticket_fragment(client, default_team):
    ticket = intake(user_id="u1", text="别人的工单").ticket
    client.force_login(make_agent(teams=[TeamFactory()]).user)

    response = client.get(f"/tickets/{ticket.number}/live/")

    assert response.status_code == 404
    assert "别人的工单" not in response.content.decode()


def test_the_queue_fragment_url_keeps_the_view_the_sort_and_the_page(agent_client):
    for index in range(3):
        intake(user_id=f"p{index}")

    html = agent_client.get("/?view=unassigned&sort=due&after=abc%2B1").content.decode()

    assert 'hx-get="/queue/rows/?view=unassigned&amp;sort=due&amp;after=abc%2B1"' in html


def _notify(user, text, *, now):  # type: ignore[no-untyped-def]
    notifications_create(
        users=[user], ticket=None, kind="escalation", text=text, deliver_after=now, now=now
    )


def test_the_notification_list_marks_what_was_delivered_after_the_page_was_drawn(
    agent_client, agent, django_capture_on_commit_callbacks
):
    drawn_at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(agent.user, "早先的通知", now=drawn_at - timedelta(minutes=5))
        _notify(agent.user, "新的通知", now=drawn_at + timedelta(seconds=1))

    response = agent_client.get("/notifications/", {"fresh_after": drawn_at.isoformat()})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<li") == 2
    assert html.count('class="fresh"') == 1
    fresh_item = html[html.index('class="fresh"') :]
    assert fresh_item.index("新的通知") < fresh_item.index("</li>")


def test_the_notification_list_shows_the_users_own_only_and_ignores_a_bad_timestamp(
    agent_client, agent, supervisor, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(supervisor.user, "主管的通知", now=now)

    html = agent_client.get("/notifications/", {"fresh_after": "not-a-time"}).content.decode()

    assert "主管的通知" not in html
    assert 'id="no-notifications"' in html


def test_the_notification_list_costs_a_fixed_number_of_queries(
    agent_client, agent, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    ticket = intake(user_id="u1").ticket
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(8):
            notifications_create(
                users=[agent.user],
                ticket=ticket,
                kind="escalation",
                text=f"通知 {index}",
                deliver_after=now,
                now=now,
            )

    with django_assert_max_num_queries(4):
        response = agent_client.get("/notifications/")

    assert response.content.decode().count("<li") == 8


def test_a_reveal_asked_by_htmx_answers_with_the_contact_list_and_no_reveal_form(
    agent_client, agent
):
    ticket = intake(phone="13800138000", user_id="u1").ticket

    response = agent_client.post(f"/tickets/{ticket.number}/reveal/", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "+8613800138000" in html
    assert 'id="reveal"' not in html
    assert AuditEntry.objects.filter(action="pii_revealed", actor=agent.user).count() == 1
