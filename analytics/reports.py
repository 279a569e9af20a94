"""What the report pages show, read from the rollups (never from tickets and messages) and,
for a drill-down, from the per-ticket facts by their indexes.

Each reading goes to the coarsest rollup grain that holds what it asks for (`totals_by`):
per month for the whole months of a period that is not shown per day, per day without the
agent unless the agent is asked for, per day with the agent otherwise. The grains are sums
of the same contributions (analytics.facts), so a figure is the same whichever is read."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import ExtractIsoWeekDay
from django.utils import timezone

from analytics.metrics import (
    CSAT_SATISFIED,
    NPS_DETRACTOR,
    NPS_PROMOTER,
    SUMMED,
    Totals,
)
from analytics.models import CREATED_HOURS as HOURS
from analytics.models import (
    DailyAgentRollup,
    DailyChannelRollup,
    DailyRollup,
    DailyTeamRollup,
    MonthlyRollup,
    OrderVolume,
    TicketFact,
)

DayGrain = DailyChannelRollup | DailyAgentRollup | DailyTeamRollup | DailyRollup


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    team_id: int | None = None
    channel: str = ""
    category: str = ""
    tier: str = ""
    agent_id: int | None = None  # the assignee; 0 for unassigned

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Filters":
        """The period of the same length just before, with the same filters."""
        return Filters(
            start=self.start - timedelta(days=self.days),
            end=self.start - timedelta(days=1),
            team_id=self.team_id,
            channel=self.channel,
            category=self.category,
            tier=self.tier,
            agent_id=self.agent_id,
        )

    def slug(self) -> str:
        """The period and filters for a file name: 2026-11-26_2026-12-02_team-3_sms."""
        parts = [self.start.isoformat(), self.end.isoformat()]
        if self.team_id is not None:
            parts.append(f"team-{self.team_id}")
        parts += [value for value in (self.channel, self.category, self.tier) if value]
        if self.agent_id is not None:
            parts.append(f"agent-{self.agent_id}")
        return "_".join(parts)

    def dimensions(self) -> Q:
        q = Q()
        if self.team_id is not None:
            q &= Q(team_id=self.team_id)
        if self.channel:
            q &= Q(channel=self.channel)
        if self.category:
            q &= Q(category=self.category)
        if self.tier:
            q &= Q(tier=self.tier)
        if self.agent_id is not None:
            q &= Q(agent_id=self.agent_id)
        return q


def _whole_months(filters: Filters) -> tuple[date, date] | None:
    """The first days of the first and the last calendar month wholly inside the period."""
    first = filters.start if filters.start.day == 1 else _next_month(filters.start)
    if _next_month(filters.end) - timedelta(days=1) == filters.end:
        last = filters.end.replace(day=1)
    else:
        last = _previous_month(filters.end.replace(day=1))
    return (first, last) if first <= last else None


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


# The day grains, coarsest first, with the dimensions each keeps; the month grain keeps them
# all but the hour.
DAY_GRAINS: tuple[tuple[type[DayGrain], frozenset[str]], ...] = (
    (DailyChannelRollup, frozenset({"team_id", "channel"})),
    (DailyAgentRollup, frozenset({"team_id", "channel", "agent_id"})),
    (DailyTeamRollup, frozenset({"team_id", "channel", "category", "tier", "sla_policy_id"})),
    (DailyRollup, frozenset({"team_id", "channel", "category", "tier", "agent_id"})),
)


def _needed(filters: Filters, by: Sequence[str]) -> set[str]:
    """The rollup dimensions a reading groups by or narrows on."""
    needed = set(by) - {"day"}
    if filters.team_id is not None:
        needed.add("team_id")
    needed |= {name for name in ("channel", "category", "tier") if getattr(filters, name)}
    if filters.agent_id is not None:
        needed.add("agent_id")
    return needed


def grain_for(
    filters: Filters, by: Sequence[str]
) -> tuple[type[DayGrain], type[MonthlyRollup] | None]:
    """The rollup tables that answer a reading: the coarsest day grain that keeps every
    dimension it groups by or narrows on, and the month grain for the whole months when the
    reading is not per day (None when it is)."""
    needed = _needed(filters, by)
    for model, dimensions in DAY_GRAINS:
        if needed <= dimensions:
            return model, (None if "day" in by else MonthlyRollup)
    raise ValueError(f"no day grain keeps {sorted(needed)}")


def totals_by(
    filters: Filters, *by: str, names: Sequence[str] = SUMMED
) -> dict[tuple[Any, ...], Totals]:
    """The period's totals per value of the rollup columns `by` ("day" for per day; none for
    the period's totals, keyed by `()`), from the coarsest rollups that hold what is asked:
    whole months from the month grain, the days at the period's ends from a day grain. Two
    queries at most; the work is proportional to the groups, not to the tickets. Only the
    counters `names` are summed (the others read as 0)."""
    return {key: Totals.of(sums) for key, sums in sums_by(filters, *by, names=names).items()}


def sums_by(
    filters: Filters, *by: str, names: Sequence[str] = SUMMED
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """`totals_by` as plain sums (counter name to value): for a caller that reads one or two
    counters of thousands of groups (contacts per channel per day), without a `Totals`
    each."""
    daily, monthly = grain_for(filters, by)
    columns = list(by)
    months = _whole_months(filters) if monthly is not None else None
    if months is None:
        day_ranges = [(filters.start, filters.end)]
    else:
        first, last = months
        day_ranges = [
            (filters.start, first - timedelta(days=1)),
            (_next_month(last), filters.end),
        ]
    found: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(rows: Any) -> None:
        for row in rows:
            key = tuple(row[name] for name in columns)
            sums = {name: row[name] or 0 for name in names}
            if key in found:
                earlier = found[key]
                sums = {name: earlier[name] + value for name, value in sums.items()}
            found[key] = sums

    days = Q()
    for start, end in day_ranges:
        if start <= end:
            days |= Q(day__range=(start, end))
    if days:
        add(_summed(daily._default_manager.filter(days, filters.dimensions()), columns, names))
    if monthly is not None and months is not None:
        add(
            _summed(
                monthly._default_manager.filter(filters.dimensions(), month__range=months),
                columns,
                names,
            )
        )
    return found


def _summed(rows: QuerySet[Any], columns: list[str], names: Sequence[str]) -> Any:
    summed = {name: Sum(name) for name in names}
    if columns:
        return rows.values(*columns).annotate(**summed).order_by()
    return [rows.aggregate(**summed)]


def orders_by_day(filters: Filters) -> dict[date, int]:
    """The shop's reported orders per day of the period (days without a count left out).
    The team, channel, category, tier and agent do not narrow them: orders are the shop's."""
    return dict(
        OrderVolume.objects.filter(day__range=(filters.start, filters.end)).values_list(
            "day", "orders"
        )
    )


