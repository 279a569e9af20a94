"""The weekly sample: a random share per agent, every complaint, every breached SLA, every
keyword match, every CSAT 1–2 from a registered source; drawing twice adds nothing."""

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from feedback.models import Sample, SampleReason, SamplingRule
from feedback.services.sampling import (
    sample_draw,
    sample_source_register,
    sample_source_unregister,
    week_bounds,
    week_of,
)
from feedback.services.scorecards import scorecard_default
from feedback.tasks import quality_sample_draw
from tests.factories import make_agent
from tests.feedback.factories import WEEK, at, conversation, rule_for
from tickets.models import EventKind, SlaState, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def handled(agent, text="我的订单还没到", *, day=1):  # type: ignore[no-untyped-def]
    return conversation(
        agent=agent,
        turns=[("in", text, at(day, 10)), ("out", "您好，马上为您查询。", at(day, 10, 5))],
        user_id=f"u-{text}-{day}-{agent.pk}",
    )


def drawn() -> dict[str, list[str]]:
    return {
        sample.ticket.number: sample.reasons
        for sample in Sample.objects.filter(week=WEEK).select_related("ticket")
    }


def test_the_week_starts_on_monday_in_the_deployments_zone():
    start, end = week_bounds(WEEK + timedelta(days=3))
    assert start.date() == WEEK and start.hour == 0
    assert str(start.tzinfo) == settings.TIME_ZONE
    assert end - start == timedelta(days=7)
    assert week_of(WEEK + timedelta(days=6)) == WEEK


def test_every_complaint_is_drawn_and_other_categories_are_not(default_team, agent):
    rule_for(default_team)
    complaint = handled(agent, "你们的服务太差了")
    Ticket.objects.filter(pk=complaint.pk).update(category="complaint")
    other = handled(agent, "会员积分怎么兑换")
    Ticket.objects.filter(pk=other.pk).update(category="membership")
    sample_draw(week=WEEK)
    assert drawn() == {complaint.number: [SampleReason.COMPLAINT]}


def test_every_breached_ticket_is_drawn_now_or_earlier_breached(default_team, agent):
    rule_for(default_team)
    breached_now = handled(agent, "还没到")
    Ticket.objects.filter(pk=breached_now.pk).update(sla_state=SlaState.BREACHED)
    breached_before = handled(agent, "物流停了")
    TicketEvent.objects.create(
        ticket=breached_before, kind=EventKind.SLA_BREACH, created_at=at(1, 12)
    )
    handled(agent, "发票怎么开")
    sample_draw(week=WEEK)
    assert drawn() == {
        breached_now.number: [SampleReason.SLA_BREACH],
        breached_before.number: [SampleReason.SLA_BREACH],
    }


def test_keywords_match_any_message_of_the_ticket(default_team, agent):
    # Complaints off: a threat to call 12315 is a complaint too (kb triage's complaint rule).
    rule_for(default_team, complaints=False, keywords=["12315", "Lawyer"])
    threatened = handled(agent, "再不处理我就打12315")
    english = handled(agent, "my lawyer will call you")
    handled(agent, "谢谢")
    sample_draw(week=WEEK)
    assert drawn() == {
        threatened.number: [SampleReason.KEYWORD],
        english.number: [SampleReason.KEYWORD],
    }


def test_a_rule_with_the_kind_switched_off_does_not_draw_it(default_team, agent):
    rule_for(default_team, complaints=False, sla_breached=False)
    ticket = handled(agent, "投诉")
    Ticket.objects.filter(pk=ticket.pk).update(category="complaint", sla_state=SlaState.BREACHED)
    assert sample_draw(week=WEEK) == []


def test_the_random_share_is_per_agent_and_rounds_up(default_team, agent):
    other = make_agent(teams=[default_team])
    rule_for(default_team, random_percent=30, complaints=False, sla_breached=False)
    mine = [handled(agent, f"问题{n}") for n in range(5)]
    theirs = [handled(other, f"问题{n}", day=2) for n in range(2)]
    sample_draw(week=WEEK)
    samples = Sample.objects.filter(week=WEEK)
    # ceil(5 × 30%) = 2 of the first agent's, ceil(2 × 30%) = 1 of the other's
    assert samples.filter(agent=agent).count() == 2
    assert samples.filter(agent=other).count() == 1
    assert {s.ticket_id for s in samples.filter(agent=agent)} <= {t.pk for t in mine}
    assert {s.ticket_id for s in samples.filter(agent=other)} <= {t.pk for t in theirs}
    assert all(s.reasons == [SampleReason.RANDOM] for s in samples)


