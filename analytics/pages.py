"""The figures of the report pages beyond the overview (SLA, channels, categories, agents,
quality, after-sales), as tables the page shows and the exports write: each table is built
once, here, and both read it, so a page and its download cannot disagree.

Every ticket figure comes from the daily rollups or, where a dimension is not in them (the SLA
policy, the hour of the day), from the per-ticket facts by their time indexes, through the
ratios of analytics.metrics; quality and after-sales figures from their own apps' rows.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.models import AnomalyKind, ShipmentAnomaly
from aftersales.steps import CaseType, Step, expected_minutes, flow_of
from analytics import reports
from analytics.casefacts import CaseSums, case_sums
from analytics.metrics import SUMMED, Quality, Totals
from analytics.models import TicketFact
from feedback.models import Review
from sla.models import Milestone, SlaPolicy
from tickets.models import Agent, Channel, Team

# --- tables --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy translation
    kind: str  # count, duration, age, share, index, score, amount, ratio
    drill: str = ""  # the figure a cell leads to (analytics.reports.DRILLS)


@dataclass
class Row:
    label: str
    values: list[float | None]
    # What a drill-down from this row adds to the page's filters (e.g. {"team": 3}).
    params: dict[str, object] = field(default_factory=dict)
    link: str = ""  # a page of its own (an agent's scorecard)
    # A cell's own drill-down, where it is not its column's (column key: figure).
    drills: dict[str, str] = field(default_factory=dict)


@dataclass
class Table:
    key: str
    title: Any
    head: Any  # the first column's heading
    columns: tuple[Column, ...]
    rows: list[Row]


def _values(totals: Totals, columns: Iterable[Column]) -> list[float | None]:
    found: list[float | None] = []
    for column in columns:
        value = getattr(totals, column.key)
        found.append(None if value is None else float(value))
    return found


def _grouped(
    filters: reports.Filters, dimension: str, names: Sequence[str] = SUMMED
) -> dict[Any, Totals]:
    """The period's totals per value of one rollup dimension (of the counters `names`)."""
    return {
        key[0]: totals for key, totals in reports.totals_by(filters, dimension, names=names).items()
    }


def _named(ids: Iterable[int], model: Any) -> dict[int, str]:
    return {pk: str(obj) for pk, obj in model.objects.in_bulk([pk for pk in ids if pk]).items()}


# --- SLA ----------------------------------------------------------------------------------

SLA_MILESTONES = (
    (Milestone.FIRST_RESPONSE, Milestone.FIRST_RESPONSE.label),
    (Milestone.PLAN, Milestone.PLAN.label),
    (Milestone.RESOLUTION, Milestone.RESOLUTION.label),
)
# The rollup counters the SLA figures are made of.
SLA_SUMS = [
    f"sla_{milestone}_{part}" for milestone, _l in SLA_MILESTONES for part in ("decided", "met")
]
SLA_COLUMNS = (
    Column("sla_first_response_decided", _("First response: decided"), "count"),
    Column(
        "sla_first_response_rate", _("First response: met"), "share", "sla_first_response_missed"
    ),
    Column("sla_plan_decided", _("Plan: decided"), "count"),
    Column("sla_plan_rate", _("Plan: met"), "share", "sla_plan_missed"),
    Column("sla_resolution_decided", _("Resolution: decided"), "count"),
    Column("sla_resolution_rate", _("Resolution: met"), "share", "sla_resolution_missed"),
    Column("sla_rate", _("All milestones: met"), "share"),
)


def sla_by_policy(filters: reports.Filters) -> dict[int | None, Totals]:
    """SLA outcomes per policy: each milestone counted on the local day it was decided. From
    the rollups without the agent; from the facts when the filters name an agent."""
    if filters.agent_id is None:
        return {
            key[0] or None: totals
            for key, totals in reports.totals_by(filters, "sla_policy_id", names=SLA_SUMS).items()
        }
    start = reports.local_midnight(filters.start)
    end = reports.local_midnight(filters.end + timedelta(days=1))
    counts: dict[str, Any] = {}
    window = Q()
    for milestone, _label in SLA_MILESTONES:
        at = f"sla_{milestone}_at"
        inside = Q(**{f"{at}__gte": start, f"{at}__lt": end})
        window |= inside
        counts[f"sla_{milestone}_decided"] = Count(
            "pk", filter=inside & Q(**{f"sla_{milestone}_met__isnull": False})
        )
        counts[f"sla_{milestone}_met"] = Count(
            "pk", filter=inside & Q(**{f"sla_{milestone}_met": True})
        )
    facts = reports._narrowed(TicketFact.objects.filter(window), filters)
    return {
        row["sla_policy_id"]: Totals.of(row)
        for row in facts.values("sla_policy_id").annotate(**counts).order_by()
    }


