"""The supervisor board's figures at a small and a large helpdesk.

    .venv/bin/python bench/board.py [--reps 50] [--scale 10]

Recreates the bench database and bulk-seeds, straight into the tables with bulk_create: open
and closed tickets (1 : 10), daily rollups for 90 days over teams, channels, categories and
tiers, and CSAT surveys over 90 days. The small size is 2,000 open tickets; the large one
`--scale` times every table. At each size it times, in this process against PostgreSQL, the
whole board fragment's data (`analytics.views._counters`, what `/board/live/` renders) and
the part the day's rates, backlog and trends add (`board_rates`, `backlog_by_category` and
the trends), counts the queries of one fragment, and prints EXPLAIN ANALYZE of the backlog
query at the large size. The last line of stdout is one JSON object.
Targets: tiles_p99_ms_large <= 40 and tiles_p99_ms_large <= 2 x tiles_p99_ms_small.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

import argparse  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import emit, log, percentile, r, recreate_database, setup_django  # noqa: E402
from bench.queue import SUBJECTS, seed_world  # noqa: E402

TARGET_TILES_P99_MS = 40.0
TARGET_RATIO = 2.0
OPEN_SMALL = 2_000
CLOSED_PER_OPEN = 10
SURVEYS_SMALL = 5_000
DAYS = 90
BATCH = 5_000
CATEGORIES = ["logistics", "after_sales", "tech", "value_added", ""]


def add_tickets(world: dict[str, Any], *, count: int, start: int, rng: random.Random) -> None:
    """`count` tickets from the last 90 days, one in CLOSED_PER_OPEN + 1 of them open."""
    from django.utils import timezone

    from tickets.models import Channel, Status, Ticket

    now = timezone.now()
    channels = [c.value for c in Channel]
    batch: list[Ticket] = []
    for index in range(start, start + count):
        is_open = index % (CLOSED_PER_OPEN + 1) == 0
        created = now - timedelta(seconds=rng.randrange(DAYS * 24 * 3600))
        team = rng.choice(world["teams"])
        batch.append(
            Ticket(
                number=f"D{index:09d}",
                subject=rng.choice(SUBJECTS),
                status=rng.choice([Status.NEW, Status.OPEN]) if is_open else Status.CLOSED,
                category=rng.choice(CATEGORIES),
                channel=rng.choice(channels),
                customer_id=rng.choice(world["customer_ids"]),
                team_id=team,
                created_at=created,
                first_response_at=created + timedelta(minutes=rng.randrange(1, 240)),
                resolved_at=None if is_open else created + timedelta(hours=rng.randrange(1, 72)),
            )
        )
        if len(batch) >= BATCH:
            Ticket.objects.bulk_create(batch)
            batch = []
    if batch:
        Ticket.objects.bulk_create(batch)


def add_rollups(world: dict[str, Any], *, agents: int, rng: random.Random) -> None:
    """A row per day, team, channel, category, tier and (up to `agents`) assignee."""
    from django.utils import timezone

    from analytics.models import DailyRollup
    from tickets.models import Channel

    today = timezone.localdate()
    rows: list[DailyRollup] = []
    agent_ids = [a for team in world["agents_by_team"].values() for a in team][:agents] or [0]
    for n in range(DAYS):
        day = today - timedelta(days=n)
        for team in world["teams"]:
            for channel in [c.value for c in Channel]:
                for category in CATEGORIES:
                    created = rng.randrange(0, 30)
                    resolved = rng.randrange(0, created + 1)
                    rows.append(
                        DailyRollup(
                            day=day,
                            team_id=team,
                            channel=channel,
                            category=category,
                            tier="regular",
                            agent_id=rng.choice(agent_ids),
                            created=created,
                            repeat_contacts=rng.randrange(0, created // 5 + 1),
                            resolved=resolved,
                            first_contact_resolved=rng.randrange(0, resolved + 1),
                        )
                    )
                    if len(rows) >= BATCH:
                        DailyRollup.objects.bulk_create(rows, ignore_conflicts=True)
                        rows = []
    DailyRollup.objects.bulk_create(rows, ignore_conflicts=True)


def add_surveys(*, count: int, start: int, rng: random.Random) -> None:
    from django.utils import timezone

    from feedback.models import Survey
    from tickets.models import Ticket

    now = timezone.now()
    tickets = list(Ticket.objects.values_list("pk", "customer_id", "channel")[:5_000])
    batch: list[Survey] = []
    for index in range(start, start + count):
        ticket, customer, channel = rng.choice(tickets)
        invited = now - timedelta(seconds=rng.randrange(DAYS * 24 * 3600))
        answered = rng.random() < 0.4
        batch.append(
            Survey(
                kind="csat",
                trigger="resolved",
                key=f"bench:{index}",
                ticket_id=ticket,
                customer_id=customer,
                channel=channel,
                created_at=invited,
                invited_at=invited,
                nonce="0" * 16,
                score=rng.randrange(1, 6) if answered else None,
                answered_at=invited + timedelta(hours=1) if answered else None,
            )
        )
        if len(batch) >= BATCH:
            Survey.objects.bulk_create(batch)
            batch = []
    if batch:
        Survey.objects.bulk_create(batch)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("tickets_ticket", "analytics_dailyrollup", "feedback_survey"):
            # As autovacuum leaves a table in service: statistics, and a visibility map that
            # lets an index answer alone.
            cursor.execute(f"VACUUM ANALYZE {table}")


def tiles() -> None:
    from django.utils import timezone

    from analytics import selectors

    now = timezone.now()
    week = selectors.trend_totals(now=now)
    selectors.board_rates(week=week)
    selectors.backlog_by_category()
    selectors.backlog_trend(open_now=0, week=week)
    selectors.anomaly_trend(open_now=0, now=now)
    selectors.overdue_action_trend(overdue_now=0, now=now)


def measure(reps: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics.views import _counters

    for _ in range(5):
        _counters()
    whole, part = [], []
    for _ in range(reps):
        started = time.perf_counter()
        _counters()
        whole.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        tiles()
        part.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        _counters()
    return {
        "board_p50": percentile(whole, 50),
        "board_p99": percentile(whole, 99),
        "tiles_p50": percentile(part, 50),
        "tiles_p99": percentile(part, 99),
        "queries": len(captured),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    signal.alarm(1200)

    recreate_database()
    setup_django("kefu.settings")
    from django.db import connection

    from tickets.models import Ticket

    world = seed_world(rng)
    small_tickets = OPEN_SMALL * (CLOSED_PER_OPEN + 1)
    started = time.monotonic()
    add_tickets(world, count=small_tickets, start=0, rng=rng)
    add_rollups(world, agents=4, rng=rng)
    add_surveys(count=SURVEYS_SMALL, start=0, rng=rng)
    analyze()
    log(f"seeded the small helpdesk in {time.monotonic() - started:.1f}s")
    small = measure(args.reps)
    log(f"small: board p99 {small['board_p99']:.1f} ms, tiles p99 {small['tiles_p99']:.1f} ms")

    started = time.monotonic()
    add_tickets(world, count=small_tickets * (args.scale - 1), start=small_tickets, rng=rng)
    add_rollups(world, agents=4 * args.scale, rng=rng)
    add_surveys(count=SURVEYS_SMALL * (args.scale - 1), start=SURVEYS_SMALL, rng=rng)
    analyze()
    log(f"seeded the large helpdesk in {time.monotonic() - started:.1f}s")
    large = measure(args.reps)
    log(f"large: board p99 {large['board_p99']:.1f} ms, tiles p99 {large['tiles_p99']:.1f} ms")

    from analytics.models import DailyRollup
    from analytics.selectors import backlog_query
    from feedback.models import Survey

    query = backlog_query()
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print("-- the backlog query at the large size:")
    print(plan)
    ratio = large["tiles_p99"] / small["tiles_p99"] if small["tiles_p99"] else float("nan")
    emit(
        {
            "tickets_large": Ticket.objects.count(),
            "open_tickets_large": Ticket.objects.filter(is_open=True).count(),
            "rollup_rows_large": DailyRollup.objects.count(),
            "surveys_large": Survey.objects.count(),
            "reps": args.reps,
            "board_p50_ms_small": r(small["board_p50"]),
            "board_p99_ms_small": r(small["board_p99"]),
            "board_p50_ms_large": r(large["board_p50"]),
            "board_p99_ms_large": r(large["board_p99"]),
            "tiles_p50_ms_small": r(small["tiles_p50"]),
            "tiles_p99_ms_small": r(small["tiles_p99"]),
            "tiles_p50_ms_large": r(large["tiles_p50"]),
            "tiles_p99_ms_large": r(large["tiles_p99"]),
            "queries_per_fragment_small": small["queries"],
            "queries_per_fragment_large": large["queries"],
            "ratio_large_to_small": r(ratio, 3),
            "targets": {"tiles_p99_ms_large": TARGET_TILES_P99_MS, "ratio": TARGET_RATIO},
            "tiles_p99_met": large["tiles_p99"] <= TARGET_TILES_P99_MS,
            "ratio_met": ratio <= TARGET_RATIO,
        }
    )


if __name__ == "__main__":
    main()