def period_totals(filters: Filters) -> Totals:
    """The period's totals, with its orders and the contacts of the days that have them."""
    totals = totals_by(filters).get((), Totals())
    orders = orders_by_day(filters)
    if not orders:
        return totals
    if len(orders) == filters.days:
        contacts = totals.created
    else:
        contacts = sum(
            t.created
            for day, t in by_day(filters, names=["created"], orders=False)
            if day in orders
        )
    return replace(
        totals, orders=sum(orders.values()), ordered_contacts=contacts, order_days=len(orders)
    )


def by_day(
    filters: Filters, names: Sequence[str] = SUMMED, *, orders: bool = True
) -> list[tuple[date, Totals]]:
    """Every day of the period, in order, with its totals (days without contacts as zero);
    only the counters `names`, when that is all the caller shows; with each day's reported
    orders unless `orders` is False (one query less)."""
    found = {key[0]: totals for key, totals in totals_by(filters, "day", names=names).items()}
    placed = orders_by_day(filters) if orders else {}
    days = []
    for day in (filters.start + timedelta(days=n) for n in range(filters.days)):
        totals = found.get(day, Totals())
        if day in placed:
            totals = replace(
                totals, orders=placed[day], ordered_contacts=totals.created, order_days=1
            )
        days.append((day, totals))
    return days


