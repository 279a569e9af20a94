"""The monthly 金牌客服 ranking: weights a supervisor sets, a minimum volume to qualify, and
each agent's components and weighted contributions shown."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.facts import facts_refresh
from analytics.metrics import Quality, Totals
from analytics.models import RankingSettings
from analytics.ranking import entry, ranking
from analytics.services import ranking_settings_update
from tests.factories import intake, make_agent
from tests.feedback.factories import review
from tickets.models import Status
from tickets.services.workflow import ticket_assign, ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_a_missing_component_shares_its_weight_among_the_agents_others():
    settings = RankingSettings(weight_csat=30, weight_quality=30, weight_fcr=20, weight_sla=20)
    # 10 resolved, 8 at first contact; 9 of 10 milestones met; quality 80 on two reviews.
    totals = Totals(
        resolved=10,
        first_contact_resolved=8,
        sla_first_response_decided=5,
        sla_first_response_met=5,
        sla_resolution_decided=5,
        sla_resolution_met=4,
    )
    quality = Quality(reviews=2, score_sum=160.0, failed=0)

    found = entry(agent_id=1, name="a", totals=totals, quality=quality, settings=settings)

    parts = {c.key: c for c in found.components}
    assert parts["csat"].value is None and parts["csat"].used_weight == 0
    # CSAT's 30 shared among 30 + 20 + 20: quality 3/7, FCR 2/7, SLA 2/7.
    assert parts["quality"].used_weight == pytest.approx(3 / 7)
    assert parts["fcr"].contribution == pytest.approx(0.8 * 2 / 7 * 100)
    assert parts["sla"].contribution == pytest.approx(0.9 * 2 / 7 * 100)
    assert found.score == pytest.approx((0.8 * 30 + 0.8 * 20 + 0.9 * 20) / 70 * 100)
    assert found.score == pytest.approx(sum(c.contribution for c in found.components))


def test_an_agent_under_the_minimum_is_listed_but_not_ranked():
    settings = RankingSettings(min_resolved=20)

    found = entry(
        agent_id=1,
        name="a",
        totals=Totals(resolved=19, first_contact_resolved=19),
        quality=Quality(),
        settings=settings,
    )

    assert found.qualifies is False and found.score == pytest.approx(100.0)


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


@pytest.fixture
def month_of_work(default_team, supervisor):  # type: ignore[no-untyped-def]
    """This month: one agent resolves at first contact and is reviewed 100; another
    resolves after two answers and is not reviewed; a third resolves nothing."""
    ranking_settings_update(
        weight_csat=30,
        weight_quality=30,
        weight_fcr=20,
        weight_sla=20,
        min_resolved=1,
        actor=supervisor.user,
    )
    best = make_agent(teams=[default_team])
    other = make_agent(teams=[default_team])
    idle = make_agent(teams=[default_team])
    one = intake(phone="13800138001", text="草莓发霉了").ticket
    ticket_assign(ticket=one, agent=best, actor=supervisor.user)
    ticket_reply(ticket=one, author=best, body="给您退款")
    ticket_set_status(ticket=one, status=Status.RESOLVED, actor=best.user)
    two = intake(phone="13800138002", text="快递没到").ticket
    ticket_assign(ticket=two, agent=other, actor=supervisor.user)
    ticket_reply(ticket=two, author=other, body="我查一下")
    ticket_reply(ticket=two, author=other, body="明天到")
    ticket_set_status(ticket=two, status=Status.RESOLVED, actor=other.user)
    review(ticket=one, agent=best, reviewer=supervisor.user)
    three = intake(phone="13800138003", text="发票").ticket
    ticket_assign(ticket=three, agent=idle, actor=supervisor.user)
    facts_refresh()
    return best, other, idle


def test_the_ranking_orders_by_weighted_score_and_explains_it(client, supervisor, month_of_work):
    best, other, idle = month_of_work
    client.force_login(supervisor.user)

    response = client.get("/reports/ranking/", {"month": this_month()})

    assert response.status_code == 200
    entries = [item["entry"] for item in response.context["entries"]]
    assert [e.agent_id for e in entries[:2]] == [best.pk, other.pk]
    first, second = entries[0], entries[1]
    assert (first.rank, second.rank) == (1, 2)
    # The best agent: FCR 100%, quality 100, SLA all met: 100 points.
    assert {c.key: c.value for c in first.components}["fcr"] == 1.0
    assert {c.key: c.value for c in first.components}["quality"] == 1.0
    sla = {c.key: c.value for c in first.components}["sla"]
    assert sla == 1.0  # answered and resolved within their deadlines
    assert first.score == pytest.approx(100.0)
    # The other: no review, so FCR and SLA carry half the score each; FCR is 0.
    parts = {c.key: c for c in second.components}
    assert parts["quality"].value is None and parts["fcr"].value == 0.0
    assert parts["fcr"].used_weight == pytest.approx(0.5)
    assert second.score == pytest.approx(parts["sla"].contribution)
    # The idle agent resolved nothing: below the minimum of one, not ranked.
    resting = next(e for e in entries if e.agent_id == idle.pk)
    assert (resting.qualifies, resting.rank, resting.resolved) == (False, None, 0)
    assert entries[-1] == resting
    page = response.content.decode()
    assert "CSAT is the share of answers rated 4 or 5" in page
    assert "Score = CSAT 30% + quality score 30%" in page
    assert "not ranked: below the minimum" in page


def test_the_ranking_shows_the_last_whole_month_by_default(client, supervisor, month_of_work):
    client.force_login(supervisor.user)

    response = client.get("/reports/ranking/")

    last = timezone.localdate().replace(day=1) - timedelta(days=1)
    assert response.context["month_value"] == last.strftime("%Y-%m")
    assert response.context["entries"] == []  # the work was done this month


def test_the_ranking_is_the_same_read_from_the_function(supervisor, month_of_work):
    best, _other, _idle = month_of_work

    entries = ranking(timezone.localdate())

    assert entries[0].agent_id == best.pk and entries[0].rank == 1


def test_a_supervisor_sets_the_weights_and_the_minimum(client, supervisor):
    client.force_login(supervisor.user)

    response = client.post(
        "/reports/ranking/settings/",
        {
            "weight_csat": 10,
            "weight_quality": 40,
            "weight_fcr": 25,
            "weight_sla": 25,
            "min_resolved": 50,
        },
    )

    assert response.status_code == 302
    saved = RankingSettings.objects.get(pk=1)
    assert (saved.weight_csat, saved.weight_quality, saved.weight_fcr, saved.weight_sla) == (
        10,
        40,
        25,
        25,
    )
    assert saved.min_resolved == 50 and saved.updated_by == supervisor.user
    page = client.get("/reports/ranking/").content.decode()
    assert "quality score 40%" in page and "at least 50 tickets" in page


def test_weights_that_do_not_add_up_to_100_are_refused_with_the_reason(client, supervisor):
    client.force_login(supervisor.user)

    response = client.post(
        "/reports/ranking/settings/",
        {
            "weight_csat": 30,
            "weight_quality": 30,
            "weight_fcr": 30,
            "weight_sla": 30,
            "min_resolved": 5,
        },
    )

    assert response.status_code == 400
    assert "The weights add up to 120%; they must add up to 100%." in response.content.decode()
    assert not RankingSettings.objects.exists()
    with pytest.raises(ValueError):
        ranking_settings_update(
            weight_csat=50,
            weight_quality=50,
            weight_fcr=50,
            weight_sla=0,
            min_resolved=1,
            actor=supervisor.user,
        )


def test_the_ranking_and_its_weights_are_for_supervisors(client, agent):
    client.force_login(agent.user)

    assert client.get("/reports/ranking/").status_code == 403
    assert client.get("/reports/ranking/settings/").status_code == 403
    assert client.post("/reports/ranking/settings/", {}).status_code == 403


def test_a_month_that_is_not_one_is_refused(client, supervisor):
    client.force_login(supervisor.user)

    response = client.get("/reports/ranking/", {"month": "2026-13"})

    assert response.status_code == 400
    assert "A month is written as 2026-11." in response.content.decode()
