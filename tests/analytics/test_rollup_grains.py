"""The rollup grains (analytics.facts.GRAINS): the day grain without the agent and the month
grain sum the same contributions as the finest one, after live refreshes, replays and a
set-based rebuild; and the report reader picks the coarsest grain that holds what it asks
for, with the same figures as the finest one would give."""

import csv
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from analytics import pages, reports
from analytics.facts import (
    GRAINS,
    _deltas,
    _rollups_add,
    facts_mark,
    facts_refresh,
    rollups_rebuild,
)
from analytics.metrics import SUMMED, Totals
from analytics.models import (
    CREATED_HOURS,
    DailyAgentRollup,
    DailyChannelRollup,
    DailyRollup,
    DailyTeamRollup,
    MonthlyRollup,
    TicketFact,
)
from tests.factories import intake
from tickets.models import Status
from tickets.services.workflow import ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI)


def table(model: Any) -> dict[tuple[Any, ...], dict[str, float]]:
    """A grain's rows by key, without rows whose every counter is zero (a live refresh may
    leave one behind when a ticket moves away; a rebuild writes none)."""
    grain = next(g for g in GRAINS if g.model is model)
    found = {}
    for row in model.objects.values(*grain.keys, *grain.counters):
        values = {name: row[name] for name in grain.counters}
        if any(values.values()):
            found[tuple(row[k] for k in grain.keys)] = values
    return found


