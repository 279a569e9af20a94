"""Satisfaction on the reports (docs/metrics.md): CSAT, its response rate and NPS kept in the
per-ticket facts and the daily rollups from the surveys feedback records, pinned on tickets
and answers built by hand through the same services customers and agents use; replayed and
rebuilt without a change; the same figures on the page, in its download, on the scorecard
and in the monthly ranking."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from analytics import reports
from analytics.facts import facts_mark, facts_refresh
from analytics.models import DailyRollup, FactDirty, TicketFact
from analytics.ranking import ranking
from feedback.models import Survey
from feedback.services.surveys import Answer, SurveyRefused, survey_answer, survey_invite
from tests.factories import make_agent
from tests.feedback.surveys_support import (
    DAYTIME,
    Clock,
    answered_and_resolved,
    configure,
    customer_ticket,
    outbox,  # noqa: F401  (fixture)
    sms_in,
)
from tickets.models import Agent, Channel, Ticket
from tickets.services.workflow import ticket_assign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("outbox")]

DAY = DAYTIME.date()
PERIOD = {"start": DAY.isoformat(), "end": DAY.isoformat()}


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch, DAYTIME)


def rated(
    kind: str, scores: list[int | None], agent: Agent, supervisor: Agent, *, first: int = 0
) -> list[Ticket]:
    """A ticket per score, assigned to `agent`, answered, resolved and invited to a survey of
    `kind`; answered with the score (None: never answered)."""
    configure(delay_minutes=0, fatigue_days=0)
    tickets = []
    for index, score in enumerate(scores, start=first):
        ticket = customer_ticket(phone=f"+86139000000{index:02d}")
        ticket_assign(ticket=ticket, agent=agent, actor=supervisor.user)
        answered_and_resolved(ticket, agent)
        survey = Survey.objects.get(ticket=ticket)
        Survey.objects.filter(pk=survey.pk).update(kind=kind)
        survey_invite(survey_id=survey.pk)
        survey.refresh_from_db()
        assert survey.invited_at is not None
        if score is not None:
            survey_answer(survey=survey, answer=Answer(score=score), via="web")
        tickets.append(ticket)
    return tickets


def rollups() -> list[dict[str, object]]:
    rows = DailyRollup.objects.order_by("day", "team_id", "channel", "category", "tier", "agent_id")
    return [{k: v for k, v in row.items() if k != "id"} for row in rows.values()]


def day_totals():  # type: ignore[no-untyped-def]
    return reports.period_totals(reports.Filters(start=DAY, end=DAY))


def test_csat_is_the_share_of_four_and_five_and_the_response_rate_answers_over_invitations(
    agent, supervisor, clock
):
    tickets = rated("csat", [5, 4, 3, 2, 1, None], agent, supervisor)

    facts_refresh()

    totals = day_totals()
    assert (totals.csat_invited, totals.csat_answered, totals.csat_satisfied) == (6, 5, 2)
    assert totals.csat_score_sum == 15
    assert totals.csat_rate == pytest.approx(0.4)
    assert totals.csat_avg == pytest.approx(3.0)
    assert totals.csat_response_rate == pytest.approx(5 / 6)
    assert totals.nps is None and totals.nps_answered == 0
    first = TicketFact.objects.get(ticket_id=tickets[0].pk)
    assert (first.csat_score, first.csat_answered_at, first.csat_invited_at) == (
        5,
        DAYTIME,
        DAYTIME,
    )
    unanswered = TicketFact.objects.get(ticket_id=tickets[-1].pk)
    assert unanswered.csat_invited_at == DAYTIME and unanswered.csat_score is None


def test_nps_is_promoters_less_detractors_with_passives_counted_among_the_answers(
    agent, supervisor, clock
):
    rated("nps", [10, 9, 8, 7, 3, None], agent, supervisor)

    facts_refresh()

    totals = day_totals()
    assert (totals.nps_invited, totals.nps_answered) == (6, 5)
    assert (totals.nps_promoters, totals.nps_passives, totals.nps_detractors) == (2, 2, 1)
    assert totals.nps == pytest.approx(20.0)
    assert totals.nps_response_rate == pytest.approx(5 / 6)
    assert totals.csat_answered == 0 and totals.csat_rate is None


def test_nps_by_channel_team_and_category_come_from_the_same_rollups(agent, supervisor, clock):
    rated("nps", [10, 0], agent, supervisor)
    facts_refresh()
    (channel,) = {f.channel for f in TicketFact.objects.filter(nps_score__isnull=False)}
    (category,) = {f.category for f in TicketFact.objects.filter(nps_score__isnull=False)}

    for narrowed in (
        reports.Filters(start=DAY, end=DAY, channel=channel),
        reports.Filters(start=DAY, end=DAY, team_id=agent.teams.get().pk),
        reports.Filters(start=DAY, end=DAY, category=category),
    ):
        assert reports.period_totals(narrowed).nps == pytest.approx(0.0)
    other = reports.Filters(start=DAY, end=DAY, channel=Channel.EMAIL)
    assert reports.period_totals(other).nps is None


def test_an_invitation_and_an_answer_each_mark_the_ticket_in_their_transaction(
    agent, supervisor, clock
):
    configure(delay_minutes=30, fatigue_days=0)
    ticket = customer_ticket()
    ticket_assign(ticket=ticket, agent=agent, actor=supervisor.user)
    answered_and_resolved(ticket, agent)
    facts_refresh()
    assert not FactDirty.objects.exists()
    survey = Survey.objects.get(ticket=ticket)

    clock.set(DAYTIME + timedelta(minutes=31))
    survey_invite(survey_id=survey.pk)

    assert list(FactDirty.objects.values_list("ticket_id", flat=True)) == [ticket.pk]
    facts_refresh()
    assert day_totals().csat_invited == 1 and day_totals().csat_answered == 0

    survey.refresh_from_db()
    survey_answer(survey=survey, answer=Answer(score=4), via="web")

    assert list(FactDirty.objects.values_list("ticket_id", flat=True)) == [ticket.pk]
    facts_refresh()
    assert (day_totals().csat_answered, day_totals().csat_satisfied) == (1, 1)


def test_a_digit_answered_by_sms_counts_once_however_often_it_is_resent(agent, supervisor, clock):
    configure(delay_minutes=0, fatigue_days=0)
    ticket = customer_ticket()
    ticket_assign(ticket=ticket, agent=agent, actor=supervisor.user)
    answered_and_resolved(ticket, agent)
    survey_invite(survey_id=Survey.objects.get(ticket=ticket).pk)
    facts_refresh()

    sms_in("4", provider_id="sms-answer-1")
    sms_in("4", provider_id="sms-answer-1")  # the provider delivers it again
    sms_in("1", provider_id="sms-answer-2")  # a second digit changes nothing
    facts_refresh()

    totals = day_totals()
    assert (totals.csat_invited, totals.csat_answered, totals.csat_satisfied) == (1, 1, 1)
    assert TicketFact.objects.get(ticket_id=ticket.pk).csat_score == 4


def test_an_answer_refused_as_a_second_one_marks_nothing(agent, supervisor, clock):
    (ticket,) = rated("csat", [2], agent, supervisor)
    facts_refresh()
    survey = Survey.objects.get(ticket=ticket)

    with pytest.raises(SurveyRefused):
        survey_answer(survey=survey, answer=Answer(score=5), via="web")

    assert not FactDirty.objects.exists()
    facts_refresh()
    assert (day_totals().csat_answered, day_totals().csat_satisfied) == (1, 0)


def test_an_answer_counts_on_the_day_it_was_given_the_invitation_on_its_own(
    agent, supervisor, clock
):
    configure(delay_minutes=0, fatigue_days=0)
    late = DAYTIME.replace(hour=23, minute=50)
    clock.set(late)
    ticket = customer_ticket(channel=Channel.EMAIL, phone=None, email="li@example.com")
    ticket_assign(ticket=ticket, agent=agent, actor=supervisor.user)
    answered_and_resolved(ticket, agent)
    survey = Survey.objects.get(ticket=ticket)
    survey_invite(survey_id=survey.pk)
    clock.set(late + timedelta(minutes=20))
    survey.refresh_from_db()
    survey_answer(survey=survey, answer=Answer(score=5), via="web")

    facts_refresh()

    first = reports.period_totals(reports.Filters(start=DAY, end=DAY))
    second_day = DAY + timedelta(days=1)
    second = reports.period_totals(reports.Filters(start=second_day, end=second_day))
    assert (first.csat_invited, first.csat_answered) == (1, 0)
    assert (second.csat_invited, second.csat_answered, second.csat_satisfied) == (0, 1, 1)


def test_replaying_the_marks_changes_nothing_and_a_rebuild_gives_the_same_rollups(
    agent, supervisor, clock
):
    tickets = rated("csat", [5, 3, None], agent, supervisor)
    tickets += rated("nps", [9, 6], agent, supervisor, first=10)
    facts_refresh()
    live = rollups()
    assert sum(row["csat_answered"] for row in live) == 2  # type: ignore[misc]

    facts_mark([t.pk for t in tickets])
    facts_mark([t.pk for t in tickets])
    facts_refresh()
    assert rollups() == live

    call_command("facts_rebuild", chunk=2)
    assert rollups() == live
    assert TicketFact.objects.filter(csat_score__isnull=False).count() == 2
    assert TicketFact.objects.filter(nps_score__isnull=False).count() == 2


def download(client, path: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = client.get(path, PERIOD)
    assert response.status_code == 200, path
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_satisfaction_page_shows_csat_and_nps_agrees_with_its_download_and_drills_down(
    client, agent, supervisor, clock
):
    csat = rated("csat", [5, 4, 2, None], agent, supervisor)
    rated("nps", [10, 8, 3, 2], agent, supervisor, first=10)
    facts_refresh()
    client.force_login(supervisor.user)

    response = client.get("/reports/quality/", PERIOD)

    assert response.status_code == 200
    tiles = {tile["key"]: tile["value"] for tile in response.context["tiles"]}
    assert tiles["csat_rate"] == "66.7%"
    assert tiles["csat_answered"] == "3"
    assert tiles["csat_response_rate"] == "75.0%"
    assert tiles["nps"] == "-25"  # 1 promoter, 2 detractors of 4
    found = next(
        item for item in response.context["tables"] if item["table"].key == "satisfaction-agents"
    )
    (row,) = found["rows"]
    assert row["label"] == str(agent)
    cells = [cell["text"] for cell in row["cells"]]
    # invitations, answers, response rate, 4–5, CSAT, average, NPS answers, promoters,
    # passives, detractors, NPS
    assert cells == ["4", "3", "75.0%", "2", "66.7%", "3.7", "4", "1", "1", "2", "-25"]
    rows = download(client, "/reports/quality/satisfaction-agents.csv")
    assert rows[1] == [
        str(agent),
        "4",
        "3",
        "0.75",
        "2",
        "0.6667",
        "3.7",
        "4",
        "1",
        "1",
        "2",
        "-25.0",
    ]

    rated_link = row["cells"][1]["href"]
    drilled = client.get(rated_link)
    numbers = {t.number for t in drilled.context["rows"]}
    assert drilled.status_code == 200
    assert numbers == {t.number for t in csat[:3]}  # rated; not the unanswered, not NPS
    satisfied = client.get(row["cells"][3]["href"])
    assert {t.number for t in satisfied.context["rows"]} == {csat[0].number, csat[1].number}


def test_the_scorecard_shows_the_agents_csat_beside_the_teams(
    client, agent, supervisor, default_team, clock
):
    other = make_agent(teams=[default_team])
    rated("csat", [5, 5], agent, supervisor)
    rated("csat", [1, 2], other, supervisor, first=10)
    facts_refresh()
    client.force_login(supervisor.user)

    response = client.get(f"/reports/scorecards/{agent.pk}/", PERIOD)

    figures = {f["key"]: (f["agent"], f["team"], f["better"]) for f in response.context["figures"]}
    assert figures["csat_rate"] == ("100.0%", "50.0%", True)
    assert figures["csat_answered"][0] == "2"
    assert "Not measured yet" not in response.content.decode()


def test_the_ranking_weighs_the_agents_real_csat(client, agent, supervisor, default_team, clock):
    other = make_agent(teams=[default_team])
    rated("csat", [5, 5], agent, supervisor)
    rated("csat", [5, 1], other, supervisor, first=10)
    facts_refresh()
    from analytics.models import RankingSettings

    settings = RankingSettings(
        weight_csat=50, weight_quality=0, weight_fcr=25, weight_sla=25, min_resolved=1
    )

    entries = {e.agent_id: e for e in ranking(DAY.replace(day=1), settings)}

    mine = {c.key: c for c in entries[agent.pk].components}
    theirs = {c.key: c for c in entries[other.pk].components}
    assert mine["csat"].value == 1.0 and theirs["csat"].value == 0.5
    # FCR and SLA alike for both (one reply each, in time): CSAT makes the difference.
    assert mine["fcr"].value == theirs["fcr"].value
    assert mine["csat"].contribution == pytest.approx(100 * mine["csat"].used_weight)
    assert entries[agent.pk].rank == 1 and entries[other.pk].rank == 2
    assert entries[agent.pk].score - entries[other.pk].score == pytest.approx(
        50 * mine["csat"].used_weight
    )

    client.force_login(supervisor.user)
    page = client.get("/reports/ranking/", {"month": DAY.strftime("%Y-%m")}).content.decode()
    assert "CSAT is the share of answers rated 4 or 5" in page
    assert "not measured yet" not in page
