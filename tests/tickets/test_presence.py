"""Presence: sockets counted per agent, idle agents away and back, crashed processes' sockets
expiring, and the status endpoint behind the header switch."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TeamFactory, UserFactory, make_agent
from tests.support.presence import sockets_reset
from tickets import presence_sockets
from tickets.models import Agent, AgentStatus
from tickets.services.presence import (
    presence_active,
    presence_connected,
    presence_disconnected,
    presence_set,
    presence_sweep,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sockets():  # type: ignore[no-untyped-def]
    sockets_reset()
    yield
    sockets_reset()


@pytest.fixture
def offline(default_team):  # type: ignore[no-untyped-def]
    return make_agent(teams=[default_team], status=AgentStatus.OFFLINE)


def _status(agent: Agent) -> tuple[str, bool]:
    agent.refresh_from_db()
    return agent.status, agent.status_is_auto


def test_online_with_the_first_page_offline_when_the_last_closes(offline):
    presence_connected(agent_id=offline.pk, socket="tab-1")
    presence_connected(agent_id=offline.pk, socket="tab-2")
    assert _status(offline) == (AgentStatus.ONLINE, False)

    presence_disconnected(agent_id=offline.pk, socket="tab-1")
    assert _status(offline)[0] == AgentStatus.ONLINE

    presence_disconnected(agent_id=offline.pk, socket="tab-2")
    assert _status(offline) == (AgentStatus.OFFLINE, True)


def test_a_new_page_keeps_a_chosen_status(offline):
    presence_connected(agent_id=offline.pk, socket="tab-1")
    presence_set(agent=offline, status=AgentStatus.BUSY)

    presence_connected(agent_id=offline.pk, socket="tab-2")

    assert _status(offline) == (AgentStatus.BUSY, False)


def test_idle_for_the_set_minutes_is_away_and_input_brings_them_back(offline, settings):
    settings.KEFU_PRESENCE_AWAY_MINUTES = 5
    start = timezone.now()
    presence_connected(agent_id=offline.pk, socket="tab-1", now=start)

    assert presence_sweep(now=start + timedelta(minutes=4)) == {"offline": 0, "away": 0}
    assert _status(offline)[0] == AgentStatus.ONLINE

    assert presence_sweep(now=start + timedelta(minutes=6))["away"] == 1
    assert _status(offline) == (AgentStatus.AWAY, True)

    presence_active(agent_id=offline.pk, socket="tab-1", now=start + timedelta(minutes=7))
    assert _status(offline) == (AgentStatus.ONLINE, False)


def test_input_on_any_page_keeps_the_agent_online(offline, settings):
    settings.KEFU_PRESENCE_AWAY_MINUTES = 5
    start = timezone.now()
    presence_connected(agent_id=offline.pk, socket="tab-1", now=start)
    presence_connected(agent_id=offline.pk, socket="tab-2", now=start)

    presence_active(agent_id=offline.pk, socket="tab-2", now=start + timedelta(minutes=4))

    assert presence_sweep(now=start + timedelta(minutes=8))["away"] == 0
    assert _status(offline)[0] == AgentStatus.ONLINE


def test_away_by_choice_stays_away_on_input(offline):
    presence_connected(agent_id=offline.pk, socket="tab-1")
    presence_set(agent=offline, status=AgentStatus.AWAY)

    presence_active(agent_id=offline.pk, socket="tab-1")

    assert _status(offline) == (AgentStatus.AWAY, False)


def test_sockets_of_a_crashed_process_expire_and_the_agent_goes_offline(
    offline, settings, monkeypatch
):
    settings.KEFU_PRESENCE_SOCKET_TTL_SECONDS = 90
    presence_connected(agent_id=offline.pk, socket="dead-process-tab")
    assert presence_sweep()["offline"] == 0

    # The process died: nobody refreshes the socket, nobody closes it.
    later = presence_sockets._clock() + 91
    monkeypatch.setattr(presence_sockets, "_clock", lambda: later)

    assert presence_sweep()["offline"] == 1
    assert _status(offline) == (AgentStatus.OFFLINE, True)


def test_a_refreshed_socket_does_not_expire(offline, monkeypatch):
    presence_connected(agent_id=offline.pk, socket="live-tab")
    base = presence_sockets._clock()
    monkeypatch.setattr(presence_sockets, "_clock", lambda: base + 60)
    presence_sockets.socket_refresh(agent_id=offline.pk, socket="live-tab")
    monkeypatch.setattr(presence_sockets, "_clock", lambda: base + 120)

    assert presence_sweep()["offline"] == 0
    assert _status(offline)[0] == AgentStatus.ONLINE


def test_status_changes_are_published_to_the_board_and_the_agents_pages(
    offline, django_capture_on_commit_callbacks, monkeypatch
):
    from kefu import realtime

    sent: list[tuple[list[str], dict[str, object]]] = []
    monkeypatch.setattr(realtime, "publish", lambda groups, event: sent.append((groups, event)))

    with django_capture_on_commit_callbacks(execute=True):
        presence_connected(agent_id=offline.pk, socket="tab-1")
        presence_set(agent=offline, status=AgentStatus.BUSY)

    assert [(groups, event["agent"]["status"]) for groups, event in sent] == [  # type: ignore[index]
        ([realtime.BOARD_GROUP, realtime.user_group(offline.user_id)], AgentStatus.ONLINE),
        ([realtime.BOARD_GROUP, realtime.user_group(offline.user_id)], AgentStatus.BUSY),
    ]
    assert "name" not in str(sent) and offline.user.username not in str(sent)


# --- the status endpoint --------------------------------------------------------------------


def test_an_agent_reads_and_sets_their_own_status(client, agent):
    client.force_login(agent.user)

    assert client.get("/presence/").json() == {"status": "online", "auto": False}
    answer = client.post("/presence/", {"status": "busy"}, headers={"accept": "application/json"})

    assert answer.json() == {"status": "busy", "auto": False}
    assert _status(agent) == (AgentStatus.BUSY, False)


def test_offline_and_nonsense_are_not_choices(client, agent):
    client.force_login(agent.user)

    for value in ("offline", "asleep", ""):
        assert client.post("/presence/", {"status": value}).status_code == 400
    assert _status(agent)[0] == AgentStatus.ONLINE


def test_the_switch_without_its_script_goes_back_to_the_page(client, agent):
    client.force_login(agent.user)

    answer = client.post(
        "/presence/", {"status": "away"}, headers={"referer": "http://testserver/"}
    )

    assert (answer.status_code, answer["Location"]) == (302, "http://testserver/")
    assert _status(agent)[0] == AgentStatus.AWAY


def test_htmx_gets_the_switch_back(client, agent):
    client.force_login(agent.user)

    answer = client.post("/presence/", {"status": "away"}, headers={"hx-request": "true"})

    assert b"data-presence" in answer.content
    assert b'value="away" selected' in answer.content


def test_an_agent_of_another_team_sets_only_their_own_status(client, agent):
    stranger = make_agent(teams=[TeamFactory(name="物流")])
    client.force_login(stranger.user)

    client.post("/presence/", {"status": "away"})

    assert _status(stranger)[0] == AgentStatus.AWAY
    assert _status(agent)[0] == AgentStatus.ONLINE


def test_anonymous_users_go_to_sign_in_and_customers_are_refused(client, agent):
    answer = client.post("/presence/", {"status": "away"})
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]

    client.force_login(UserFactory())  # no staff role: a customer's account, an integration
    assert client.get("/presence/").status_code == 403
    assert client.post("/presence/", {"status": "away"}).status_code == 403
    assert _status(agent)[0] == AgentStatus.ONLINE


def test_a_supervisor_without_an_agent_record_has_no_status(client, db):
    client.force_login(UserFactory(role="supervisor"))

    assert client.get("/presence/").status_code == 403


def test_the_header_shows_the_switch_to_agents_only(client, agent, supervisor):
    client.force_login(agent.user)
    page = client.get("/").content.decode()
    assert "data-presence" in page and "kefu/presence.js" in page

    client.force_login(UserFactory(role="supervisor"))
    board = client.get("/board/").content.decode()
    assert "data-presence" not in board