def summed_up(
    rows: dict[tuple[Any, ...], dict[str, float]], key: Any, names: list[str]
) -> dict[tuple[Any, ...], dict[str, float]]:
    total: dict[tuple[Any, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for k, values in rows.items():
        for name in names:
            total[key(k)][name] += values[name]
    return {
        k: {n: round(v, 6) for n, v in values.items()}
        for k, values in total.items()
        if any(values.values())
    }


def assert_grains_agree() -> None:
    """The coarser grains equal the finest one summed up to their keys, and the contacts per
    hour add up to the contacts."""
    fine = table(DailyRollup)
    team = table(DailyTeamRollup)
    channel = table(DailyChannelRollup)
    agent = table(DailyAgentRollup)
    monthly = table(MonthlyRollup)
    names = list(SUMMED)
    # (day, team, channel, agent)
    assert summed_up(agent, lambda k: k, names) == summed_up(fine, lambda k: (*k[:3], k[5]), names)
    # (day, team, channel), with the contacts per hour
    assert summed_up(channel, lambda k: k, [*names, *CREATED_HOURS]) == summed_up(
        team, lambda k: k[:3], [*names, *CREATED_HOURS]
    )
    # (day, team, channel, category, tier)
    assert summed_up(team, lambda k: k[:5], names) == summed_up(fine, lambda k: k[:5], names)
    # (month, team, channel, category, tier, agent)
    assert summed_up(monthly, lambda k: k[:6], names) == summed_up(
        fine, lambda k: (k[0].replace(day=1), *k[1:6]), names
    )
    # (month, team, channel, category, tier, policy)
    assert summed_up(monthly, lambda k: (*k[:5], k[6]), names) == summed_up(
        team, lambda k: (k[0].replace(day=1), *k[1:6]), names
    )
    for values in [*team.values(), *channel.values()]:
        assert sum(values[h] for h in CREATED_HOURS) == values["created"]


def random_facts(count: int, seed: int = 3) -> list[TicketFact]:
    """Facts built by hand over thirteen months, with every kind of moment near local
    midnight and month ends, null business times, reopenings and undecided milestones."""
    rng = random.Random(seed)
    facts = []
    for pk in range(1, count + 1):
        created = NOW - timedelta(minutes=rng.randrange(0, 400 * 24 * 60))
        if rng.random() < 0.2:  # close to local midnight
            created = created.replace(hour=23, minute=rng.choice([50, 59]))
        first = (
            created + timedelta(minutes=rng.choice([5, 15, 600])) if rng.random() < 0.9 else None
        )
        resolved = (
            created + timedelta(hours=rng.choice([1, 20, 50])) if rng.random() < 0.7 else None
        )
        # Surveys: invited after the resolution, answered (or not) a day or so later, across
        # midnight now and then; a CSAT of 1–5 and an NPS of 0–10.
        csat_invited = resolved + timedelta(hours=2) if resolved and rng.random() < 0.6 else None
        csat_answered = (
            csat_invited + timedelta(hours=rng.choice([1, 23]))
            if csat_invited and rng.random() < 0.6
            else None
        )
        nps_invited = created + timedelta(days=7) if rng.random() < 0.3 else None
        nps_answered = (
            nps_invited + timedelta(hours=5) if nps_invited and rng.random() < 0.5 else None
        )
        facts.append(
            TicketFact(
                ticket_id=pk,
                created_at=created,
                channel=rng.choice(["app", "sms", "email"]),
                category=rng.choice(["logistics", "tech", ""]),
                tier=rng.choice(["urgent", "regular"]),
                team_id=rng.choice([None, 1, 2]),
                agent_id=rng.choice([None, 7, 8, 9]),
                customer_id=rng.randrange(1, 50),
                is_open=resolved is None,
                first_response_at=first,
                first_response_wall_s=int((first - created).total_seconds()) if first else None,
                first_response_business_s=rng.choice([None, 60]) if first else None,
                resolved_at=resolved,
                resolution_wall_s=int((resolved - created).total_seconds()) if resolved else None,
                resolution_business_s=rng.choice([None, 3600]) if resolved else None,
                agent_replies=1,
                bot_replies=0,
                reopens=rng.choice([0, 0, 1]),
                first_contact_resolved=rng.choice([True, False]) if resolved else None,
                bot_deflected=rng.choice([True, False]) if resolved else None,
                repeat_contact=rng.random() < 0.2,
                sentiment_sum=rng.choice([0.0, -0.5, 0.25]),
                sentiment_count=rng.choice([0, 1, 2]),
                sla_policy_id=rng.choice([None, 1, 2]),
                sla_first_response_at=first,
                sla_first_response_met=rng.choice([True, False]) if first else None,
                sla_plan_at=created + timedelta(hours=2) if rng.random() < 0.3 else None,
                sla_plan_met=rng.choice([True, False, None]),
                sla_resolution_at=resolved,
                sla_resolution_met=rng.choice([True, False]) if resolved else None,
                csat_invited_at=csat_invited,
                csat_answered_at=csat_answered,
                csat_score=rng.randint(1, 5) if csat_answered else None,
                nps_invited_at=nps_invited,
                nps_answered_at=nps_answered,
                nps_score=rng.randint(0, 10) if nps_answered else None,
                refreshed_at=NOW,
            )
        )
    return facts


def seeded(count: int = 400) -> list[TicketFact]:
    facts = random_facts(count)
    TicketFact.objects.bulk_create(facts)
    _rollups_add(_deltas((None, fact) for fact in facts))
    return facts


def test_live_refreshes_and_replays_keep_every_grain_the_sum_of_the_finest(agent):
    tickets = []
    for number, text in enumerate(["草莓坏了", "快递没到", "发票怎么开", "退款多久"]):
        ticket = intake(phone=f"1380013800{number}", text=text).ticket
        ticket_reply(ticket=ticket, author=agent, body="好的")
        if number % 2:
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, actor=agent.user)
        tickets.append(ticket)
    facts_refresh()
    ticket_set_status(ticket=tickets[1], status=Status.OPEN, actor=agent.user)
    facts_refresh()
    before = {
        model: table(model)
        for model in (
            DailyRollup,
            DailyTeamRollup,
            DailyChannelRollup,
            DailyAgentRollup,
            MonthlyRollup,
        )
    }

    facts_mark(t.pk for t in tickets)
    facts_refresh()

    assert {model: table(model) for model in before} == before
    assert_grains_agree()
    assert DailyTeamRollup.objects.aggregate(n=Sum("created"))["n"] == 4
    assert MonthlyRollup.objects.aggregate(n=Sum("resolved"))["n"] == 1


def test_the_set_based_rebuild_equals_the_rollups_added_fact_by_fact():
    if connection.vendor != "postgresql":
        pytest.skip("the set-based rebuild is PostgreSQL's")
    seeded()
    assert_grains_agree()
    incremental = {
        model: table(model)
        for model in (
            DailyRollup,
            DailyTeamRollup,
            DailyChannelRollup,
            DailyAgentRollup,
            MonthlyRollup,
        )
    }
    assert sum(v["created"] for v in incremental[DailyRollup].values()) == 400
    # The surveys' counters are in play, so a rebuild that left them out would differ.
    assert sum(v["csat_answered"] for v in incremental[DailyRollup].values()) > 20
    assert sum(v["nps_promoters"] for v in incremental[DailyRollup].values()) > 0

    rows = rollups_rebuild()

    rebuilt = {model: table(model) for model in incremental}
    for model in incremental:
        assert rebuilt[model].keys() == incremental[model].keys()
        for key, values in incremental[model].items():
            assert rebuilt[model][key] == pytest.approx(values), (model, key)
    assert rows["analytics_dailyrollup"] == len(incremental[DailyRollup])


def test_the_rollups_only_rebuild_command_keeps_the_facts(capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the set-based rebuild is PostgreSQL's")
    seeded(60)
    before = table(MonthlyRollup)
    DailyTeamRollup.objects.all().delete()

    call_command("facts_rebuild", rollups_only=True)

    assert TicketFact.objects.count() == 60
    after = table(MonthlyRollup)
    assert after.keys() == before.keys()
    assert {k: v["created"] for k, v in after.items()} == {
        k: v["created"] for k, v in before.items()
    }
    assert sum(v["created"] for v in table(DailyTeamRollup).values()) == 60
    assert "rollups rebuilt from 60 facts" in capsys.readouterr().out


def finest(filters: reports.Filters, *by: str) -> dict[tuple[Any, ...], Totals]:
    """The same reading straight from the finest grain, for comparison."""
    rows = DailyRollup.objects.filter(filters.dimensions(), day__range=(filters.start, filters.end))
    names = list(by)
    if not names:
        return {(): Totals.of(rows.aggregate(**{n: Sum(n) for n in SUMMED}))}
    return {
        tuple(row[n] for n in names): Totals.of(row)
        for row in rows.values(*names).annotate(**{n: Sum(n) for n in SUMMED}).order_by()
    }


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 12, 4), date(2026, 12, 3)),  # a year: eleven whole months and two ends
        (date(2026, 11, 1), date(2026, 11, 30)),  # one whole month, no ends
        (date(2026, 10, 15), date(2026, 11, 30)),  # a whole month and a start
        (date(2026, 11, 27), date(2026, 12, 3)),  # a week across a month end, no whole month
    ],
)
def test_the_reader_gives_the_finest_grains_figures_from_the_coarsest(start, end):
    seeded()
    plain = reports.Filters(start=start, end=end)
    narrowed = reports.Filters(start=start, end=end, team_id=1, channel="sms")
    for filters in (plain, narrowed, reports.Filters(start=start, end=end, agent_id=7)):
        for by in ((), ("day",), ("channel", "day"), ("category",), ("team_id",), ("agent_id",)):
            got = {k: v for k, v in reports.totals_by(filters, *by).items() if v != Totals()}
            want = {k: v for k, v in finest(filters, *by).items() if v != Totals()}
            assert got.keys() == want.keys(), (filters, by)
            for key, totals in want.items():
                assert got[key].created == totals.created
                assert got[key].resolved == totals.resolved
                assert got[key].sla_decided == totals.sla_decided
                assert got[key].sentiment_sum == pytest.approx(totals.sentiment_sum)
                assert got[key].first_response_wall_s == totals.first_response_wall_s