def test_drawing_the_same_week_twice_adds_nothing(default_team, agent):
    rule_for(default_team, random_percent=50, keywords=["投诉"])
    for n in range(6):
        handled(agent, f"投诉{n}" if n % 2 else f"问题{n}")
    first = sample_draw(week=WEEK)
    assert first
    before = sorted(Sample.objects.values_list("pk", "ticket_id", "reasons"))
    assert sample_draw(week=WEEK) == []
    call_command("quality_sample", week=WEEK.isoformat(), stdout=open("/dev/null", "w"))
    assert sorted(Sample.objects.values_list("pk", "ticket_id", "reasons")) == before


def test_tickets_handled_in_another_week_or_by_the_bot_only_are_not_drawn(default_team, agent):
    rule_for(default_team, random_percent=100)
    conversation(
        agent=agent,
        turns=[("in", "上周的问题", at(-3, 10)), ("out", "您好", at(-3, 10, 5))],
        user_id="last-week",
    )
    inside = handled(agent, "这周的问题")
    sample_draw(week=WEEK)
    assert list(drawn()) == [inside.number]


def test_a_ticket_is_drawn_once_with_every_reason_and_for_the_agent_who_replied(
    default_team, agent
):
    rule_for(default_team, random_percent=100, keywords=["退款"])
    ticket = handled(agent, "我要退款")
    Ticket.objects.filter(pk=ticket.pk).update(category="complaint")
    sample_draw(week=WEEK)
    sample = Sample.objects.get()
    assert sample.agent == agent
    assert sample.reasons == [SampleReason.RANDOM, SampleReason.COMPLAINT, SampleReason.KEYWORD]


@pytest.fixture
def csat_source() -> Iterator[list[int]]:
    """A stand-in for the surveys: the tickets it names had a CSAT of 1 or 2."""
    low: list[int] = []
    sample_source_register(SampleReason.LOW_CSAT, lambda window, candidates: low)
    yield low
    sample_source_unregister(SampleReason.LOW_CSAT)


def test_every_low_csat_a_registered_source_names_is_drawn(default_team, agent, csat_source):
    rule_for(default_team)
    unhappy = handled(agent, "算了")
    handled(agent, "好的")
    csat_source.append(unhappy.pk)
    sample_draw(week=WEEK)
    assert drawn() == {unhappy.number: [SampleReason.LOW_CSAT]}


def test_without_a_csat_source_the_rule_draws_no_csat(default_team, agent):
    rule_for(default_team, complaints=False, sla_breached=False, low_csat=True)
    handled(agent, "算了")
    assert sample_draw(week=WEEK) == []


def test_the_beat_task_draws_last_week(default_team, agent, monkeypatch):
    rule_for(default_team, random_percent=100)
    ticket = handled(agent, "问题")
    monkeypatch.setattr("feedback.tasks.last_full_week", lambda: WEEK)
    assert quality_sample_draw() == 1
    assert quality_sample_draw() == 0
    assert list(drawn()) == [ticket.number]
    entry = settings.CELERY_BEAT_SCHEDULE["quality-sample"]
    assert entry["task"] == "feedback.tasks.quality_sample_draw"


def test_a_supervisor_sets_a_teams_rule_and_draws_a_week_from_the_pages(
    client, default_team, agent, supervisor
):
    scorecard = scorecard_default()
    client.force_login(supervisor.user)
    response = client.post(
        f"/quality/settings/teams/{default_team.pk}/",
        {
            "scorecard": scorecard.pk,
            "random_percent": "0",
            "keywords": "12315\n\n律师\n12315",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = SamplingRule.objects.get(team=default_team)
    assert (rule.random_percent, rule.complaints, rule.keywords) == (0, False, ["12315", "律师"])
    threatened = handled(agent, "我要找律师")
    response = client.post(
        "/quality/samples/draw/", {"week": (WEEK + timedelta(days=2)).isoformat()}
    )
    assert response["Location"] == f"/quality/samples/?week={WEEK.isoformat()}"
    assert drawn() == {threatened.number: [SampleReason.KEYWORD]}


def test_the_sample_list_reads_a_bounded_number_of_queries(
    client, default_team, agent, supervisor, django_assert_max_num_queries
):
    rule_for(default_team, random_percent=100)
    for n in range(6):
        handled(agent, f"问题{n}")
    sample_draw(week=WEEK)
    client.force_login(supervisor.user)
    with django_assert_max_num_queries(12):
        page = client.get(f"/quality/samples/?week={WEEK.isoformat()}")
    assert len(re.findall(r'href="/quality/samples/\d+/"', page.content.decode())) == 6
