"""Agent scorecards: an agent's figures beside their team's, from the same rollups as the
reports, and who may open whose card (an agent their own, a supervisor their teams' agents,
an admin everyone's)."""

import pytest

from analytics.facts import facts_refresh
from tests.factories import TeamFactory, intake, make_agent
from tests.feedback.factories import review
from tickets.models import Status
from tickets.services.workflow import ticket_assign, ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def team_of_two(default_team, supervisor):  # type: ignore[no-untyped-def]
    """Two agents of one team: the first resolves a ticket with one answer, the second
    resolves one after two answers."""
    first = make_agent(teams=[default_team])
    second = make_agent(teams=[default_team])
    one = intake(phone="13800138001", text="草莓发霉了").ticket
    ticket_assign(ticket=one, agent=first, actor=supervisor.user)
    ticket_reply(ticket=one, author=first, body="给您退款")
    ticket_set_status(ticket=one, status=Status.RESOLVED, actor=first.user)
    two = intake(phone="13800138002", text="快递没到").ticket
    ticket_assign(ticket=two, agent=second, actor=supervisor.user)
    ticket_reply(ticket=two, author=second, body="我查一下")
    ticket_reply(ticket=two, author=second, body="明天到")
    ticket_set_status(ticket=two, status=Status.RESOLVED, actor=second.user)
    review(ticket=one, agent=first, reviewer=supervisor.user)
    facts_refresh()
    return first, second, one, two


def figures(response) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {f["key"]: (f["agent"], f["team"]) for f in response.context["figures"]}


def test_a_scorecard_shows_the_agents_figures_beside_the_teams(client, team_of_two, supervisor):
    first, _second, _one, _two = team_of_two
    client.force_login(first.user)

    response = client.get(f"/reports/scorecards/{first.pk}/")

    assert response.status_code == 200
    shown = figures(response)
    assert shown["fcr_rate"] == ("100.0%", "50.0%")
    assert shown["reopen_rate"] == ("0.0%", "0.0%")
    # Counts beside the team's per agent: two resolved over the team's three members (the
    # two agents and the supervisor).
    assert response.context["card"].team_size == 3
    assert shown["resolved"] == ("1", "0.7")
    assert shown["score_avg"] == ("100.0", "100.0")
    assert response.context["card"].team.name == "客服一组"
    assert shown["csat_rate"] == ("—", "—")  # no survey answered: no figure, not zero


def test_the_scorecard_agrees_with_the_agents_report(client, team_of_two, supervisor):
    first, _second, _one, _two = team_of_two
    client.force_login(supervisor.user)

    card = figures(client.get(f"/reports/scorecards/{first.pk}/"))
    report = client.get("/reports/agents/")
    row = next(
        [c["text"] for c in r["cells"]]
        for item in report.context["tables"]
        for r in item["rows"]
        if r["label"] == str(first)
    )

    assert card["resolved"][0] == row[2]
    assert card["fcr_rate"][0] == row[4]
    assert card["score_avg"][0] == row[7]


def test_an_agent_sees_only_their_own_scorecard(client, team_of_two):
    first, second, _one, _two = team_of_two
    client.force_login(first.user)

    assert client.get(f"/reports/scorecards/{first.pk}/").status_code == 200
    assert client.get(f"/reports/scorecards/{second.pk}/").status_code == 403
    assert client.get("/reports/scorecards/999999/").status_code == 403
    listing = client.get("/reports/scorecards/")
    assert listing.status_code == 302 and listing["Location"] == f"/reports/scorecards/{first.pk}/"


def test_a_supervisor_sees_their_teams_agents_only(client, team_of_two, supervisor):
    first, second, _one, _two = team_of_two
    elsewhere = make_agent(teams=[TeamFactory(name="售后组")])
    client.force_login(supervisor.user)

    assert client.get(f"/reports/scorecards/{first.pk}/").status_code == 200
    assert client.get(f"/reports/scorecards/{second.pk}/").status_code == 200
    assert client.get(f"/reports/scorecards/{supervisor.pk}/").status_code == 200
    assert client.get(f"/reports/scorecards/{elsewhere.pk}/").status_code == 403
    listed = {a.pk for a in client.get("/reports/scorecards/").context["agents"]}
    assert first.pk in listed and second.pk in listed and elsewhere.pk not in listed


def test_an_admin_sees_every_scorecard(client, team_of_two):
    first, _second, _one, _two = team_of_two
    elsewhere = make_agent(teams=[TeamFactory(name="售后组")])
    admin = make_agent(teams=[], role="admin")
    client.force_login(admin.user)

    assert client.get(f"/reports/scorecards/{elsewhere.pk}/").status_code == 200
    assert client.get(f"/reports/scorecards/{first.pk}/").status_code == 200
    assert client.get("/reports/scorecards/999999/").status_code == 404
    assert client.get(f"/reports/scorecards/{'9' * 30}/").status_code == 404


def test_scorecards_need_a_member_of_staff(client, team_of_two):
    first, _second, _one, _two = team_of_two

    assert client.get(f"/reports/scorecards/{first.pk}/").status_code == 302  # sign in


def test_a_team_asked_for_that_the_agent_is_in_is_the_comparison(client, team_of_two):
    first, _second, _one, _two = team_of_two
    night = TeamFactory(name="夜班组")
    first.teams.add(night)
    client.force_login(first.user)

    response = client.get(f"/reports/scorecards/{first.pk}/", {"team": night.pk})

    assert response.context["card"].team == night
    # Night shift resolved nothing: the team's rates have no figure.
    assert figures(response)["fcr_rate"] == ("100.0%", "—")


def test_a_bad_period_on_a_scorecard_is_refused(client, team_of_two):
    first, _second, _one, _two = team_of_two
    client.force_login(first.user)

    response = client.get(
        f"/reports/scorecards/{first.pk}/", {"start": "2026-12-02", "end": "2026-12-01"}
    )

    assert response.status_code == 400
    assert "The period starts after it ends." in response.content.decode()