def sla_tables(filters: reports.Filters, totals: Totals | None = None) -> list[Table]:
    """`totals`: the period's, when the caller has them already."""
    totals = totals if totals is not None else reports.period_totals(filters)
    milestones = Table(
        key="milestones",
        title=_("Attainment per milestone"),
        head=_("Milestone"),
        columns=(
            Column("decided", _("Decided"), "count"),
            Column("met", _("Met"), "count"),
            Column("missed", _("Missed"), "count"),
            Column("rate", _("Attainment"), "share"),
        ),
        rows=[],
    )
    for milestone, label in SLA_MILESTONES:
        decided = getattr(totals, f"sla_{milestone}_decided")
        met = getattr(totals, f"sla_{milestone}_met")
        milestones.rows.append(
            Row(
                label=str(label),
                values=[decided, met, decided - met, getattr(totals, f"sla_{milestone}_rate")],
                drills={"met": f"sla_{milestone}_met", "missed": f"sla_{milestone}_missed"},
            )
        )
    policies = sla_by_policy(filters)
    names = _named([pk for pk in policies if pk], SlaPolicy)
    by_policy = Table(
        key="policies",
        title=_("Attainment per policy"),
        head=_("Policy"),
        columns=SLA_COLUMNS,
        rows=[
            Row(label=names.get(pk or 0, str(_("No policy"))), values=_values(t, SLA_COLUMNS))
            for pk, t in sorted(policies.items(), key=lambda item: -item[1].sla_decided)
            if t.sla_decided
        ],
    )
    teams = _grouped(filters, "team_id", SLA_SUMS)
    team_names = _named(teams, Team)
    by_team = Table(
        key="teams",
        title=_("Attainment per team"),
        head=_("Team"),
        columns=SLA_COLUMNS,
        rows=[
            Row(
                label=team_names.get(pk, str(_("No team"))),
                values=_values(t, SLA_COLUMNS),
                params={"team": pk} if pk else {},
            )
            for pk, t in sorted(teams.items(), key=lambda item: -item[1].sla_decided)
            if t.sla_decided
        ],
    )
    agents = _grouped(filters, "agent_id", SLA_SUMS)
    agent_names = _agent_names(agents)
    by_agent = Table(
        key="agents",
        title=_("Attainment per agent"),
        head=_("Agent"),
        columns=SLA_COLUMNS,
        rows=[
            Row(
                label=agent_names.get(pk, str(_("Unassigned"))),
                values=_values(t, SLA_COLUMNS),
                params={"agent": pk},
            )
            for pk, t in sorted(agents.items(), key=lambda item: -item[1].sla_decided)
            if t.sla_decided
        ],
    )
    return [milestones, by_policy, by_team, by_agent]


def _agent_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = [pk for pk in ids if pk]
    return {
        agent.pk: str(agent) for agent in Agent.objects.select_related("user").filter(pk__in=wanted)
    }


# --- channels -----------------------------------------------------------------------------

CHANNEL_COLUMNS = (
    Column("created", _("Contacts"), "count", "created"),
    Column("first_response_avg_s", _("First response (average)"), "duration"),
    Column("resolved", _("Resolved"), "count", "resolved"),
    Column("resolution_avg_s", _("Resolution time (average)"), "duration"),
    Column("fcr_rate", _("First-contact resolution"), "share"),
    Column("repeat_rate", _("Repeat contacts"), "share"),
    Column("sla_rate", _("SLA attainment"), "share"),
)
WEEKDAYS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


def heatmap(filters: reports.Filters) -> list[list[int]]:
    """Contacts by local weekday (Monday first) and hour, 7 × 24: from the rollups' contacts
    per hour, or from the facts' creation times when the filters name an agent."""
    if (grid := reports.hours(filters)) is not None:
        return grid
    zone = timezone.get_current_timezone()
    facts = reports._narrowed(
        TicketFact.objects.filter(
            created_at__gte=reports.local_midnight(filters.start),
            created_at__lt=reports.local_midnight(filters.end + timedelta(days=1)),
        ),
        filters,
    )
    grid = [[0] * 24 for _day in range(7)]
    for row in (
        facts.annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=zone),
            hour=ExtractHour("created_at", tzinfo=zone),
        )
        .values("weekday", "hour")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        grid[row["weekday"] - 1][row["hour"]] = row["count"]
    return grid


