"""SLA timers: how late 1,000 breaches fire among 100,000 open clocks, and what a tick costs.

    .venv/bin/python bench/sla.py [--open 100000] [--due 1000] [--window 60] [--reps 300]

Recreates its own database (`kefu_bench_sla`; BENCH_DATABASE_URL may name another whose name
contains "bench") and Redis database 8 (BENCH_REDIS_URL), migrates, and then:

1. **Tick cost, in this process.** Bulk-inserts open clocks due weeks ahead straight into
   `sla_slaclock` (10,000 first, ANALYZE), times `sla.services.clocks_tick()` with nothing due
   (`--reps` calls, median and p99), and a tick that breaches 100 clocks (in a transaction
   rolled back after each call, so every call finds the same 100); then grows the table to
   `--open` clocks and times both again. The tick's cost should follow the clocks due, not
   the clocks open. It prints EXPLAIN (ANALYZE, BUFFERS) of the tick's candidate queries at
   the large size with 100 clocks due: the breach query must use the partial index
   `sla_clock_due_running` (`due_query_uses_partial_index`).
2. **Lateness under a real worker.** Starts `celery -A kefu worker --beat` (solo pool,
   SLA_TICK_SECONDS=1, Redis broker) with production settings, then opens `--due` tickets
   whose first-response clocks fall due evenly over the next `--window` seconds (the first
   five seconds out), beside the open clocks. It waits until all have fired (bounded), then
   reads back from PostgreSQL:

   - `lateness_*`: `breached_at - due_at`. `breached_at` is the tick's own time, stamped when
     the tick started, so it leaves out the time the tick then spent on the clocks before.
   - `commit_lateness_*`: from `due_at` to the commit of the claim, which is when the core's
     reaction (ticket state, trail event) becomes visible. A deferred constraint trigger the
     benchmark adds to its own database stores `clock_timestamp()` at each commit that writes
     a `breached_at`, one row per write.
   - `doubled`: clocks fired more than once, seen either way: a ticket with more than one
     `sla_breach` TicketEvent for the clock, or more than one committed write of the clock's
     `breached_at` (the trigger's rows). `missed`: clocks not breached, or breached without
     their event, when the wait ends.
   - `ms_per_breach`: the worker's tick time per clock breached, from its log.

Stops the worker (also on error, Ctrl-C, SIGTERM or the time limit), then drops the database
and empties its Redis database unless `--keep`. Progress goes to stderr; the last line of
stdout is one JSON object.
Targets: lateness_p99_s <= 2, lateness_max_s <= 5, tick_ms <= 50, and tick_ms at 100k open
within 1.5x of tick_ms_10k_open.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ would come first on sys.path, where this very file would shadow the
# `sla` app (and bench/queue.py the standard library's `queue`): put the project root there.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kefu_bench_sla")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")

from bench.common import (  # noqa: E402
    BIN,
    OUT,
    Service,
    Services,
    _database_parts,
    bench_env,
    emit,
    log,
    percentile,
    r,
    recreate_database,
    setup_django,
)

TARGET_LATENESS_P99_S = 2.0
TARGET_LATENESS_MAX_S = 5.0
TARGET_TICK_MS = 50.0
TARGET_TICK_RATIO = 1.5
TICK_SECONDS = 1
SMALL_OPEN = 10_000
BATCH = 5_000
DUE_IN_TICK = 100
# Subject ids of the clocks that never fire: far above any ticket id this benchmark makes.
BACKGROUND_SUBJECTS = 10_000_000
ROLLED_BACK_SUBJECTS = 20_000_000

_TICK_LINE = re.compile(r"succeeded in ([0-9.]+)s: \{'warned': \d+, 'breached': (\d+)\}")

COMMIT_TRIGGER = """
CREATE TABLE bench_sla_fired (clock_id bigint NOT NULL, committed_at timestamptz NOT NULL);
CREATE FUNCTION bench_sla_fired_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench_sla_fired (clock_id, committed_at) VALUES (NEW.id, clock_timestamp());
    RETURN NULL;
END $$;
-- Deferred: it runs when the claiming transaction commits, and never if it rolls back.
CREATE CONSTRAINT TRIGGER bench_sla_fired AFTER UPDATE OF breached_at ON sla_slaclock
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.breached_at IS NOT NULL)
    EXECUTE FUNCTION bench_sla_fired_at();