def channel_mix(filters: Filters) -> dict[str, dict[date, int]]:
    """Contacts per channel per day."""
    mix: dict[str, dict[date, int]] = {}
    for (channel, day), sums in sorted(
        sums_by(filters, "channel", "day", names=["created"]).items()
    ):
        if sums["created"]:
            mix.setdefault(channel, {})[day] = sums["created"]
    return mix


def categories(filters: Filters) -> list[tuple[str, int]]:
    """Contacts per category, most first (a Pareto's bars)."""
    found = [
        (key[0], sums["created"])
        for key, sums in sums_by(filters, "category", names=["created"]).items()
        if sums["created"]
    ]
    return sorted(found, key=lambda item: (-item[1], item[0]))


def hours(filters: Filters) -> list[list[int]] | None:
    """Contacts by local weekday (Monday first) and hour of creation, 7 × 24, from the
    coarsest day grain that keeps them; None when the filters name an agent (the grain with
    the agent keeps no hours)."""
    if filters.agent_id is not None:
        return None
    model, _monthly = grain_for(filters, ["day"])
    grid = [[0] * 24 for _day in range(7)]
    rows: Any = (
        model._default_manager.filter(filters.dimensions(), day__range=(filters.start, filters.end))
        .annotate(weekday=ExtractIsoWeekDay("day"))
        .values("weekday")
        .annotate(**{name: Sum(name) for name in HOURS})
        .order_by()
    )
    for row in rows:
        grid[row["weekday"] - 1] = [row[name] or 0 for name in HOURS]
    return grid


# --- drill-down ---------------------------------------------------------------------------

# What a figure counts, as facts: the moment it is counted on and what makes a fact count.
DRILLS = {
    "created": ("created_at", Q()),
    "first_responses": ("first_response_at", Q()),
    "resolved": ("resolved_at", Q()),
    "first_contact_resolved": ("resolved_at", Q(first_contact_resolved=True)),
    "reopened": ("resolved_at", Q(reopens__gt=0)),
    "repeat_contacts": ("created_at", Q(repeat_contact=True)),
    "bot_deflected": ("resolved_at", Q(bot_deflected=True)),
    "sla_first_response_met": ("sla_first_response_at", Q(sla_first_response_met=True)),
    "sla_first_response_missed": ("sla_first_response_at", Q(sla_first_response_met=False)),
    "sla_plan_met": ("sla_plan_at", Q(sla_plan_met=True)),
    "sla_plan_missed": ("sla_plan_at", Q(sla_plan_met=False)),
    "sla_resolution_met": ("sla_resolution_at", Q(sla_resolution_met=True)),
    "sla_resolution_missed": ("sla_resolution_at", Q(sla_resolution_met=False)),
    "csat_invited": ("csat_invited_at", Q()),
    "csat_answered": ("csat_answered_at", Q()),
    "csat_satisfied": ("csat_answered_at", Q(csat_score__gte=CSAT_SATISFIED)),
    "csat_unsatisfied": ("csat_answered_at", Q(csat_score__lt=CSAT_SATISFIED)),
    "nps_answered": ("nps_answered_at", Q()),
    "nps_promoters": ("nps_answered_at", Q(nps_score__gte=NPS_PROMOTER)),
    "nps_detractors": ("nps_answered_at", Q(nps_score__lte=NPS_DETRACTOR)),
}


# The backlog: tickets open now by age (the period does not apply), from the facts' open
# tickets (a partial index holds only them). Each bucket: (at least, under) days old.
BACKLOG_AGES: dict[str, tuple[int, int | None]] = {
    "backlog": (0, None),
    "backlog_under_1d": (0, 1),
    "backlog_1_3d": (1, 3),
    "backlog_3_7d": (3, 7),
    "backlog_over_7d": (7, None),
}