def channel_days(filters: reports.Filters) -> dict[str, dict[date, Totals]]:
    """The period's contacts per channel per day (only `created` is summed)."""
    found: dict[str, dict[date, Totals]] = {}
    for (channel, day), totals in reports.totals_by(
        filters, "channel", "day", names=["created"]
    ).items():
        found.setdefault(channel, {})[day] = totals
    return found


def channel_tables(filters: reports.Filters, grid: list[list[int]] | None = None) -> list[Table]:
    """`grid`: the period's heat map, when the caller has it already."""
    channels = _grouped(filters, "channel")
    names = dict(Channel.choices)
    by_channel = Table(
        key="channels",
        title=_("Per channel"),
        head=_("Channel"),
        columns=CHANNEL_COLUMNS,
        rows=[
            Row(
                label=str(names.get(code, code)),
                values=_values(t, CHANNEL_COLUMNS),
                params={"channel": code},
            )
            for code, t in sorted(channels.items(), key=lambda item: -item[1].created)
            if t.created or t.resolved
        ],
    )
    grid = grid if grid is not None else heatmap(filters)
    hours = Table(
        key="heatmap",
        title=_("Contacts by weekday and hour"),
        head=_("Weekday"),
        columns=tuple(Column(f"h{hour}", f"{hour:02d}", "count") for hour in range(24)),
        rows=[
            Row(label=str(WEEKDAYS[day]), values=[float(n) for n in grid[day]]) for day in range(7)
        ],
    )
    return [by_channel, hours]


# --- categories ---------------------------------------------------------------------------

CATEGORY_COLUMNS = (
    Column("created", _("Contacts"), "count", "created"),
    Column("share", _("Share"), "share"),
    Column("cumulative", _("Cumulative share"), "share"),
    Column("repeat_contacts", _("Repeat contacts"), "count", "repeat_contacts"),
    Column("repeat_rate", _("Repeat-contact rate"), "share"),
    Column("resolved", _("Resolved"), "count", "resolved"),
    Column("fcr_rate", _("First-contact resolution"), "share"),
)


def category_tables(
    filters: reports.Filters, label: Callable[[str], str]
) -> tuple[list[Table], list[tuple[str, int]]]:
    """The Pareto table (most contacts first, with the cumulative share) and its bars."""
    found = _grouped(filters, "category")
    ordered = sorted(
        ((code, t) for code, t in found.items() if t.created), key=lambda i: (-i[1].created, i[0])
    )
    total = sum(t.created for _code, t in ordered)
    rows = []
    running = 0
    for code, t in ordered:
        running += t.created
        rows.append(
            Row(
                label=label(code),
                values=[
                    t.created,
                    t.created / total if total else None,
                    running / total if total else None,
                    t.repeat_contacts,
                    t.repeat_rate,
                    t.resolved,
                    t.fcr_rate,
                ],
                params={"category": code} if code else {},
            )
        )
    table = Table(
        key="categories",
        title=_("Per category"),
        head=_("Category"),
        columns=CATEGORY_COLUMNS,
        rows=rows,
    )
    return [table], [(code, t.created) for code, t in ordered]


BACKLOG_COLUMNS = (
    Column("backlog", _("Open now"), "count", "backlog"),
    Column("backlog_under_1d", _("Under a day old"), "count", "backlog_under_1d"),
    Column("backlog_1_3d", _("1–3 days old"), "count", "backlog_1_3d"),
    Column("backlog_3_7d", _("3–7 days old"), "count", "backlog_3_7d"),
    Column("backlog_over_7d", _("Over 7 days old"), "count", "backlog_over_7d"),
    Column("oldest_age_s", _("Oldest waiting"), "age"),
)