def test_the_reader_picks_the_coarsest_grain_that_keeps_what_is_asked():
    year = reports.Filters(start=date(2025, 12, 4), end=date(2026, 12, 3))
    assert reports.grain_for(year, ()) == (DailyChannelRollup, MonthlyRollup)
    assert reports.grain_for(year, ("day",)) == (DailyChannelRollup, None)
    assert reports.grain_for(year, ("category",)) == (DailyTeamRollup, MonthlyRollup)
    assert reports.grain_for(year, ("sla_policy_id",)) == (DailyTeamRollup, MonthlyRollup)
    assert reports.grain_for(year, ("agent_id",)) == (DailyAgentRollup, MonthlyRollup)
    team = reports.Filters(start=year.start, end=year.end, team_id=1, channel="sms")
    assert reports.grain_for(team, ("day",)) == (DailyChannelRollup, None)
    tier = reports.Filters(start=year.start, end=year.end, tier="urgent")
    assert reports.grain_for(tier, ("day",)) == (DailyTeamRollup, None)
    agent = reports.Filters(start=year.start, end=year.end, agent_id=0)
    assert reports.grain_for(agent, ("channel", "day")) == (DailyAgentRollup, None)
    assert reports.grain_for(agent, ("category",)) == (DailyRollup, MonthlyRollup)
    with pytest.raises(ValueError):
        reports.grain_for(agent, ("sla_policy_id",))
    assert reports._whole_months(year) == (date(2026, 1, 1), date(2026, 11, 1))
    week = reports.Filters(start=date(2026, 11, 27), end=date(2026, 12, 3))
    assert reports._whole_months(week) is None


