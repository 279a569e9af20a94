"""Per-ticket facts and the daily rollups kept from them (docs/metrics.md).

`facts_compute` is the one implementation of the per-ticket figures. `facts_refresh` brings
the facts of the tickets marked dirty up to date and adds to the rollups the difference
each refresh made, so a rollup row is always the sum of the facts it covers, however often a
ticket is refreshed. One refresh runs at a time (a PostgreSQL advisory lock held for its
transaction); `facts_rebuild` empties everything under the same lock and computes every
ticket's facts again through the same `facts_compute`, a range of ids per transaction, then
(on PostgreSQL) sums the rollups once from the facts.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from analytics.metrics import CSAT_SATISFIED, NPS_DETRACTOR, NPS_PROMOTER
from analytics.models import (
    CREATED_HOURS,
    DailyAgentRollup,
    DailyChannelRollup,
    DailyRollup,
    DailyTeamRollup,
    FactDirty,
    MonthlyRollup,
    RollupSums,
    TicketFact,
)
from feedback.models import Survey, SurveyKind
from sla.models import Milestone, SlaClock
from tickets.models import Direction, EventKind, Message, Ticket, TicketEvent

logger = logging.getLogger("kefu.analytics.facts")

# A follow-up ticket or a reopening within this long of the resolution undoes a first-contact
# resolution (docs/metrics.md); a contact within this long of the customer's previous one
# about the same category is a repeat contact.
FCR_WINDOW = timedelta(days=7)
REPEAT_WINDOW = timedelta(days=7)
# The advisory lock that lets one refresh run at a time ("kefu-facts" as a number).
_LOCK_KEY = 0x6B656675_66
REFRESH_BATCH = 500

_FACT_FIELDS = [
    f.name for f in TicketFact._meta.get_fields() if f.name not in ("ticket_id", "refreshed_at")
]


def _seconds(start: datetime, end: datetime | None) -> int | None:
    if end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def _among(field: str, ticket_ids: Sequence[int]) -> Q:
    """`field` in `ticket_ids`: a range of consecutive ids (a rebuild's chunk) as two bounds,
    which spares building, sending and planning an IN list of thousands of ids."""
    if isinstance(ticket_ids, range) and ticket_ids.step == 1:
        # Bounds rather than __range, which a foreign key does not take.
        return Q(**{f"{field}__gte": ticket_ids.start, f"{field}__lt": ticket_ids.stop})
    return Q(**{f"{field}__in": ticket_ids})


def facts_compute(ticket_ids: Sequence[int]) -> dict[int, TicketFact]:
    """The facts of these tickets as they stand now (tickets that no longer exist are left
    out). Eight queries for the batch, whatever its size; `ticket_ids` may be a `range`."""
    now = timezone.now()
    return {
        pk: TicketFact(ticket_id=pk, refreshed_at=now, **values)
        for pk, values in _facts_values(ticket_ids).items()
    }


def _facts_values(ticket_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """`facts_compute` as plain values: per ticket, every fact field but `ticket_id` and
    `refreshed_at` (the rebuild writes them as rows, without a model instance each)."""
    if not ticket_ids:
        return {}
    tickets = list(
        Ticket.objects.filter(_among("pk", ticket_ids)).values(
            "pk",
            "created_at",
            "channel",
            "category",
            "tier",
            "team_id",
            "assignee_id",
            "customer_id",
            "is_open",
            "first_response_at",
            "resolved_at",
            repeat=_earlier_contact(),
        )
    )
    if not tickets:
        return {}
    # A range stays a range (the tickets found are within it); a list shrinks to the found.
    ids: Sequence[int] = ticket_ids if isinstance(ticket_ids, range) else [t["pk"] for t in tickets]
    replies = {
        row["ticket_id"]: row
        for row in Message.objects.filter(_among("ticket_id", ids), direction=Direction.OUT)
        .values("ticket_id")
        .annotate(
            # An agent's own answers up to the resolution (a reply after it is a new contact's).
            agent=Count(
                "pk",
                filter=Q(is_bot=False, is_automatic=False, author__isnull=False)
                & (
                    Q(ticket__resolved_at__isnull=True)
                    | Q(created_at__lte=F("ticket__resolved_at"))
                ),
            ),
            bot=Count("pk", filter=Q(is_bot=True)),
        )
    }
    feelings = {
        row["ticket_id"]: row
        for row in Message.objects.filter(
            _among("ticket_id", ids), direction=Direction.IN, sentiment__isnull=False
        )
        .values("ticket_id")
        .annotate(total=Sum("sentiment"), count=Count("pk"))
    }
    reopens = dict(
        TicketEvent.objects.filter(_among("ticket_id", ids), kind=EventKind.REOPENED)
        .values("ticket_id")
        .annotate(count=Count("pk"))
        .values_list("ticket_id", "count")
    )
    followups: dict[int, list[datetime]] = defaultdict(list)
    for previous_id, created_at in Ticket.objects.filter(_among("previous_id", ids)).values_list(
        "previous_id", "created_at"
    ):
        followups[previous_id].append(created_at)
    # Business time as the SLA engine measured it: the satisfied clock of each milestone
    # (the latest, for a resolution reached again after a reopening).
    business: dict[tuple[int, str], int | None] = {}
    for subject_id, milestone, elapsed in (
        SlaClock.objects.filter(
            _among("subject_id", ids),
            milestone__in=[Milestone.FIRST_RESPONSE, Milestone.RESOLUTION],
            satisfied_at__isnull=False,
        )
        .order_by("subject_id", "milestone", "sequence")
        .values_list("subject_id", "milestone", "elapsed_business_seconds")
    ):
        business[(subject_id, milestone)] = elapsed
    outcomes = _sla_outcomes(ids)
    ratings = _ratings(ids)

    facts: dict[int, dict[str, Any]] = {}
    for t in tickets:
        pk = t["pk"]
        answered: Mapping[str, Any] = replies.get(pk, {})
        agent_replies = answered.get("agent", 0)
        bot_replies = answered.get("bot", 0)
        # Resolved: a resolution stands only while the ticket is not open again (a reopening
        # keeps the earlier resolution time on the ticket).
        resolved_at = t["resolved_at"] if not t["is_open"] else None
        reopened = reopens.get(pk, 0)
        fcr: bool | None = None
        deflected: bool | None = None
        if resolved_at is not None:
            followed_up = any(
                resolved_at <= at <= resolved_at + FCR_WINDOW for at in followups.get(pk, [])
            )
            fcr = agent_replies == 1 and reopened == 0 and not followed_up
            deflected = agent_replies == 0 and bot_replies > 0 and reopened == 0
        feeling: Mapping[str, Any] = feelings.get(pk, {})
        facts[pk] = dict(
            created_at=t["created_at"],
            channel=t["channel"],
            category=t["category"],
            tier=t["tier"],
            team_id=t["team_id"],
            agent_id=t["assignee_id"],
            customer_id=t["customer_id"],
            is_open=t["is_open"],
            first_response_at=t["first_response_at"],
            first_response_wall_s=_seconds(t["created_at"], t["first_response_at"]),
            first_response_business_s=business.get((pk, Milestone.FIRST_RESPONSE))
            if t["first_response_at"]
            else None,
            resolved_at=resolved_at,
            resolution_wall_s=_seconds(t["created_at"], resolved_at),
            resolution_business_s=business.get((pk, Milestone.RESOLUTION)) if resolved_at else None,
            agent_replies=agent_replies,
            bot_replies=bot_replies,
            reopens=reopened,
            first_contact_resolved=fcr,
            bot_deflected=deflected,
            repeat_contact=t["repeat"],
            sentiment_sum=float(feeling.get("total") or 0.0),
            sentiment_count=feeling.get("count", 0),
            **outcomes.get(pk, {}),
            **ratings.get(pk, {}),
        )
    return facts


def _ratings(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per ticket and survey kind (CSAT, NPS), the first invitation sent and the latest
    answer, from the ticket's surveys (feedback.Survey). A ticket counts at most one
    invitation and one answer of each kind; a survey never sent counts nowhere."""
    found: dict[int, dict[str, Any]] = {}
    for ticket_id, kind, invited_at, answered_at, score in (
        Survey.objects.filter(_among("ticket_id", ids), invited_at__isnull=False)
        .order_by("ticket_id", "invited_at", "pk")
        .values_list("ticket_id", "kind", "invited_at", "answered_at", "score")
    ):
        if kind not in (SurveyKind.CSAT, SurveyKind.NPS):
            continue
        values = found.setdefault(ticket_id, {})
        values.setdefault(f"{kind}_invited_at", invited_at)
        if answered_at is None or score is None:
            continue
        latest = values.get(f"{kind}_answered_at")
        if latest is None or answered_at >= latest:
            values[f"{kind}_answered_at"] = answered_at
            values[f"{kind}_score"] = score
    return found


# The SLA milestones whose attainment the reports show (next response repeats per customer
# message and is left to the SLA pages).
SLA_MILESTONES = (Milestone.FIRST_RESPONSE, Milestone.PLAN, Milestone.RESOLUTION)


def _sla_outcomes(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per ticket, the policy and each milestone's outcome from its latest clock: met when
    satisfied without a breach (at the satisfaction), missed when breached (at the breach,
    whether satisfied later or not); undecided clocks leave the milestone None."""
    found: dict[int, dict[str, Any]] = {}
    for subject_id, milestone, policy_id, satisfied_at, breached_at in (
        SlaClock.objects.filter(_among("subject_id", ids), milestone__in=SLA_MILESTONES)
        .order_by("subject_id", "milestone", "sequence")
        .values_list("subject_id", "milestone", "policy_id", "satisfied_at", "breached_at")
    ):
        values = found.setdefault(subject_id, {})
        values["sla_policy_id"] = values.get("sla_policy_id") or policy_id
        decided = breached_at or satisfied_at
        # The latest clock of a milestone speaks for it (a reopening starts a new one).
        values[f"sla_{milestone}_at"] = decided
        values[f"sla_{milestone}_met"] = None if decided is None else breached_at is None
    return found


def _earlier_contact() -> Exists:
    """Whether the ticket's customer opened another ticket of the same category in the
    REPEAT_WINDOW before it (never for a ticket without a category): a subquery on the
    tickets' own query, one index probe per ticket, where reading the customers' tickets
    into Python cost more than the rest of the computation."""
    return Exists(
        Ticket.objects.filter(
            customer_id=OuterRef("customer_id"),
            category=OuterRef("category"),
            created_at__gte=OuterRef("created_at") - REPEAT_WINDOW,
            created_at__lt=OuterRef("created_at"),
        )
        .exclude(pk=OuterRef("pk"))
        .exclude(category="")
    )


# --- rollups ------------------------------------------------------------------------------

# What a contribution is keyed by: local day, team, channel, category, tier, agent (0:
# unassigned) and SLA policy (0: none). Each rollup grain keeps a projection of it.
_RollupKey = tuple[date, int, str, str, str, int, int]


@dataclass(frozen=True)
class Grain:
    """One rollup table: its key columns and how a contribution's key maps onto them."""

    model: type[RollupSums]
    keys: tuple[str, ...]
    project: Callable[[_RollupKey], tuple[Any, ...]]

    @property
    def counters(self) -> list[str]:
        return [
            f.name
            for f in self.model._meta.concrete_fields
            if not f.primary_key and f.name not in self.keys
        ]


GRAINS = (
    Grain(
        DailyRollup,
        ("day", "team_id", "channel", "category", "tier", "agent_id"),
        lambda k: k[:6],
    ),
    Grain(
        DailyTeamRollup,
        ("day", "team_id", "channel", "category", "tier", "sla_policy_id"),
        lambda k: (*k[:5], k[6]),
    ),
    Grain(DailyChannelRollup, ("day", "team_id", "channel"), lambda k: k[:3]),
    Grain(DailyAgentRollup, ("day", "team_id", "channel", "agent_id"), lambda k: (*k[:3], k[5])),
    Grain(
        MonthlyRollup,
        ("month", "team_id", "channel", "category", "tier", "agent_id", "sla_policy_id"),
        lambda k: (k[0].replace(day=1), *k[1:]),
    ),
)


def _day(at: datetime) -> date:
    return timezone.localdate(at)


def contributions(fact: TicketFact) -> list[tuple[_RollupKey, dict[str, float]]]:
    """What one ticket's fact adds to the rollups: its creation to its creation day (and
    hour), its first response to that day, its resolution to that day, each SLA milestone to
    the day it was decided, a survey's invitation to the day it was sent and its answer to the
    day it was given. `rollups_rebuild` sums the same in SQL."""

    def key(at: datetime) -> _RollupKey:
        return (
            _day(at),
            fact.team_id or 0,
            fact.channel,
            fact.category,
            fact.tier,
            fact.agent_id or 0,
            fact.sla_policy_id or 0,
        )

    added: list[tuple[_RollupKey, dict[str, float]]] = [
        (
            key(fact.created_at),
            {
                "created": 1,
                "repeat_contacts": int(fact.repeat_contact),
                "sentiment_sum": fact.sentiment_sum,
                "sentiment_count": fact.sentiment_count,
                CREATED_HOURS[timezone.localtime(fact.created_at).hour]: 1,
            },
        )
    ]
    if fact.first_response_at is not None:
        added.append(
            (
                key(fact.first_response_at),
                {
                    "first_responses": 1,
                    "first_response_wall_s": fact.first_response_wall_s or 0,
                    "first_response_business_count": int(
                        fact.first_response_business_s is not None
                    ),
                    "first_response_business_s": fact.first_response_business_s or 0,
                },
            )
        )
    if fact.resolved_at is not None:
        added.append(
            (
                key(fact.resolved_at),
                {
                    "resolved": 1,
                    "resolution_wall_s": fact.resolution_wall_s or 0,
                    "resolution_business_count": int(fact.resolution_business_s is not None),
                    "resolution_business_s": fact.resolution_business_s or 0,
                    "first_contact_resolved": int(bool(fact.first_contact_resolved)),
                    "reopened": int(fact.reopens > 0),
                    "bot_deflected": int(bool(fact.bot_deflected)),
                },
            )
        )
    for milestone in SLA_MILESTONES:
        decided_at = getattr(fact, f"sla_{milestone}_at")
        met = getattr(fact, f"sla_{milestone}_met")
        if decided_at is not None and met is not None:
            added.append(
                (
                    key(decided_at),
                    {f"sla_{milestone}_decided": 1, f"sla_{milestone}_met": int(met)},
                )
            )
    if fact.csat_invited_at is not None:
        added.append((key(fact.csat_invited_at), {"csat_invited": 1}))
    if fact.csat_answered_at is not None and fact.csat_score is not None:
        added.append(
            (
                key(fact.csat_answered_at),
                {
                    "csat_answered": 1,
                    "csat_satisfied": int(fact.csat_score >= CSAT_SATISFIED),
                    "csat_score_sum": fact.csat_score,
                },
            )
        )
    if fact.nps_invited_at is not None:
        added.append((key(fact.nps_invited_at), {"nps_invited": 1}))
    if fact.nps_answered_at is not None and fact.nps_score is not None:
        added.append(
            (
                key(fact.nps_answered_at),
                {
                    "nps_answered": 1,
                    "nps_promoters": int(fact.nps_score >= NPS_PROMOTER),
                    "nps_detractors": int(fact.nps_score <= NPS_DETRACTOR),
                },
            )
        )
    return added


def _deltas(
    pairs: Iterable[tuple[TicketFact | None, TicketFact | None]],
) -> dict[_RollupKey, dict[str, float]]:
    total: dict[_RollupKey, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for before, after in pairs:
        for fact, sign in ((before, -1), (after, 1)):
            if fact is None:
                continue
            for key, values in contributions(fact):
                for name, value in values.items():
                    total[key][name] += sign * value
    return {
        key: dict(values)
        for key, values in total.items()
        if any(abs(value) > 1e-9 for value in values.values())
    }


def _rollups_add(deltas: dict[_RollupKey, dict[str, float]]) -> None:
    """Add `deltas` to the rows of every grain, creating the missing ones: one INSERT … ON
    CONFLICT DO UPDATE per row (PostgreSQL and SQLite both speak it). The one place that adds
    to the rollups, so the grains always sum the same facts."""
    if not deltas:
        return
    quote = connection.ops.quote_name
    for grain in GRAINS:
        projected: dict[tuple[Any, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for key, values in deltas.items():
            row = projected[grain.project(key)]
            for name, value in values.items():
                row[name] += value
        counters = grain.counters
        table = quote(grain.model._meta.db_table)
        columns = [*grain.keys, *counters]
        # Identifiers come from the model, quoted; every value is a parameter.
        increments = ", ".join(
            f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in counters
        )
        sql = (
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({', '.join(quote(k) for k in grain.keys)}) DO UPDATE SET {increments}"
        )
        rows = []
        for key, values in projected.items():
            if not any(abs(value) > 1e-9 for value in values.values()):
                continue
            rows.append(
                [
                    *key,
                    *(
                        values.get(name, 0.0)
                        if name == "sentiment_sum"
                        else round(values.get(name, 0.0))
                        for name in counters
                    ),
                ]
            )
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)


# --- the same sums in SQL, for a rebuild --------------------------------------------------


def _flag(column: str) -> str:
    return f"CASE WHEN {column} THEN 1 ELSE 0 END"


def _contribution_parts() -> list[tuple[str, dict[str, str]]]:
    """`contributions` as SQL: per moment of a fact, the column it is counted on and what it
    adds (SQL over the fact's columns and `local_hour`, the local hour of its creation)."""
    parts = [
        (
            "created_at",
            {
                "created": "1",
                "repeat_contacts": _flag("repeat_contact"),
                "sentiment_sum": "sentiment_sum",
                "sentiment_count": "sentiment_count",
                **{
                    name: f"CASE WHEN local_hour = {hour} THEN 1 ELSE 0 END"
                    for hour, name in enumerate(CREATED_HOURS)
                },
            },
        ),
        (
            "first_response_at",
            {
                "first_responses": "1",
                "first_response_wall_s": "COALESCE(first_response_wall_s, 0)",
                "first_response_business_count": _flag("first_response_business_s IS NOT NULL"),
                "first_response_business_s": "COALESCE(first_response_business_s, 0)",
            },
        ),
        (
            "resolved_at",
            {
                "resolved": "1",
                "resolution_wall_s": "COALESCE(resolution_wall_s, 0)",
                "resolution_business_count": _flag("resolution_business_s IS NOT NULL"),
                "resolution_business_s": "COALESCE(resolution_business_s, 0)",
                "first_contact_resolved": _flag("COALESCE(first_contact_resolved, FALSE)"),
                "reopened": _flag("reopens > 0"),
                "bot_deflected": _flag("COALESCE(bot_deflected, FALSE)"),
            },
        ),
    ]
    for milestone in SLA_MILESTONES:
        # A milestone counts once decided: met or not (its moment may be set without).
        parts.append(
            (
                f"sla_{milestone}_at",
                {
                    f"sla_{milestone}_decided": _flag(f"sla_{milestone}_met IS NOT NULL"),
                    f"sla_{milestone}_met": _flag(f"COALESCE(sla_{milestone}_met, FALSE)"),
                },
            )
        )
    # Satisfaction: an invitation on the day it was sent, an answer (with its score) on the
    # day it was given.
    parts += [
        ("csat_invited_at", {"csat_invited": "1"}),
        (
            "csat_answered_at",
            {
                "csat_answered": _flag("csat_score IS NOT NULL"),
                "csat_satisfied": _flag(f"csat_score >= {int(CSAT_SATISFIED)}"),
                "csat_score_sum": "COALESCE(csat_score, 0)",
            },
        ),
        ("nps_invited_at", {"nps_invited": "1"}),
        (
            "nps_answered_at",
            {
                "nps_answered": _flag("nps_score IS NOT NULL"),
                "nps_promoters": _flag(f"nps_score >= {int(NPS_PROMOTER)}"),
                "nps_detractors": _flag(f"nps_score <= {int(NPS_DETRACTOR)}"),
            },
        ),
    ]
    return parts


_KEYS = ("day", "team_id", "channel", "category", "tier", "agent_id", "sla_policy_id")


def rollups_rebuild() -> dict[str, int]:
    """Empty every rollup grain and sum it again from the facts, set-based in PostgreSQL, in
    one transaction under the refresh lock (readers see the old rows until it commits).
    The same sums as `contributions` adds up one fact at a time: each moment of the facts
    is summed on its own (a few counters over one scan), into a scratch table at the finest
    key, which each grain then sums to its own. Returns the rows per table."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("rollups_rebuild runs on PostgreSQL; use facts_rebuild")
    quote = connection.ops.quote_name
    facts = quote(TicketFact._meta.db_table)
    counters = [*GRAINS[0].counters, *CREATED_HOURS]
    zone = {"zone": timezone.get_current_timezone_name()}
    rows: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(wait=True)
        # Room for the hash aggregates to stay in memory (a year at 10 M tickets groups
        # into a few million rows); for this transaction only.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Counts as integer (a day's count at the finest key fits, and PostgreSQL sums
        # integers in 64 bits, many times faster than bigint's numeric sums); seconds as
        # bigint.
        types = {name: "bigint" if name.endswith("_s") else "integer" for name in counters}
        types["sentiment_sum"] = "double precision"
        columns = ", ".join(
            f"{quote(name)} {kind} NOT NULL DEFAULT 0" for name, kind in types.items()
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE analytics_rebuild (day date, team_id bigint,"
            " channel varchar(10), category varchar(50), tier varchar(20), agent_id bigint,"
            f" sla_policy_id bigint, {columns}) ON COMMIT DROP"
        )
        for moment, adds in _contribution_parts():
            hour = (
                ", EXTRACT(HOUR FROM created_at AT TIME ZONE %(zone)s)::int AS local_hour"
                if moment == "created_at"
                else ""
            )
            cursor.execute(
                f"INSERT INTO analytics_rebuild ({', '.join(_KEYS)}, "  # noqa: S608
                f"{', '.join(quote(name) for name in adds)}) "
                f"SELECT {', '.join(f'key_{k}' for k in _KEYS)}, "
                f"{', '.join(f'SUM({sql})' for sql in adds.values())} FROM ("
                f"SELECT ({moment} AT TIME ZONE %(zone)s)::date AS key_day,"
                " COALESCE(team_id, 0) AS key_team_id, channel AS key_channel,"
                " category AS key_category, tier AS key_tier,"
                " COALESCE(agent_id, 0) AS key_agent_id,"
                f" COALESCE(sla_policy_id, 0) AS key_sla_policy_id, * {hour}"
                f" FROM {facts} WHERE {moment} IS NOT NULL) fact"
                f" GROUP BY {', '.join(f'key_{k}' for k in _KEYS)}",
                zone,
            )
        for grain in GRAINS:
            table = quote(grain.model._meta.db_table)
            # The grain's key columns over the scratch table's (a month is its first day).
            source = {
                key: "date_trunc('month', day)::date" if key == "month" else key
                for key in grain.keys
            }
            names = grain.counters
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(c) for c in [*grain.keys, *names])}) "  # noqa: S608
                f"SELECT {', '.join(source.values())}, "
                f"{', '.join(f'SUM({quote(c)})' for c in names)} FROM analytics_rebuild "
                f"GROUP BY {', '.join(source.values())} "
                f"HAVING {' OR '.join(f'SUM({quote(c)}) <> 0' for c in names)} "
                # A day's (a month's) rows side by side, as the live refresh leaves them:
                # a report reads a few days from a few pages, not one row from each.
                f"ORDER BY {source[grain.keys[0]]}"
            )
            rows[grain.model._meta.db_table] = cursor.rowcount
    return rows


# --- refresh ------------------------------------------------------------------------------


def _lock(*, wait: bool = False) -> bool:
    """Take the refresh lock for this transaction (PostgreSQL), waiting for it when `wait`;
    True when taken. SQLite has one writer at a time already."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def facts_mark(ticket_ids: Iterable[int]) -> None:
    """Mark tickets' facts as due a refresh (in the caller's transaction)."""
    now = timezone.now()
    FactDirty.objects.bulk_create(
        [FactDirty(ticket_id=pk, marked_at=now) for pk in set(ticket_ids)],
        ignore_conflicts=True,
    )


def _refresh(ticket_ids: Sequence[int]) -> int:
    """Refresh these tickets' facts and add the difference to the rollups (in the caller's
    transaction, under the lock). Returns how many facts changed."""
    before = TicketFact.objects.in_bulk(list(ticket_ids))
    after = facts_compute(ticket_ids)
    changed = []
    for pk in ticket_ids:
        old, new = before.get(pk), after.get(pk)
        if old is None and new is None:
            continue
        if (
            old is not None
            and new is not None
            and all(getattr(old, name) == getattr(new, name) for name in _FACT_FIELDS)
        ):
            continue
        changed.append((old, new))
    _rollups_add(_deltas(changed))
    gone = [old.ticket_id for old, new in changed if new is None and old is not None]
    if gone:
        # A ticket that no longer exists (deleted) leaves the figures with its fact.
        TicketFact.objects.filter(ticket_id__in=gone).delete()
    fresh = [new for _old, new in changed if new is not None]
    TicketFact.objects.bulk_create(
        fresh,
        update_conflicts=True,
        unique_fields=["ticket_id"],
        update_fields=[*_FACT_FIELDS, "refreshed_at"],
    )
    return len(changed)


def facts_refresh(*, batch: int = REFRESH_BATCH, budget_s: float = 8.0) -> int:
    """Refresh the facts of the tickets marked dirty, oldest mark first, a batch per
    transaction, until none is left or `budget_s` seconds have passed. Returns how many
    tickets were refreshed (0 also when another refresh holds the lock)."""
    from analytics.casefacts import casefacts_refresh  # the cases marked, too (own lock)

    casefacts_refresh(budget_s=budget_s / 4)
    started = timezone.now()
    done = 0
    while (timezone.now() - started).total_seconds() < budget_s:
        with transaction.atomic():
            if not _lock():
                return done
            ids = list(
                FactDirty.objects.order_by("marked_at", "ticket_id").values_list(
                    "ticket_id", flat=True
                )[:batch]
            )
            if not ids:
                return done
            # Deleted in this transaction: a change committed while it runs marks the
            # ticket again once this commits (its insert waits for the delete).
            FactDirty.objects.filter(ticket_id__in=ids).delete()
            _refresh(ids)
        done += len(ids)
    return done


def facts_rebuild(
    *,
    chunk: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    summing: Callable[[], None] | None = None,
) -> int:
    """Drop every fact and rollup and compute them again from the tickets, `chunk`
    consecutive ticket ids per transaction; `progress(done, total)` after each, `summing()`
    when the facts are written and the rollups are next. Returns the tickets rebuilt.

    On PostgreSQL the chunks only write facts (`_facts_write`) and the rollups are summed
    once at the end (`rollups_rebuild`). On SQLite each chunk goes through the live refresh
    (`_refresh`: facts and rollup differences). Live refreshes may run meanwhile on either:
    each chunk holds the refresh lock, so a ticket refreshed live before its chunk is
    computed again by the chunk, and one refreshed after it starts from the chunk's fact;
    what live refreshes add to the half-built rollups on PostgreSQL is replaced by the sums
    at the end, which take the lock too."""
    with transaction.atomic():
        _lock(wait=True)
        _facts_empty()
    total = Ticket.objects.count()
    postgres = connection.vendor == "postgresql"
    done = 0
    low = Ticket.objects.order_by("pk").values_list("pk", flat=True).first()
    while low is not None:
        # Tickets opened meanwhile get their facts from the live refresh too; the loop
        # takes them anyway, up to the highest id at each pass.
        high = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or low
        for start in range(low, high + 1, chunk):
            ids = range(start, min(start + chunk, high + 1))
            with transaction.atomic():
                _lock(wait=True)
                if postgres:
                    done += _facts_write(ids)
                else:
                    _refresh(ids)
                    done += Ticket.objects.filter(_among("pk", ids)).count()
            if progress is not None:
                progress(done, total)
        low = Ticket.objects.filter(pk__gt=high).order_by("pk").values_list("pk", flat=True).first()
    if postgres:
        if summing is not None:
            summing()
        rollups_rebuild()
    return done


def _facts_empty() -> None:
    """Every fact and rollup row gone (in the caller's transaction, under the lock)."""
    tables: list[type[models.Model]] = [TicketFact, *(grain.model for grain in GRAINS)]
    if connection.vendor != "postgresql":
        for model in tables:
            model._default_manager.all().delete()
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # TRUNCATE rather than DELETE: millions of rows go at once, with no dead rows left
        # for the writes that follow to wade through.
        cursor.execute(f"TRUNCATE {', '.join(quote(m._meta.db_table) for m in tables)}")


def _facts_write(ids: range) -> int:
    """Compute the facts of the tickets in `ids` and write them in place of any there (a
    live refresh's since the rebuild began): no old facts read, no rollups touched
    (PostgreSQL, in the caller's transaction, under the lock). Returns the facts written."""
    found = _facts_values(ids)
    now = timezone.now()
    table = connection.ops.quote_name(TicketFact._meta.db_table)
    columns = ["ticket_id", *_FACT_FIELDS, "refreshed_at"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE ticket_id >= %s AND ticket_id < %s",  # noqa: S608
            [ids.start, ids.stop],
        )
        # COPY: one stream for the chunk instead of an INSERT's parameters (see
        # docs/metrics.md for the measured difference).
        with cursor.cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"  # type: ignore[arg-type]
        ) as copy:
            for pk, values in found.items():
                copy.write_row([pk, *(values.get(name) for name in _FACT_FIELDS), now])
    return len(found)


@dataclass(frozen=True)
class Lag:
    """How far the facts trail the tickets: dirty tickets waiting, and the oldest mark."""

    waiting: int
    oldest_s: float | None


def facts_lag(now: datetime | None = None) -> Lag:
    now = now or timezone.now()
    oldest = FactDirty.objects.order_by("marked_at").values_list("marked_at", flat=True).first()
    return Lag(
        waiting=FactDirty.objects.count(),
        oldest_s=(now - oldest).total_seconds() if oldest else None,
    )
