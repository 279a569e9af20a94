import pytest

from tests.factories import intake

pytestmark = pytest.mark.django_db


def test_board_counters_count_what_is_open_unassigned_and_waiting(client, supervisor, agent):
    first = intake(user_id="u1")  # the least-loaded agent (first by id) takes it
    intake(user_id="u2")
    client.force_login(supervisor.user)
    client.post(f"/tickets/{first.ticket.number}/reply/", {"body": "收到"})

    counters = client.get("/board/counters/").json()

    assert counters["open"] == 2
    assert counters["unassigned"] == 0
    assert counters["waiting"] == 1
    assert counters["first_responses_today"] == 1
    assert counters["first_response_avg_seconds"] >= 0
    assert counters["breached"] == 0


def test_the_board_page_is_for_supervisors(client, agent, supervisor):
    client.force_login(agent.user)
    assert client.get("/board/").status_code == 403
    client.force_login(supervisor.user)
    assert client.get("/board/").status_code == 200
