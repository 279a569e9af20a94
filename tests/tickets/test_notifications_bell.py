"""The header's notification bell on every staff page: the unread count, the list, marking
read one or all, the sound setting, and the notice of a ticket someone else assigned."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TeamFactory, UserFactory, intake, make_agent
from tickets.models import AlertSettings, Notification
from tickets.services.notifications import notifications_create
from tickets.services.workflow import ticket_assign

pytestmark = pytest.mark.django_db


def _notify(user, text: str, ticket=None) -> Notification:  # type: ignore[no-untyped-def]
    now = timezone.now()
    notifications_create(
        users=[user], ticket=ticket, kind="escalation", text=text, deliver_after=now, now=now
    )
    notification = Notification.objects.get(user=user, text=text)
    # Delivered as the after-commit step would deliver it.
    Notification.objects.filter(pk=notification.pk).update(delivered_at=now)
    return notification


def _count(html: str) -> int:
    match = re.search(r'id="bell-count" data-count="(\d+)"', html)
    assert match, "no bell count on the page"
    return int(match.group(1))


def test_every_staff_page_has_the_bell_with_the_unread_count(agent_client, agent):
    ticket = intake(user_id="u1").ticket
    _notify(agent.user, "一号通知", ticket)
    _notify(agent.user, "二号通知")
    read = _notify(agent.user, "已读通知")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

    pages = ["/", f"/tickets/{ticket.number}/", "/aftersales/"]
    counts = {path: _count(agent_client.get(path).content.decode()) for path in pages}

    assert counts == {path: 2 for path in pages}
    html = agent_client.get("/aftersales/").content.decode()
    assert "一号通知" in html and "二号通知" in html and "已读通知" not in html
    # The page opens the agent socket for the bell even without a live badge of its own.
    assert 'data-live-socket="/ws/agent/"' in html


def test_the_bell_is_not_on_pages_for_customers_or_signed_out_users(client):
    html = client.get("/accounts/login/").content.decode()

    assert 'id="bell"' not in html
    assert "aware.js" not in html


def test_the_bells_fragment_lists_the_users_own_notifications_with_the_count(
    agent_client, agent, default_team
):
    other = make_agent(teams=[default_team])
    _notify(agent.user, "给我的")
    _notify(other.user, "给同事的")

    response = agent_client.get("/bell/")

    html = response.content.decode()
    assert "给我的" in html and "给同事的" not in html
    assert 'id="bell-count" data-count="1" hx-swap-oob="true"' in html


def test_dismissing_one_marks_it_read_and_redraws_the_bell(agent_client, agent):
    first = _notify(agent.user, "第一条")
    _notify(agent.user, "第二条")

    response = agent_client.post(f"/bell/{first.pk}/read/", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "kefu:notification"  # the queue's list follows
    assert "第一条" not in html and "第二条" in html
    assert 'data-count="1"' in html
    assert Notification.objects.get(pk=first.pk).read_at is not None


def test_dismissing_without_htmx_goes_back_to_the_page(agent_client, agent):
    first = _notify(agent.user, "第一条")

    response = agent_client.post(
        f"/bell/{first.pk}/read/", HTTP_REFERER="http://testserver/aftersales/"
    )

    assert response.status_code == 302
    assert response["Location"] == "http://testserver/aftersales/"
    assert Notification.objects.get(pk=first.pk).read_at is not None


def test_nobody_can_dismiss_someone_elses_notification(agent_client, default_team):
    other = make_agent(teams=[default_team])
    theirs = _notify(other.user, "同事的通知")

    agent_client.post(f"/bell/{theirs.pk}/read/", HTTP_HX_REQUEST="true")

    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_all_read_clears_the_users_own_only(agent_client, agent, default_team):
    other = make_agent(teams=[default_team])
    for index in range(12):
        _notify(agent.user, f"通知 {index}")
    theirs = _notify(other.user, "同事的通知")
    held = Notification.objects.create(
        user=agent.user,
        kind="escalation",
        text="明早才送达",
        created_at=timezone.now(),
        deliver_after=timezone.now() + timezone.timedelta(hours=10),
    )
    before = _count(agent_client.get("/").content.decode())

    response = agent_client.post("/bell/read-all/", HTTP_HX_REQUEST="true")

    assert before == 12
    assert 'data-count="0"' in response.content.decode()
    assert Notification.objects.filter(user=agent.user, read_at__isnull=True).get() == held
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_sound_is_off_until_the_user_turns_it_on(agent_client, agent):
    before = agent_client.get("/").content.decode()

    turned_on = agent_client.post("/bell/settings/", {"play_sound": "on"}, HTTP_HX_REQUEST="true")
    turned_off = agent_client.post("/bell/settings/", {}, HTTP_HX_REQUEST="true")

    assert 'id="bell-play-sound" data-autosubmit>' in before
    assert 'id="bell-play-sound" data-autosubmit checked>' in turned_on.content.decode()
    assert 'id="bell-play-sound" data-autosubmit>' in turned_off.content.decode()
    assert AlertSettings.objects.get(user=agent.user).play_sound is False


def test_a_page_that_read_the_agent_shows_the_sound_setting_it_read_along(agent_client, agent):
    # The queue reads the agent (with the settings) before the header's bell draws.
    assert 'id="bell-play-sound" data-autosubmit>' in agent_client.get("/").content.decode()
    AlertSettings.objects.create(user=agent.user, play_sound=True)
    with CaptureQueriesContext(connection) as queries:
        page = agent_client.get("/").content.decode()
    assert 'id="bell-play-sound" data-autosubmit checked>' in page
    assert not [q for q in queries if 'FROM "tickets_alertsettings"' in q["sql"]]


def test_the_sound_file_is_a_short_wav_of_our_own(client):
    import wave
    from pathlib import Path

    from django.conf import settings

    path = Path(settings.BASE_DIR) / "kefu" / "static" / "kefu" / "alert.wav"
    with wave.open(str(path)) as sound:
        seconds = sound.getnframes() / sound.getframerate()

    assert 0.1 < seconds < 1.0


def test_a_ticket_assigned_by_someone_else_notifies_the_agent(
    agent, supervisor, django_capture_on_commit_callbacks
):
    ticket = intake(user_id="u1").ticket
    ticket_assign(ticket=ticket, agent=None, actor=supervisor.user)

    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, agent=agent, actor=supervisor.user)

    (notice,) = Notification.objects.filter(user=agent.user)
    assert (notice.kind, notice.ticket_id) == ("assigned", ticket.pk)
    assert ticket.number in notice.text
    assert notice.delivered_at is not None


def test_taking_a_ticket_oneself_notifies_nobody(agent_client, agent):
    ticket = intake(user_id="u1").ticket
    ticket_assign(ticket=ticket, agent=None, actor=agent.user)

    agent_client.post(f"/tickets/{ticket.number}/take/")

    assert Notification.objects.filter(user=agent.user).count() == 0


@pytest.mark.parametrize(
    "path, method",
    [
        ("/bell/", "get"),
        ("/bell/1/read/", "post"),
        ("/bell/read-all/", "post"),
        ("/bell/settings/", "post"),
    ],
)
def test_the_bell_is_for_staff_only(client, path, method, default_team):
    anonymous = getattr(client, method)(path)
    client.force_login(UserFactory())
    no_role = getattr(client, method)(path)

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert no_role.status_code == 403


def test_an_agent_of_another_team_sees_only_their_own_bell(client, agent):
    outsider = make_agent(teams=[TeamFactory()])
    _notify(agent.user, "只给一组的")
    client.force_login(outsider.user)

    html = client.get("/bell/").content.decode()

    assert "只给一组的" not in html
    assert 'data-count="0"' in html


def test_the_bell_costs_a_fixed_number_of_queries(
    agent_client, agent, django_assert_max_num_queries
):
    for index in range(15):
        _notify(agent.user, f"通知 {index}")

    with django_assert_max_num_queries(6):
        response = agent_client.get("/bell/")

    assert response.content.decode().count("data-notification=") == 10
    assert 'data-count="15"' in response.content.decode()
