"""After-sales case facts and the rollups kept from them (docs/metrics.md: after-sales cycle
time, time per step).

`casefacts_compute` is the one implementation of a case's figures: a `CaseFact` (opening,
close, cycle time, refund, the ticket's dimensions) and a `CaseStepFact` per step the case
has left (time from the step's moment to the next step's moment). `contributions` says what
they add to the rollups, each on the local day of its own moment. As for tickets
(analytics.facts), a refresh recomputes the facts of the cases marked dirty and adds the
difference to every grain, so a rollup row is always the sum of the facts it covers, however
often a case is refreshed; one refresh runs at a time (its own advisory lock); a rebuild
empties everything under the same lock and refreshes every case through the same code.

Cases are marked in the transaction of the change: a recorded step
(`aftersales.signals.case_steps_recorded`) or a change of the team, tier, category or
assignee of the case's ticket (analytics.receivers).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from aftersales.models import Case, CaseStep
from aftersales.services.clocks import CASE_STEP, case_subject_id
from aftersales.steps import FINAL_STEPS, Step
from analytics import reports
from analytics.models import (
    CaseDailyRollup,
    CaseFact,
    CaseFactDirty,
    CaseMonthlyRollup,
    CaseRollupSums,
    CaseStepFact,
    CaseTypeDailyRollup,
)
from sla.models import SlaClock
from tickets.models import Ticket

# The advisory lock that lets one case refresh run at a time ("kefu-case" as a number); not
# the tickets' lock, so the two refreshes do not wait for each other.
_LOCK_KEY = 0x6B656675_6361
REFRESH_BATCH = 500

COUNTERS = (
    "opened",
    "closed",
    "cycle_wall_s",
    "refunded",
    "steps_ended",
    "step_wall_s",
    "step_business_count",
    "step_business_s",
)
_FACT_FIELDS = [f.name for f in CaseFact._meta.concrete_fields if f.name != "refreshed_at"]
_STEP_FIELDS = [f.name for f in CaseStepFact._meta.concrete_fields]


@dataclass
class CaseFigures:
    """A case's facts as they stand: the case's row and the steps it has left, in order."""

    fact: CaseFact
    steps: list[CaseStepFact] = field(default_factory=list)

    def same_as(self, other: "CaseFigures") -> bool:
        if any(getattr(self.fact, n) != getattr(other.fact, n) for n in _FACT_FIELDS):
            return False
        if len(self.steps) != len(other.steps):
            return False
        mine = sorted(self.steps, key=lambda s: s.step_row_id)
        theirs = sorted(other.steps, key=lambda s: s.step_row_id)
        return all(
            getattr(a, n) == getattr(b, n)
            for a, b in zip(mine, theirs, strict=True)
            for n in _STEP_FIELDS
        )


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def casefacts_compute(case_ids: Sequence[int]) -> dict[int, CaseFigures]:
    """The facts of these cases as they stand now (cases that no longer exist are left
    out). Four queries for the batch, whatever its size."""
    cases = list(
        Case.objects.filter(pk__in=case_ids).values(
            "pk", "type", "created_at", "refunded_amount", "ticket_id"
        )
    )
    if not cases:
        return {}
    ids = [c["pk"] for c in cases]
    tickets = {
        row["pk"]: row
        for row in Ticket.objects.filter(
            pk__in={c["ticket_id"] for c in cases if c["ticket_id"]}
        ).values("pk", "team_id", "channel", "category", "tier", "assignee_id")
    }
    steps: dict[int, list[tuple[int, str, datetime]]] = defaultdict(list)
    for pk, case_id, step, at in (
        CaseStep.objects.filter(case_id__in=ids)
        .order_by("case_id", "at", "pk")
        .values_list("pk", "case_id", "step", "at")
    ):
        steps[case_id].append((pk, step, at))
    # Business time as the SLA engine measured it: the met clock of the step (its sequence is
    # the step's row), on the after-sales calendar (aftersales.services.clocks).
    business: dict[int, int | None] = {
        sequence: elapsed
        for sequence, elapsed in SlaClock.objects.filter(
            subject_id__in=[case_subject_id(pk) for pk in ids],
            milestone=CASE_STEP,
            satisfied_at__isnull=False,
        ).values_list("sequence", "elapsed_business_seconds")
    }
    now = timezone.now()
    found: dict[int, CaseFigures] = {}
    for case in cases:
        pk = case["pk"]
        ticket: Mapping[str, Any] | None = tickets.get(case["ticket_id"])
        dimensions: dict[str, Any] = {
            "team_id": (ticket["team_id"] or 0) if ticket else 0,
            "channel": ticket["channel"] if ticket else "",
            "category": ticket["category"] if ticket else "",
            "tier": ticket["tier"] if ticket else "",
            "agent_id": (ticket["assignee_id"] or 0) if ticket else None,
        }
        taken = steps.get(pk, [])
        finals = [(step, at) for _pk, step, at in taken if step in FINAL_STEPS]
        closed_step, closed_at = finals[-1] if finals else ("", None)
        fact = CaseFact(
            case_id=pk,
            case_type=case["type"],
            created_at=case["created_at"],
            closed_at=closed_at,
            closed_step=closed_step,
            cycle_wall_s=_seconds(case["created_at"], closed_at) if closed_at else None,
            refunded=case["refunded_amount"] or Decimal(0),
            ticket_id=case["ticket_id"] if ticket else None,
            refreshed_at=now,
            **dimensions,
        )
        left = [
            CaseStepFact(
                step_row_id=row_pk,
                case_id=pk,
                case_type=case["type"],
                step=step,
                entered_at=at,
                ended_at=next_at,
                wall_s=_seconds(at, next_at),
                business_s=business.get(row_pk),
                **dimensions,
            )
            for (row_pk, step, at), (_next_pk, _next_step, next_at) in pairwise(taken)
        ]
        found[pk] = CaseFigures(fact=fact, steps=left)
    return found


# --- rollups ------------------------------------------------------------------------------

# Local day, case type, step, team (0: none), channel, category, tier ("": none).
Key = tuple[date, str, str, int, str, str, str]


@dataclass(frozen=True)
class Grain:
    model: type[CaseRollupSums]
    keys: tuple[str, ...]
    project: Callable[[Key], tuple[Any, ...]]


_DIMENSIONS = ("team_id", "channel", "category", "tier")
GRAINS = (
    Grain(CaseDailyRollup, ("day", "case_type", "step", *_DIMENSIONS), lambda k: k),
    Grain(CaseTypeDailyRollup, ("day", "case_type", "step"), lambda k: k[:3]),
    Grain(
        CaseMonthlyRollup,
        ("month", "case_type", "step", *_DIMENSIONS),
        lambda k: (k[0].replace(day=1), *k[1:]),
    ),
)


def contributions(figures: CaseFigures) -> list[tuple[Key, dict[str, Any]]]:
    """What one case adds to the rollups: its opening to the `submitted` row of its opening
    day; its close (cycle time, refund) to the row of its final step of the closing day; the
    time in each step it has left to that step's row of the day the step ended.
    `case_rollups_rebuild` sums the same in SQL."""
    fact = figures.fact

    def key(at: datetime, step: str) -> Key:
        return (
            timezone.localdate(at),
            fact.case_type,
            step,
            fact.team_id,
            fact.channel,
            fact.category,
            fact.tier,
        )

    added: list[tuple[Key, dict[str, Any]]] = [
        (key(fact.created_at, Step.SUBMITTED), {"opened": 1})
    ]
    if fact.closed_at is not None:
        added.append(
            (
                key(fact.closed_at, fact.closed_step),
                {"closed": 1, "cycle_wall_s": fact.cycle_wall_s or 0, "refunded": fact.refunded},
            )
        )
    for step in figures.steps:
        added.append(
            (
                key(step.ended_at, step.step),
                {
                    "steps_ended": 1,
                    "step_wall_s": step.wall_s,
                    "step_business_count": int(step.business_s is not None),
                    "step_business_s": step.business_s or 0,
                },
            )
        )
    return added


def _deltas(pairs: Iterable[tuple[CaseFigures | None, CaseFigures | None]]) -> dict[Key, dict]:
    total: dict[Key, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for before, after in pairs:
        for figures, sign in ((before, -1), (after, 1)):
            if figures is None:
                continue
            for key, values in contributions(figures):
                for name, value in values.items():
                    total[key][name] += sign * value
    return {key: dict(values) for key, values in total.items() if any(values.values())}


def _rollups_add(deltas: Mapping[Key, Mapping[str, Any]]) -> None:
    """Add `deltas` to the rows of every grain, creating the missing ones (INSERT … ON
    CONFLICT DO UPDATE, on PostgreSQL and SQLite alike)."""
    if not deltas:
        return
    quote = connection.ops.quote_name
    for grain in GRAINS:
        projected: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
        for key, values in deltas.items():
            row = projected[grain.project(key)]
            for name, value in values.items():
                row[name] += value
        table = quote(grain.model._meta.db_table)
        columns = [*grain.keys, *COUNTERS]
        # Identifiers come from the model, quoted; every value is a parameter.
        increments = ", ".join(
            f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in COUNTERS
        )
        sql = (
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({', '.join(quote(k) for k in grain.keys)}) DO UPDATE SET {increments}"
        )
        rows = [
            [*key, *(values.get(name, 0) for name in COUNTERS)]
            for key, values in projected.items()
            if any(values.values())
        ]
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)


def case_rollups_rebuild() -> dict[str, int]:
    """Empty every case rollup grain and sum it again from the facts, set-based in
    PostgreSQL, in one transaction under the refresh lock: the same sums as `contributions`
    (the finest grain from the facts, the others from it). Returns the rows per table."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("case_rollups_rebuild runs on PostgreSQL; use casefacts_rebuild")
    zone = {"zone": timezone.get_current_timezone_name()}
    finest = GRAINS[0]
    keys = ", ".join(finest.keys)
    counters = ", ".join(COUNTERS)
    sums = ", ".join(f"SUM({c})" for c in COUNTERS)
    facts = CaseFact._meta.db_table
    step_facts = CaseStepFact._meta.db_table
    dimensions = ", ".join(_DIMENSIONS)
    rows: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(wait=True)
        for grain in GRAINS:
            cursor.execute(f"DELETE FROM {grain.model._meta.db_table}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {finest.model._meta.db_table} ({keys}, {counters}) "  # noqa: S608
            f"SELECT {keys}, {sums} FROM ("
            f" SELECT (created_at AT TIME ZONE %(zone)s)::date AS day, case_type,"
            f" '{Step.SUBMITTED.value}' AS step, {dimensions}, 1 AS opened, 0 AS closed,"
            " 0 AS cycle_wall_s, 0 AS refunded, 0 AS steps_ended, 0 AS step_wall_s,"
            f" 0 AS step_business_count, 0 AS step_business_s FROM {facts}"
            " UNION ALL"
            f" SELECT (closed_at AT TIME ZONE %(zone)s)::date, case_type, closed_step,"
            f" {dimensions}, 0, 1, COALESCE(cycle_wall_s, 0), refunded, 0, 0, 0, 0"
            f" FROM {facts} WHERE closed_at IS NOT NULL"
            " UNION ALL"
            f" SELECT (ended_at AT TIME ZONE %(zone)s)::date, case_type, step, {dimensions},"
            " 0, 0, 0, 0, 1, wall_s, CASE WHEN business_s IS NULL THEN 0 ELSE 1 END,"
            f" COALESCE(business_s, 0) FROM {step_facts}"
            f") part GROUP BY {keys}",
            zone,
        )
        rows[finest.model._meta.db_table] = cursor.rowcount
        for grain in GRAINS[1:]:
            source = [
                "date_trunc('month', day)::date" if key == "month" else key for key in grain.keys
            ]
            cursor.execute(
                f"INSERT INTO {grain.model._meta.db_table} ({', '.join(grain.keys)}, "  # noqa: S608
                f"{counters}) SELECT {', '.join(source)}, {sums} "
                f"FROM {finest.model._meta.db_table} GROUP BY {', '.join(source)}"
            )
            rows[grain.model._meta.db_table] = cursor.rowcount
    return rows