def backlog_table(
    filters: reports.Filters, label: Callable[[str], str], *, now: datetime
) -> tuple[Table, int]:
    """The tickets open now per category by age (the period does not apply; the filters'
    team, channel, category, tier and agent do), the most first, with a total row; and the
    total open."""
    found = reports.backlog_by(filters, "category", now=now)
    ordered = sorted(found.items(), key=lambda item: (-item[1].counts["backlog"], item[0]))

    def values(counts: dict[str, int], oldest: datetime | None) -> list[float | None]:
        age = (now - oldest).total_seconds() if oldest is not None else None
        return [*(float(counts[c.key]) for c in BACKLOG_COLUMNS[:-1]), age]

    rows = [
        Row(
            label=label(code),
            values=values(backlog.counts, backlog.oldest),
            params={"category": code} if code else {},
        )
        for code, backlog in ordered
    ]
    total = {c.key: sum(b.counts[c.key] for b in found.values()) for c in BACKLOG_COLUMNS[:-1]}
    oldest = min((b.oldest for b in found.values() if b.oldest is not None), default=None)
    if len(rows) > 1:
        rows.append(Row(label=str(_("All categories")), values=values(total, oldest)))
    table = Table(
        key="backlog",
        title=_("Open now, by age"),
        head=_("Category"),
        columns=BACKLOG_COLUMNS,
        rows=rows,
    )
    return table, total["backlog"]


# --- quality ------------------------------------------------------------------------------


def _reviews(filters: reports.Filters) -> Any:
    """The quality reviews submitted in the period, narrowed as the tickets are."""
    reviews = Review.objects.filter(
        submitted_at__gte=reports.local_midnight(filters.start),
        submitted_at__lt=reports.local_midnight(filters.end + timedelta(days=1)),
    )
    if _narrows(filters, agent=False):
        reviews = reviews.filter(ticket_id__in=_ticket_ids(replace(filters, agent_id=None)))
    if filters.agent_id is not None:
        reviews = reviews.filter(agent_id=filters.agent_id)
    return reviews


def _narrows(filters: reports.Filters, *, agent: bool = True) -> bool:
    dimensions = [filters.team_id, filters.channel, filters.category, filters.tier]
    if agent:
        dimensions.append(filters.agent_id)
    return any(value not in (None, "") for value in dimensions)


def _ticket_ids(filters: reports.Filters) -> Any:
    """The tickets the filters' dimensions cover, from their facts (a subquery): other apps'
    rows are narrowed by it rather than by a join on the tickets."""
    return reports._narrowed(TicketFact.objects.all(), filters).values("ticket_id")


def _quality_sums() -> dict[str, Any]:
    return {
        "reviews": Count("pk"),
        "score_sum": Sum("score"),
        "failed": Count("pk", filter=Q(is_failed=True)),
    }


def quality_totals(filters: reports.Filters) -> Quality:
    return Quality.of(_reviews(filters).aggregate(**_quality_sums()))


def quality_by_agent(filters: reports.Filters) -> dict[int, Quality]:
    return {
        row["agent_id"]: Quality.of(row)
        for row in _reviews(filters).values("agent_id").annotate(**_quality_sums()).order_by()
    }


QUALITY_COLUMNS = (
    Column("reviews", _("Reviews"), "count"),
    Column("score_avg", _("Quality score (average)"), "score"),
    Column("failed", _("Failed reviews"), "count"),
    Column("fail_rate", _("Failed share"), "share"),
)


def quality_tables(filters: reports.Filters) -> list[Table]:
    found = quality_by_agent(filters)
    names = _agent_names(found)
    rows = [
        Row(
            label=names.get(pk, str(pk)),
            values=[
                float(getattr(q, c.key)) if getattr(q, c.key) is not None else None
                for c in QUALITY_COLUMNS
            ],
        )
        for pk, q in sorted(found.items(), key=lambda item: (-item[1].reviews, item[0]))
    ]
    return [
        Table(
            key="quality",
            title=_("Quality inspection per agent"),
            head=_("Agent"),
            columns=QUALITY_COLUMNS,
            rows=rows,
        )
    ]


# --- satisfaction -------------------------------------------------------------------------

SATISFACTION_COLUMNS = (
    Column("csat_invited", _("CSAT invitations"), "count", "csat_invited"),
    Column("csat_answered", _("CSAT answers"), "count", "csat_answered"),
    Column("csat_response_rate", _("Response rate"), "share"),
    Column("csat_satisfied", _("Rated 4–5"), "count", "csat_satisfied"),
    Column("csat_rate", _("CSAT"), "share"),
    Column("csat_avg", _("Average rating (1–5)"), "score"),
    Column("nps_answered", _("NPS answers"), "count", "nps_answered"),
    Column("nps_promoters", _("Promoters (9–10)"), "count", "nps_promoters"),
    Column("nps_passives", _("Passives (7–8)"), "count"),
    Column("nps_detractors", _("Detractors (0–6)"), "count", "nps_detractors"),
    Column("nps", _("NPS"), "nps"),
)


