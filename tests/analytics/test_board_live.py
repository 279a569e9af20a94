"""The board's live part, rendered by the server and fetched by the page on board events."""

import pytest

from tests.factories import intake

pytestmark = pytest.mark.django_db


def test_the_board_fragment_renders_the_counters_for_a_supervisor(client, supervisor):
    intake(user_id="u1")
    intake(user_id="u2")
    client.force_login(supervisor.user)

    response = client.get("/board/live/", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="n" data-key="open">2</span>' in html
    assert "<html" not in html
    assert 'id="escalation-rows"' in html and 'id="forecast-rows"' in html


def test_the_board_fragment_is_for_supervisors_only(agent_client):
    assert agent_client.get("/board/live/").status_code == 403


def test_the_board_page_asks_for_its_fragment_on_board_events(client, supervisor):
    client.force_login(supervisor.user)

    html = client.get("/board/").content.decode()

    assert 'hx-get="/board/live/"' in html
    assert 'data-live-socket="/ws/board/"' in html