def _aged(metric: str, now: datetime) -> Q:
    young, old = BACKLOG_AGES[metric]
    q = Q(created_at__lte=now - timedelta(days=young)) if young else Q()
    if old is not None:
        q &= Q(created_at__gt=now - timedelta(days=old))
    return q


@dataclass(frozen=True)
class Backlog:
    """Open tickets now: how many, per age bucket (BACKLOG_AGES), and the oldest's
    creation."""

    counts: dict[str, int]
    oldest: datetime | None


def backlog_by(filters: Filters, by: str, *, now: datetime) -> dict[Any, Backlog]:
    """The backlog now per value of a fact column (category, team_id, channel, tier), with
    the filters' dimensions but not their period. One query over the open facts."""
    rows = (
        _narrowed(TicketFact.objects.filter(is_open=True), filters)
        .values(by)
        .annotate(
            oldest=Min("created_at"),
            **{
                metric: Count("pk", filter=_aged(metric, now))
                if metric != "backlog"
                else Count("pk")
                for metric in BACKLOG_AGES
            },
        )
        .order_by()
    )
    return {
        row[by]: Backlog(counts={m: row[m] for m in BACKLOG_AGES}, oldest=row["oldest"])
        for row in rows
    }


def open_at_day_ends(open_now: int, days: Sequence[Totals]) -> list[float]:
    """Tickets open at the end of each day, worked back from `open_now` over the days up to
    today (`days`, in order, today last, with their created and resolved counts): the day
    before had what a day ends with, less its contacts, plus its resolutions. An estimate:
    a ticket reopened and still open, or closed without a resolution, is not in these
    flows."""
    ends = [float(open_now)]
    for totals in reversed(days[1:]):
        ends.append(max(ends[-1] - totals.created + totals.resolved, 0.0))
    return list(reversed(ends))


def backlog_history(filters: Filters, open_now: int, *, today: date) -> list[float | None]:
    """Open tickets at the end of each day of the period (None for days after today), worked
    back from `open_now` through the rollups from the period's start to today."""
    if filters.start > today:
        return [None] * filters.days
    span = by_day(
        replace(filters, start=filters.start, end=today),
        names=["created", "resolved"],
        orders=False,
    )
    ends = open_at_day_ends(open_now, [totals for _day, totals in span])
    at = {day: end for (day, _totals), end in zip(span, ends, strict=True)}
    return [at.get(filters.start + timedelta(days=n)) for n in range(filters.days)]


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def drill(filters: Filters, metric: str, *, now: datetime | None = None) -> QuerySet[TicketFact]:
    """The facts behind a figure of the period: the tickets a count counted. The same rule as
    the rollups (analytics.facts.contributions): counted on the local day of its moment. A
    backlog figure (BACKLOG_AGES) is the open tickets of its age now, oldest first, whatever
    the period."""
    if metric in BACKLOG_AGES:
        aged = TicketFact.objects.filter(_aged(metric, now or timezone.now()), is_open=True)
        return _narrowed(aged, filters).order_by("created_at", "ticket_id")
    moment, condition = DRILLS[metric]
    facts = TicketFact.objects.filter(
        condition,
        **{
            f"{moment}__gte": local_midnight(filters.start),
            f"{moment}__lt": local_midnight(filters.end + timedelta(days=1)),
        },
    )
    return _narrowed(facts, filters).order_by(f"-{moment}", "-ticket_id")


def _narrowed(facts: QuerySet[TicketFact], filters: Filters) -> QuerySet[TicketFact]:
    """Facts narrowed by the filters' dimensions, as the rollups are (an unassigned fact is
    agent 0 there)."""
    if filters.team_id is not None:
        facts = facts.filter(team_id=filters.team_id)
    for name in ("channel", "category", "tier"):
        if value := getattr(filters, name):
            facts = facts.filter(**{name: value})
    if filters.agent_id is not None:
        facts = facts.filter(agent_id=filters.agent_id or None)
    return facts
