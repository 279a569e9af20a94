"""The agent queue's data at 10k and at 100k open tickets.

    .venv/bin/python bench/queue.py [--reps 500] [--small 10000] [--large 100000]

Recreates the bench database and bulk-seeds, straight into the tables with bulk_create,
open tickets spread over several teams (priorities, channels, assignees, ages and customers
mixed), with the measured agent in one of the teams. At each size it times
`tickets.selectors.queue_page(user=..., view="team")` (first page, default sort) in this
process against PostgreSQL: warm-up calls, then `--reps` timed calls, each with the user loaded
afresh (as a request would, so the role lookup is part of the page). It also counts the SQL
queries of one page, times the second page (by its keyset cursor), and prints EXPLAIN ANALYZE
of the page's ticket query at the large size. The last line of stdout is one JSON object.
Targets: p99_ms_100k <= 50 and p99_ms_100k <= 1.5 x p99_ms_10k.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ would come first on sys.path, where bench/queue.py shadows the
# standard library's `queue` (which psycopg imports): put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

import argparse  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    emit,
    log,
    percentile,
    r,
    recreate_database,
    seed_helpdesk,
    setup_django,
)

TARGET_P99_MS = 50.0
TARGET_RATIO = 1.5
TEAMS = 8
OTHER_AGENTS_PER_TEAM = 3
CUSTOMERS = 20_000
BATCH = 5_000
SUBJECTS = [
    "草莓发霉了，孩子吃了拉肚子",
    "快递三天没到",
    "申请退款",
    "App 登录不了",
    "My order has not arrived",
    "Refund for the broken blender",
    "会员积分兑换",
    "Wrong item delivered",
]


def seed_world(rng: random.Random) -> dict[str, Any]:
    """Teams, agents (the measured one in the first team) and customers."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from tickets.models import Agent, Customer, Team

    seeded = seed_helpdesk(agents=1, token_name="bench-queue")
    teams = [seeded.default_team_id]
    for index in range(1, TEAMS):
        teams.append(Team.objects.create(name=f"队列 team {index}", department="logistics").pk)
    agent_group = Group.objects.get(name="agent")
    agents_by_team: dict[int, list[int]] = {team: [] for team in teams}
    measured = Agent.objects.get(user_id=seeded.agent_user_ids[0])
    agents_by_team[teams[0]].append(measured.pk)
    user_model = get_user_model()
    for team in teams:
        for index in range(OTHER_AGENTS_PER_TEAM):
            user = user_model.objects.create(username=f"q-{team}-{index}")
            user.groups.add(agent_group)
            agent = Agent.objects.create(user=user, status="online")
            agent.teams.add(team)
            agents_by_team[team].append(agent.pk)
    customers = Customer.objects.bulk_create(
        [Customer(name=f"客户 {index}", is_vip=rng.random() < 0.03) for index in range(CUSTOMERS)],
        batch_size=BATCH,
    )
    return {
        "user_id": seeded.agent_user_ids[0],
        "teams": teams,
        "agents_by_team": agents_by_team,
        "customer_ids": [customer.pk for customer in customers],
    }


def add_open_tickets(world: dict[str, Any], count: int, start: int, rng: random.Random) -> None:
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Channel, SlaState, Status, Ticket
    from tickets.tiers import Tier

    now = timezone.now()
    ranks = [0, 1, 2, 3]
    rank_weights = [5, 5, 70, 20]
    tiers = {0: Tier.URGENT, 1: Tier.REGULAR, 2: Tier.REGULAR, 3: Tier.VALUE_ADDED}
    statuses = [Status.NEW, Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL]
    channels = [c.value for c in Channel]
    teams = world["teams"]
    batch: list[Ticket] = []
    for index in range(start, start + count):
        team = rng.choice(teams)
        rank = rng.choices(ranks, rank_weights)[0]
        created = now - timedelta(seconds=rng.randrange(30 * 24 * 3600))
        assigned = rng.random() < 0.6
        batch.append(
            Ticket(
                number=f"B{index:09d}",
                subject=rng.choice(SUBJECTS),
                status=rng.choice(statuses),
                tier=tiers[rank],
                priority_rank=rank,
                category=rng.choice(["logistics", "after_sales", "tech", ""]),
                sentiment=round(rng.uniform(-1, 1), 2),
                channel=rng.choice(channels),
                customer_id=rng.choice(world["customer_ids"]),
                team_id=team,
                assignee_id=rng.choice(world["agents_by_team"][team]) if assigned else None,
                sla_state=rng.choice([SlaState.OK] * 8 + [SlaState.AT_RISK, SlaState.BREACHED]),
                sla_due_at=created + timedelta(hours=4),
                awaiting_reply_since=created,
                created_at=created,
            )
        )
        if len(batch) >= BATCH:
            Ticket.objects.bulk_create(batch)
            batch = []
    if batch:
        Ticket.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")