@pytest.mark.parametrize("tier", ["urgent", ""])
def test_policy_and_heat_map_from_the_rollups_match_the_facts(tier):
    seeded()
    filters = reports.Filters(start=date(2025, 12, 4), end=date(2026, 12, 3), tier=tier)
    from_rollups = pages.sla_by_policy(filters)
    grid = pages.heatmap(filters)

    # The facts' own answers: the same code path taken when an agent is named, for every
    # agent and the unassigned, added up.
    from_facts: dict[Any, Totals] = defaultdict(Totals)
    facts_grid = [[0] * 24 for _day in range(7)]
    for agent_id in (0, 7, 8, 9):
        narrowed = reports.Filters(
            start=filters.start, end=filters.end, tier=tier, agent_id=agent_id
        )
        for policy, totals in pages.sla_by_policy(narrowed).items():
            from_facts[policy] = from_facts[policy] + totals
        for day, hours in enumerate(pages.heatmap(narrowed)):
            for hour, count in enumerate(hours):
                facts_grid[day][hour] += count

    assert grid == facts_grid
    assert sum(map(sum, grid)) > 0
    decided = {
        k: (t.sla_decided, t.sla_first_response_met)
        for k, t in from_rollups.items()
        if t.sla_decided
    }
    assert decided == {
        k: (t.sla_decided, t.sla_first_response_met) for k, t in from_facts.items() if t.sla_decided
    }
    assert None in decided  # facts without a policy are counted as such


def test_the_report_pages_show_the_same_figures_whichever_grain_they_read(client, supervisor):
    seeded()
    client.force_login(supervisor.user)
    query = {"start": "2025-12-04", "end": "2026-12-03"}
    year = reports.Filters(start=date(2025, 12, 4), end=date(2026, 12, 3))
    by_agent = finest(year, "agent_id")

    response = client.get("/reports/agents/agents.csv", query)

    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    rows = list(csv.reader(lines))[1:]
    # Agents 7, 8 and 9 have no Agent row here: each shows by id, the unassigned by name.
    assert sorted(int(row[1]) for row in rows) == sorted(t.created for t in by_agent.values())
