"""What the report pages show, read from the daily rollups (never from tickets and messages)
and, for a drill-down, from the per-ticket facts by their indexes."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from analytics.metrics import CSAT_SATISFIED, NPS_DETRACTOR, NPS_PROMOTER, Totals, sums
from analytics.models import DailyRollup, TicketFact


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


def rollups(filters: Filters) -> QuerySet[DailyRollup]:
    return DailyRollup.objects.filter(filters.dimensions(), day__range=(filters.start, filters.end))


def period_totals(filters: Filters) -> Totals:
    return Totals.of(rollups(filters).aggregate(**sums()))


def by_day(filters: Filters) -> list[tuple[date, Totals]]:
    """Every day of the period, in order, with its totals (days without contacts as zero)."""
    found = {
        row["day"]: Totals.of(row)
        for row in rollups(filters).values("day").annotate(**sums()).order_by("day")
    }
    return [
        (day, found.get(day, Totals()))
        for day in (filters.start + timedelta(days=n) for n in range(filters.days))
    ]


def channel_mix(filters: Filters) -> dict[str, dict[date, int]]:
    """Contacts per channel per day."""
    mix: dict[str, dict[date, int]] = {}
    for row in (
        rollups(filters).values("channel", "day").annotate(count=Sum("created")).order_by("day")
    ):
        if row["count"]:
            mix.setdefault(row["channel"], {})[row["day"]] = row["count"]
    return mix


def categories(filters: Filters) -> list[tuple[str, int]]:
    """Contacts per category, most first (a Pareto's bars)."""
    rows = (
        rollups(filters)
        .values("category")
        .annotate(count=Sum("created"))
        .filter(count__gt=0)
        .order_by("-count", "category")
    )
    return [(row["category"], row["count"]) for row in rows]


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


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def drill(filters: Filters, metric: str) -> QuerySet[TicketFact]:
    """The facts behind a figure of the period: the tickets a count counted. The same rule as
    the rollups (analytics.facts.contributions): counted on the local day of its moment."""
    moment, condition = DRILLS[metric]
    facts = TicketFact.objects.filter(
        condition,
        **{
            f"{moment}__gte": _local_midnight(filters.start),
            f"{moment}__lt": _local_midnight(filters.end + timedelta(days=1)),
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