# --- refresh ------------------------------------------------------------------------------


def _lock(*, wait: bool = False) -> bool:
    """Take the case refresh lock for this transaction (PostgreSQL), waiting for it when
    `wait`; True when taken. SQLite has one writer at a time already."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def casefacts_mark(case_ids: Iterable[int]) -> None:
    """Mark cases' facts as due a refresh (in the caller's transaction); a case marked
    already stays marked once."""
    now = timezone.now()
    CaseFactDirty.objects.bulk_create(
        [CaseFactDirty(case_id=pk, marked_at=now) for pk in set(case_ids)],
        ignore_conflicts=True,
    )


def casefacts_mark_tickets(ticket_ids: Iterable[int]) -> None:
    """Mark the cases of these tickets (their dimensions follow the ticket's)."""
    if ids := list(Case.objects.filter(ticket_id__in=set(ticket_ids)).values_list("pk", flat=True)):
        casefacts_mark(ids)


def _stored(case_ids: Sequence[int]) -> dict[int, CaseFigures]:
    found = {pk: CaseFigures(fact=fact) for pk, fact in CaseFact.objects.in_bulk(case_ids).items()}
    for step in CaseStepFact.objects.filter(case_id__in=case_ids).order_by("entered_at", "pk"):
        if step.case_id in found:
            found[step.case_id].steps.append(step)
    return found


def _refresh(case_ids: Sequence[int]) -> int:
    """Refresh these cases' facts and add the difference to the rollups (in the caller's
    transaction, under the lock). Returns how many cases' facts changed."""
    before = _stored(case_ids)
    after = casefacts_compute(case_ids)
    changed: list[tuple[CaseFigures | None, CaseFigures | None]] = []
    for pk in case_ids:
        old, new = before.get(pk), after.get(pk)
        if old is None and new is None:
            continue
        if old is not None and new is not None and old.same_as(new):
            continue
        changed.append((old, new))
    if not changed:
        return 0
    _rollups_add(_deltas(changed))
    # A case that no longer exists leaves the figures with its facts.
    ids = [(old or new).fact.case_id for old, new in changed]  # type: ignore[union-attr]
    CaseStepFact.objects.filter(case_id__in=ids).delete()
    CaseFact.objects.filter(case_id__in=ids).delete()
    fresh = [new for _old, new in changed if new is not None]
    CaseFact.objects.bulk_create([figures.fact for figures in fresh])
    CaseStepFact.objects.bulk_create([step for figures in fresh for step in figures.steps])
    return len(changed)


def casefacts_refresh(*, batch: int = REFRESH_BATCH, budget_s: float = 4.0) -> int:
    """Refresh the facts of the cases marked dirty, oldest mark first, a batch per
    transaction, until none is left or `budget_s` seconds have passed. Returns how many cases
    were refreshed (0 also when another refresh holds the lock)."""
    started = timezone.now()
    done = 0
    while (timezone.now() - started).total_seconds() < budget_s:
        with transaction.atomic():
            if not _lock():
                return done
            ids = list(
                CaseFactDirty.objects.order_by("marked_at", "case_id").values_list(
                    "case_id", flat=True
                )[:batch]
            )
            if not ids:
                return done
            # Deleted in this transaction: a step committed while it runs marks the case
            # again once this commits.
            CaseFactDirty.objects.filter(case_id__in=ids).delete()
            _refresh(ids)
        done += len(ids)
    return done


def casefacts_rebuild(*, chunk: int = 1000) -> int:
    """Drop every case fact and case rollup and compute them again from the cases, `chunk`
    cases per transaction. Live refreshes may run meanwhile: they take the same lock and add
    the same differences, so nothing counts twice."""
    with transaction.atomic():
        _lock(wait=True)
        for grain in GRAINS:
            grain.model._default_manager.all().delete()
        CaseStepFact.objects.all().delete()
        CaseFact.objects.all().delete()
    done = 0
    last = 0
    while True:
        ids = list(
            Case.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            break
        with transaction.atomic():
            _lock(wait=True)
            _refresh(ids)
        last = ids[-1]
        done += len(ids)
    return done


# --- reading ------------------------------------------------------------------------------


@dataclass
class CaseSums:
    """The sums of the case rollups over some rows (or of the facts behind them)."""

    opened: int = 0
    closed: int = 0
    cycle_wall_s: int = 0
    refunded: Decimal = Decimal(0)
    steps_ended: int = 0
    step_wall_s: int = 0
    step_business_count: int = 0
    step_business_s: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "CaseSums":
        values: dict[str, Any] = {f.name: row.get(f.name) or 0 for f in fields(cls)}
        return cls(**values)

    def __add__(self, other: "CaseSums") -> "CaseSums":
        return CaseSums(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def cycle_avg_s(self) -> float | None:
        return self.cycle_wall_s / self.closed if self.closed else None

    @property
    def step_avg_s(self) -> float | None:
        return self.step_wall_s / self.steps_ended if self.steps_ended else None

    @property
    def step_business_avg_s(self) -> float | None:
        if not self.step_business_count:
            return None
        return self.step_business_s / self.step_business_count


def _narrows(filters: reports.Filters) -> bool:
    return filters.team_id is not None or any(
        getattr(filters, name) for name in ("channel", "category", "tier")
    )


def _dimensions(filters: reports.Filters) -> Q:
    q = Q()
    if filters.team_id is not None:
        q &= Q(team_id=filters.team_id)
    for name in ("channel", "category", "tier"):
        if value := getattr(filters, name):
            q &= Q(**{name: value})
    return q


def _summed(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    return list(
        rows.values("case_type", "step").annotate(**{c: Sum(c) for c in COUNTERS}).order_by()
    )


def case_sums(filters: reports.Filters) -> dict[tuple[str, str], CaseSums]:
    """The period's sums per (case type, step), from the coarsest case rollup that holds
    them: the type grain when nothing narrows the page; the month grain for the whole months
    and the finest day grain for the days at the ends when the team, channel, category or
    tier does; the facts of one agent's tickets when the page is narrowed to an agent. A
    case without a ticket is in the unnarrowed figures only. Two queries at most from the
    rollups, whatever the period."""
    if filters.agent_id is not None:
        return _agent_sums(filters)
    readings: list[QuerySet[Any]] = []
    if not _narrows(filters):
        readings.append(CaseTypeDailyRollup.objects.filter(day__range=(filters.start, filters.end)))
    else:
        narrowed = _dimensions(filters)
        months = reports._whole_months(filters)
        if months is None:
            ranges = [(filters.start, filters.end)]
        else:
            first, last = months
            ranges = [
                (filters.start, first - timedelta(days=1)),
                (reports._next_month(last), filters.end),
            ]
            readings.append(CaseMonthlyRollup.objects.filter(narrowed, month__range=months))
        days = Q()
        for start, end in ranges:
            if start <= end:
                days |= Q(day__range=(start, end))
        if days:
            readings.append(CaseDailyRollup.objects.filter(days, narrowed))
    found: dict[tuple[str, str], CaseSums] = {}
    for rows in readings:
        for row in _summed(rows):
            key = (row["case_type"], row["step"])
            sums = CaseSums.of(row)
            found[key] = found[key] + sums if key in found else sums
    return found


def _agent_sums(filters: reports.Filters) -> dict[tuple[str, str], CaseSums]:
    """`case_sums` from the facts of the cases whose ticket is (or, for 0, whose ticket is
    not) assigned to the agent: three queries by the facts' (agent, moment) indexes."""
    start = reports.local_midnight(filters.start)
    end = reports.local_midnight(filters.end + timedelta(days=1))
    narrowed = _dimensions(filters) & Q(agent_id=filters.agent_id)
    found: dict[tuple[str, str], CaseSums] = defaultdict(CaseSums)
    opened: Any = (
        CaseFact.objects.filter(narrowed, created_at__gte=start, created_at__lt=end)
        .values("case_type")
        .annotate(opened=Count("pk"))
        .order_by()
    )
    for row in opened:
        found[(row["case_type"], Step.SUBMITTED)] += CaseSums(opened=row["opened"])
    closed: Any = (
        CaseFact.objects.filter(narrowed, closed_at__gte=start, closed_at__lt=end)
        .values("case_type", "closed_step")
        .annotate(closed=Count("pk"), cycle_wall_s=Sum("cycle_wall_s"), refunded=Sum("refunded"))
        .order_by()
    )
    for row in closed:
        found[(row["case_type"], row["closed_step"])] += CaseSums.of(row)
    left: Any = (
        CaseStepFact.objects.filter(narrowed, ended_at__gte=start, ended_at__lt=end)
        .values("case_type", "step")
        .annotate(
            steps_ended=Count("pk"),
            step_wall_s=Sum("wall_s"),
            step_business_count=Count("business_s"),
            step_business_s=Sum("business_s"),
        )
        .order_by()
    )
    for row in left:
        found[(row["case_type"], row["step"])] += CaseSums.of(row)
    return dict(found)