# The counters the satisfaction figures are made of: a year's grouped sums read only these.
SATISFACTION_SUMS = [
    "csat_invited",
    "csat_answered",
    "csat_satisfied",
    "csat_score_sum",
    "nps_invited",
    "nps_answered",
    "nps_promoters",
    "nps_detractors",
]


def _rated(totals: Totals) -> bool:
    return bool(totals.csat_invited or totals.csat_answered or totals.nps_answered)


def satisfaction_tables(filters: reports.Filters, label: Callable[[str], str]) -> list[Table]:
    """CSAT, its response rate and NPS per channel, category, team and agent (the ticket's
    assignee, as every other figure per agent), from the rollups."""
    names = dict(Channel.choices)
    channels = _grouped(filters, "channel", SATISFACTION_SUMS)
    categories = _grouped(filters, "category", SATISFACTION_SUMS)
    teams = _grouped(filters, "team_id", SATISFACTION_SUMS)
    team_names = _named(teams, Team)
    agents = _grouped(filters, "agent_id", SATISFACTION_SUMS)
    agent_names = _agent_names(agents)

    def ordered(found: dict[Any, Totals]) -> list[tuple[Any, Totals]]:
        return sorted(
            ((key, t) for key, t in found.items() if _rated(t)),
            key=lambda item: (-item[1].csat_answered, -item[1].nps_answered, str(item[0])),
        )

    def table(key: str, title: Any, head: Any, rows: list[Row]) -> Table:
        return Table(key=key, title=title, head=head, columns=SATISFACTION_COLUMNS, rows=rows)

    return [
        table(
            "satisfaction-channels",
            _("Satisfaction per channel"),
            _("Channel"),
            [
                Row(
                    label=str(names.get(code, code)),
                    values=_values(t, SATISFACTION_COLUMNS),
                    params={"channel": code},
                )
                for code, t in ordered(channels)
            ],
        ),
        table(
            "satisfaction-categories",
            _("Satisfaction per category"),
            _("Category"),
            [
                Row(
                    label=label(code),
                    values=_values(t, SATISFACTION_COLUMNS),
                    params={"category": code} if code else {},
                )
                for code, t in ordered(categories)
            ],
        ),
        table(
            "satisfaction-teams",
            _("Satisfaction per team"),
            _("Team"),
            [
                Row(
                    label=team_names.get(pk, str(_("No team"))),
                    values=_values(t, SATISFACTION_COLUMNS),
                    params={"team": pk} if pk else {},
                )
                for pk, t in ordered(teams)
            ],
        ),
        table(
            "satisfaction-agents",
            _("Satisfaction per agent"),
            _("Agent"),
            [
                Row(
                    label=agent_names.get(pk, str(_("Unassigned"))),
                    values=_values(t, SATISFACTION_COLUMNS),
                    params={"agent": pk},
                )
                for pk, t in ordered(agents)
            ],
        ),
    ]


# --- agents -------------------------------------------------------------------------------

AGENT_COLUMNS = (
    Column("created", _("Contacts"), "count", "created"),
    Column("first_response_avg_s", _("First response (average)"), "duration"),
    Column("resolved", _("Resolved"), "count", "resolved"),
    Column("resolution_avg_s", _("Handling time (average)"), "duration"),
    Column("fcr_rate", _("First-contact resolution"), "share", "first_contact_resolved"),
    Column("reopen_rate", _("Reopen rate"), "share", "reopened"),
    Column("sla_rate", _("SLA attainment"), "share"),
    Column("score_avg", _("Quality score (average)"), "score"),
    Column("failed", _("Failed reviews"), "count"),
)


def agent_tables(filters: reports.Filters, link: Callable[[int], str]) -> list[Table]:
    found = _grouped(filters, "agent_id")
    quality = quality_by_agent(filters)
    names = _agent_names([*found, *quality])
    rows = []
    for pk in sorted(
        {*found, *quality}, key=lambda pk: (-(found.get(pk) or Totals()).resolved, pk)
    ):
        t = found.get(pk) or Totals()
        q = quality.get(pk) or Quality()
        values = [*_values(t, AGENT_COLUMNS[:7]), q.score_avg, float(q.failed)]
        rows.append(
            Row(
                label=names.get(pk, str(_("Unassigned"))),
                values=values,
                params={"agent": pk},
                link=link(pk) if pk else "",
            )
        )
    return [
        Table(key="agents", title=_("Per agent"), head=_("Agent"), columns=AGENT_COLUMNS, rows=rows)
    ]