"""


def bench_policy() -> Any:
    from sla.models import BusinessCalendar, SlaPolicy

    return SlaPolicy.objects.create(
        name="bench-sla",
        position=0,
        conditions={"tier": ["bench-sla"]},
        calendar=BusinessCalendar.objects.get(is_default=True),
        first_response_minutes=60,
    )


def clock_rows(
    *, policy: Any, subjects: Sequence[int], started_at: datetime, due: list[datetime]
) -> list[Any]:
    """Unsaved first-response clocks, one per subject, with the given due times."""
    from sla.models import Milestone, SlaClock

    return [
        SlaClock(
            subject_id=subject,
            milestone=Milestone.FIRST_RESPONSE,
            policy_id=policy.pk,
            calendar_id=policy.calendar_id,
            target_seconds=3600,
            started_at=started_at,
            # No warning before the breach: the figures are about breaches.
            warn_at=due_at,
            due_at=due_at,
        )
        for subject, due_at in zip(subjects, due, strict=True)
    ]


def seed_open(*, policy: Any, start: int, stop: int) -> None:
    """Open clocks due 20 to 40 days from now, straight into the table."""
    from django.db import connection
    from django.utils import timezone

    from sla.models import SlaClock

    now = timezone.now()
    began = time.monotonic()
    for low in range(start, stop, BATCH):
        high = min(low + BATCH, stop)
        due = [
            now + timedelta(days=20, seconds=index * 17 % 1_728_000) for index in range(low, high)
        ]
        SlaClock.objects.bulk_create(
            clock_rows(
                policy=policy,
                subjects=range(BACKGROUND_SUBJECTS + low, BACKGROUND_SUBJECTS + high),
                started_at=now,
                due=due,
            )
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_slaclock")
    log(f"{stop:,} open clocks ({stop - start:,} inserted in {time.monotonic() - began:.1f}s)")


class _RolledBack(Exception):
    pass


def time_ticks(*, policy: Any, reps: int) -> dict[str, float]:
    """Median and p99 ms of a tick with nothing due, and median ms of a tick breaching
    DUE_IN_TICK clocks (of subjects that are no tickets, so the core only looks them up)."""
    from django.db import transaction
    from django.utils import timezone

    from sla.models import SlaClock
    from sla.services import clocks_tick

    for _ in range(20):
        clocks_tick()
    idle = []
    for _ in range(reps):
        started = time.perf_counter()
        result = clocks_tick()
        idle.append((time.perf_counter() - started) * 1000)
        assert result.breached == 0, result
    busy = []
    for _ in range(max(10, reps // 15)):
        now = timezone.now()
        with contextlib.suppress(_RolledBack), transaction.atomic():
            SlaClock.objects.bulk_create(
                clock_rows(
                    policy=policy,
                    subjects=range(ROLLED_BACK_SUBJECTS, ROLLED_BACK_SUBJECTS + DUE_IN_TICK),
                    started_at=now - timedelta(hours=2),
                    due=[now - timedelta(minutes=1)] * DUE_IN_TICK,
                )
            )
            started = time.perf_counter()
            result = clocks_tick(now=now)
            busy.append((time.perf_counter() - started) * 1000)
            assert result.breached == DUE_IN_TICK, result
            raise _RolledBack
    return {
        "median": statistics.median(idle),
        "p99": percentile(idle, 99),
        "busy_median": statistics.median(busy),
    }


def explain_candidates(*, policy: Any) -> tuple[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the tick's three candidate queries, built exactly as
    `clocks_tick` builds them, with DUE_IN_TICK clocks due (inserted in a transaction that
    is rolled back afterwards) among the open ones."""
    from django.db import transaction
    from django.utils import timezone

    from sla.models import SlaClock

    text: list[str] = []
    plain = ""
    with contextlib.suppress(_RolledBack), transaction.atomic():
        now = timezone.now()
        SlaClock.objects.bulk_create(
            clock_rows(
                policy=policy,
                subjects=range(ROLLED_BACK_SUBJECTS, ROLLED_BACK_SUBJECTS + DUE_IN_TICK),
                started_at=now - timedelta(hours=2),
                due=[now - timedelta(minutes=1)] * DUE_IN_TICK,
            )
        )
        running = {
            "satisfied_at__isnull": True,
            "breached_at__isnull": True,
            "paused_at__isnull": True,
        }
        breach = SlaClock.objects.filter(due_at__lte=now, **running).order_by()[:500]
        warn = SlaClock.objects.filter(
            warn_at__lte=now, due_at__gt=now, warned_at__isnull=True, **running
        ).order_by()[:500]
        escalation = SlaClock.objects.filter(
            next_escalation_at__lte=now, satisfied_at__isnull=True
        ).order_by()[:500]
        for name, query in (("breach", breach), ("warning", warn), ("escalation", escalation)):
            text.append(f"-- the tick's {name} candidates:\n{query.query}")
            text.append(query.explain(analyze=True, buffers=True))
        plain = breach.explain()
        raise _RolledBack
    return "\n".join(text), plain