def measure(user_id: int, reps: int, warmup: int = 50) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.selectors import queue_page

    users = get_user_model().objects

    def page(cursor: str = "") -> Any:
        return queue_page(user=users.get(pk=user_id), view="team", cursor=cursor)

    for _ in range(warmup):
        first = page()
    assert first.tickets, "the measured agent sees no tickets"
    times = []
    for _ in range(reps):
        user = users.get(pk=user_id)
        start = time.perf_counter()
        result = queue_page(user=user, view="team")
        times.append((time.perf_counter() - start) * 1000)
    next_times = []
    for _ in range(max(reps // 5, 20)):
        user = users.get(pk=user_id)
        start = time.perf_counter()
        queue_page(user=user, view="team", cursor=result.next_cursor or "")
        next_times.append((time.perf_counter() - start) * 1000)
    user = users.get(pk=user_id)
    with CaptureQueriesContext(connection) as captured:
        shown = queue_page(user=user, view="team")
        for ticket in shown.tickets:  # what the queue page reads of each row
            _ = (ticket.customer.name, ticket.team.name if ticket.team else "")
            _ = ticket.assignee.user.username if ticket.assignee else ""
    return {
        "p50": percentile(times, 50),
        "p99": percentile(times, 99),
        "max": max(times),
        "next_p99": percentile(next_times, 99),
        "queries": len(captured),
        "rows": len(shown.tickets),
        "sql": captured.captured_queries[-1]["sql"],
    }


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=500, help="timed pages per size")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    signal.alarm(600)  # a hard bound on the whole run; it starts no servers to stop

    recreate_database()
    setup_django("kefu.settings")
    from tickets.models import Ticket

    world = seed_world(rng)
    started = time.monotonic()
    add_open_tickets(world, args.small, 0, rng)
    log(f"seeded {args.small} open tickets in {time.monotonic() - started:.1f}s")
    small = measure(world["user_id"], args.reps)
    log(f"{args.small}: p50 {small['p50']:.2f} ms, p99 {small['p99']:.2f} ms")
    started = time.monotonic()
    add_open_tickets(world, args.large - args.small, args.small, rng)
    log(f"seeded up to {args.large} open tickets in {time.monotonic() - started:.1f}s")
    large = measure(world["user_id"], args.reps)
    log(f"{args.large}: p50 {large['p50']:.2f} ms, p99 {large['p99']:.2f} ms")
    plan = explain(large["sql"])
    open_tickets = Ticket.objects.filter(is_open=True).count()
    team_tickets = Ticket.objects.filter(is_open=True, team_id=world["teams"][0]).count()

    print(f"-- the queue's ticket query at {args.large} open tickets:")
    print(large["sql"])
    print("-- EXPLAIN (ANALYZE, BUFFERS):")
    print(plan)
    ratio = large["p99"] / small["p99"] if small["p99"] else float("nan")
    emit(
        {
            "open_tickets": open_tickets,
            "teams": len(world["teams"]),
            "agent_team_open_tickets": team_tickets,
            "reps": args.reps,
            "rows_per_page": large["rows"],
            "p50_ms_10k": r(small["p50"], 3),
            "p99_ms_10k": r(small["p99"], 3),
            "max_ms_10k": r(small["max"], 3),
            "p50_ms_100k": r(large["p50"], 3),
            "p99_ms_100k": r(large["p99"], 3),
            "max_ms_100k": r(large["max"], 3),
            "next_page_p99_ms_10k": r(small["next_p99"], 3),
            "next_page_p99_ms_100k": r(large["next_p99"], 3),
            "queries_per_page": large["queries"],
            "queries_per_page_10k": small["queries"],
            "ratio_100k_to_10k": r(ratio, 3),
            "targets": {"p99_ms_100k": TARGET_P99_MS, "ratio_100k_to_10k": TARGET_RATIO},
            "p99_met": large["p99"] <= TARGET_P99_MS,
            "ratio_met": ratio <= TARGET_RATIO,
        }
    )


if __name__ == "__main__":
    main()