# --- after-sales --------------------------------------------------------------------------

CASE_COLUMNS = (
    Column("opened", _("Opened"), "count"),
    Column("closed", _("Closed"), "count"),
    Column("cycle_avg_s", _("Cycle time (average)"), "duration"),
    Column("refunded", _("Refunded"), "amount"),
)
ANOMALY_COLUMNS = (
    Column("detected", _("Detected"), "count"),
    Column("resolved", _("Resolved since"), "count"),
    Column("open", _("Still open"), "count"),
    Column("recovery_avg_s", _("Time to recover (average)"), "duration"),
)


STEP_COLUMNS = (
    Column("steps_ended", _("Steps ended"), "count"),
    Column("step_avg_s", _("Time in step (average)"), "duration"),
    Column("step_business_avg_s", _("Business time in step (average)"), "duration"),
    Column("expected_s", _("Expected business time"), "duration"),
)


def aftersales_tables(filters: reports.Filters) -> list[Table]:
    """Cases opened in the period by type; the cases closed in it (their final step in the
    period) with their cycle time from opening to the final step and the amounts refunded;
    logistics anomalies detected in the period by kind; the time cases spent in each step
    per type and step, counted on the day the step ended. The case figures from the case
    rollups (analytics.casefacts.case_sums), the anomalies from their own indexed rows.
    Team, channel, category, tier and agent narrow cases and anomalies by their ticket;
    cases without a ticket count only unfiltered."""
    start = reports.local_midnight(filters.start)
    end = reports.local_midnight(filters.end + timedelta(days=1))
    sums = case_sums(filters)
    per_type: dict[str, CaseSums] = {}
    for (code, _step), found in sums.items():
        per_type[code] = per_type[code] + found if code in per_type else found
    by_type = Table(
        key="cases",
        title=_("After-sales cases per type"),
        head=_("Type"),
        columns=CASE_COLUMNS,
        rows=[
            Row(
                label=str(label),
                values=[
                    float(per_type[code].opened),
                    float(per_type[code].closed),
                    per_type[code].cycle_avg_s,
                    float(per_type[code].refunded),
                ],
            )
            for code, label in CaseType.choices
            if code in per_type and (per_type[code].opened or per_type[code].closed)
        ],
    )
    by_step = Table(
        key="steps",
        title=_("Time in each step per type"),
        head=_("Type and step"),
        columns=STEP_COLUMNS,
        rows=[],
    )
    for code, label in CaseType.choices:
        # The type's steps in its flow's order; any other a case took (written by hand)
        # after them, so the table still adds up to the rollups.
        steps = [*flow_of(code).steps, *(s for s in Step if s not in flow_of(code).steps)]
        for step in steps:
            step_sums = sums.get((code, step))
            if step_sums is None or not step_sums.steps_ended:
                continue
            expected = expected_minutes(code, step)
            by_step.rows.append(
                Row(
                    label=_("%(type)s: %(step)s") % {"type": label, "step": step.label},
                    values=[
                        float(step_sums.steps_ended),
                        step_sums.step_avg_s,
                        step_sums.step_business_avg_s,
                        None if expected is None else float(expected * 60),
                    ],
                )
            )
    anomalies = ShipmentAnomaly.objects.all()
    if _narrows(filters):
        anomalies = anomalies.filter(ticket_id__in=_ticket_ids(filters))
    recovery = ExpressionWrapper(F("resolved_at") - F("detected_at"), output_field=DurationField())
    kinds = {
        row["kind"]: row
        for row in anomalies.filter(detected_at__gte=start, detected_at__lt=end)
        .values("kind")
        .annotate(
            detected=Count("pk"),
            resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
            recovery=Avg(recovery, filter=Q(resolved_at__isnull=False)),
        )
        .order_by()
    }
    by_kind = Table(
        key="anomalies",
        title=_("Logistics anomalies per kind"),
        head=pgettext_lazy("anomaly", "Kind"),
        columns=ANOMALY_COLUMNS,
        rows=[
            Row(
                label=str(label),
                values=[
                    float(kinds[code]["detected"]),
                    float(kinds[code]["resolved"]),
                    float(kinds[code]["detected"] - kinds[code]["resolved"]),
                    kinds[code]["recovery"].total_seconds() if kinds[code]["recovery"] else None,
                ],
            )
            for code, label in AnomalyKind.choices
            if code in kinds
        ],
    )
    return [by_type, by_kind, by_step]