def open_due_tickets(*, policy: Any, count: int, first_in: float, window: float) -> list[int]:
    """`count` open tickets whose first-response clocks fall due evenly from `first_in`
    seconds from now to `window` seconds from now. One ticket comes through intake (for a
    real customer and team); the rest are inserted like it, in one transaction with their
    clocks, so the worker sees all of them at once."""
    from django.db import transaction
    from django.utils import timezone

    from sla.models import SlaClock
    from tickets.inbound import Identity, InboundMessage
    from tickets.models import Ticket
    from tickets.services.intake import intake_message

    model = intake_message(
        inbound=InboundMessage(
            channel="app",
            provider_id="bench-sla-model",
            identities=[Identity(kind="app_user", value="bench-sla-customer")],
            text="我的订单还没到",
            name="张伟",
        )
    ).ticket
    now = timezone.now()
    step = (window - first_in) / max(1, count - 1)
    due = [now + timedelta(seconds=first_in + index * step) for index in range(count)]
    with transaction.atomic():
        tickets = Ticket.objects.bulk_create(
            Ticket(
                number=f"S{index:07d}",
                subject=f"SLA bench {index}",
                channel=model.channel,
                customer=model.customer,
                team=model.team,
                tier=model.tier,
                created_at=now,
                sla_due_at=due[index],
            )
            for index in range(count)
        )
        ids = [ticket.pk for ticket in tickets]
        SlaClock.objects.bulk_create(
            clock_rows(policy=policy, subjects=ids, started_at=now, due=due)
        )
    return ids


def worker_service() -> Service:
    schedule = OUT / "sla-beat-schedule"
    with contextlib.suppress(FileNotFoundError):
        schedule.unlink()  # a fresh beat
    argv = [
        str(BIN / "celery"),
        "-A",
        "kefu",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"bench-sla-{os.getpid()}@%h",
        "--beat",
        "--schedule",
        str(schedule),
    ]
    env = bench_env(DJANGO_SETTINGS_MODULE="kefu.settings", SLA_TICK_SECONDS=str(TICK_SECONDS))
    return Service("sla-worker", argv, env)


def wait_ready(service: Service, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if " ready." in service.tail(200):
            return
        if not service.alive():
            raise RuntimeError(f"{service.name} exited early:\n{service.tail()}")
        time.sleep(0.1)
    raise TimeoutError(f"{service.name} not ready in {timeout}s:\n{service.tail()}")


def wait_fired(ids: list[int], *, until: float) -> int:
    from sla.models import SlaClock

    fired = 0
    last_report = 0.0
    while time.monotonic() < until:
        fired = SlaClock.objects.filter(subject_id__in=ids, breached_at__isnull=False).count()
        if fired == len(ids):
            break
        if time.monotonic() - last_report > 5:
            log(f"  {fired:,} of {len(ids):,} fired")
            last_report = time.monotonic()
        time.sleep(0.25)
    return fired


def live_figures(ids: list[int]) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count

    from sla.models import SlaClock
    from tickets.models import EventKind, TicketEvent

    clocks = {
        clock.pk: clock
        for clock in SlaClock.objects.filter(subject_id__in=ids).only(
            "pk", "subject_id", "due_at", "breached_at"
        )
    }
    events = dict(
        TicketEvent.objects.filter(ticket_id__in=ids, kind=EventKind.SLA_BREACH)
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values_list("ticket_id", "n")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT clock_id, min(committed_at), count(*) FROM bench_sla_fired "
            "WHERE clock_id = ANY(%s) GROUP BY clock_id",
            [list(clocks)],
        )
        commits = {clock_id: (first, writes) for clock_id, first, writes in cursor.fetchall()}
    lateness = [
        (c.breached_at - c.due_at).total_seconds() for c in clocks.values() if c.breached_at
    ]
    commit_lateness = [
        (commits[c.pk][0] - c.due_at).total_seconds() for c in clocks.values() if c.pk in commits
    ]
    doubled = sum(
        1
        for c in clocks.values()
        if events.get(c.subject_id, 0) > 1 or commits.get(c.pk, (None, 0))[1] > 1
    )
    missed = sum(
        1 for c in clocks.values() if c.breached_at is None or events.get(c.subject_id, 0) == 0
    )
    early = sum(1 for value in lateness if value < 0)
    return {
        "fired": len(lateness),
        "lateness": lateness,
        "commit_lateness": commit_lateness,
        "doubled": doubled,
        "missed": missed,
        "early": early,
    }


def worker_ticks(service: Service) -> tuple[int, float, float]:
    """(ticks that breached something, their total seconds, clocks they breached)."""
    try:
        text = service.log_path.read_text(errors="replace")
    except OSError:
        return 0, 0.0, 0.0
    busy = [(float(s), int(n)) for s, n in _TICK_LINE.findall(text) if int(n) > 0]
    return len(busy), sum(s for s, _n in busy), float(sum(n for _s, n in busy))


def drop_database() -> None:
    """Drop the bench database and empty the bench Redis database (ticks left queued)."""
    import psycopg
    import redis
    from django.db import connections

    connections.close_all()
    name, params = _database_parts()
    with psycopg.connect(**params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    client = redis.Redis.from_url(bench_env()["REDIS_URL"])
    try:
        client.flushdb()
    finally:
        client.close()
    log(f"database {name} dropped, Redis database emptied")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=100_000, help="open clocks at the large size")
    parser.add_argument("--due", type=int, default=1000, help="clocks falling due in the run")
    parser.add_argument("--window", type=float, default=60.0, help="seconds they fall due over")
    parser.add_argument("--reps", type=int, default=300, help="timed ticks per size")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    with Services(time_limit=600) as services:
        try:
            recreate_database()
            setup_django()
            from django.db import connection

            policy = bench_policy()

            seed_open(policy=policy, start=0, stop=SMALL_OPEN)
            small = time_ticks(policy=policy, reps=args.reps)
            log(f"tick at {SMALL_OPEN:,} open: {small}")
            seed_open(policy=policy, start=SMALL_OPEN, stop=args.open)
            large = time_ticks(policy=policy, reps=args.reps)
            log(f"tick at {args.open:,} open: {large}")
            plans, plain_plan = explain_candidates(policy=policy)

            with connection.cursor() as cursor:
                cursor.execute(COMMIT_TRIGGER)
            worker = services.start(worker_service())
            wait_ready(worker)
            ids = open_due_tickets(policy=policy, count=args.due, first_in=5.0, window=args.window)
            log(f"{len(ids):,} tickets fall due over the next {args.window:.0f}s")
            fired = wait_fired(ids, until=time.monotonic() + args.window + 60)
            log(f"{fired:,} of {len(ids):,} fired")
            # Let a tick still running finish writing its log line.
            time.sleep(2 * TICK_SECONDS)
            services.stop_all()
            live = live_figures(ids)
            ticks, tick_seconds, tick_breached = worker_ticks(worker)
        finally:
            services.stop_all()
            if not args.keep:
                with contextlib.suppress(Exception):
                    drop_database()

    print(plans)
    lateness, commit_lateness = live["lateness"], live["commit_lateness"]
    figures = {
        "open": args.open,
        "due": len(ids),
        "fired": live["fired"],
        "lateness_p50_s": r(percentile(lateness, 50)),
        "lateness_p99_s": r(percentile(lateness, 99)),
        "lateness_max_s": r(max(lateness, default=float("nan"))),
        "commit_lateness_p50_s": r(percentile(commit_lateness, 50)),
        "commit_lateness_p99_s": r(percentile(commit_lateness, 99)),
        "commit_lateness_max_s": r(max(commit_lateness, default=float("nan"))),
        "early": live["early"],
        "tick_ms": r(large["median"]),
        "tick_ms_p99": r(large["p99"]),
        "tick_ms_10k_open": r(small["median"]),
        "tick_ms_p99_10k_open": r(small["p99"]),
        f"tick_ms_{DUE_IN_TICK}_due": r(large["busy_median"]),
        f"tick_ms_{DUE_IN_TICK}_due_10k_open": r(small["busy_median"]),
        "ms_per_breach": r(1000 * tick_seconds / tick_breached) if tick_breached else None,
        "busy_ticks": ticks,
        "doubled": live["doubled"],
        "missed": live["missed"],
        "due_query_uses_partial_index": "sla_clock_due_running" in plain_plan,
        "tick_seconds": TICK_SECONDS,
    }
    figures["lateness_met"] = bool(
        lateness
        and figures["lateness_p99_s"] <= TARGET_LATENESS_P99_S
        and figures["lateness_max_s"] <= TARGET_LATENESS_MAX_S
    )
    figures["commit_lateness_met"] = bool(
        commit_lateness
        and figures["commit_lateness_p99_s"] <= TARGET_LATENESS_P99_S
        and figures["commit_lateness_max_s"] <= TARGET_LATENESS_MAX_S
    )
    figures["tick_met"] = bool(
        large["median"] <= TARGET_TICK_MS
        and large["median"] <= TARGET_TICK_RATIO * max(small["median"], 1.0)
    )
    emit(figures)


if __name__ == "__main__":
    main()
