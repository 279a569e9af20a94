"""Intake throughput and latency of `POST /api/v1/inbound/app`, against the framework ceiling.

    .venv/bin/python bench/intake.py [--n 3000] [--concurrency 16] [--workers 2] [--threads 4]

Recreates the bench database, seeds a default team with agents, routed teams and an
integration token, and serves Kefu (with bench/urls.py added) from one gunicorn, with a Celery
worker beside it for anything the API hands to the queue. One closed-loop load generator with
`--concurrency` connections then sends:

1. `--n` requests to `bench/ceiling/` (a plain Django view inserting one row): the ceiling;
2. `--n` app messages to Kefu, about 90 % from new customers and 10 % from customers who wrote
   before (threaded into their open ticket), 2/3 Chinese and 1/3 English, plus about 5 % of
   them sent a second time (a redelivery), some right behind the first and some much later.

The API runs as in production with a broker: queued intake (the request promises the ticket
number, stores the message and answers; the worker takes it in). `--inline` benches the
other mode, where each request takes its message in before answering. The worker runs at
`--worker-nice` (default 10), so on this one machine the web process comes first and the
worker uses the CPU time it leaves (in the default run it takes about a quarter of the
messages in during the burst and the rest after it).

Afterwards it waits for the worker to take in every message (`drain_s`; the end-to-end rate
is `processed_rate_per_s`) and counts what the database holds: `lost` is the
number of message ids without an inbound message, `doubled` the messages beyond one per id.
The last line of stdout is one JSON object with every figure.
Targets: rate_per_s >= 40 % of ceiling_rate_per_s, p99_ms <= 100.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script, bench/ would come first on sys.path, where bench/queue.py shadows the
# standard library's `queue` (which psycopg imports): put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

from bench.common import (  # noqa: E402
    Job,
    LoadRun,
    Services,
    app_message,
    busy_percent,
    celery_worker,
    emit,
    free_port,
    group_cpu_seconds,
    gunicorn,
    log,
    machine_cpu,
    named_cpu_seconds,
    percentile,
    r,
    recreate_database,
    run_async,
    run_closed_loop,
    seed_helpdesk,
    setup_django,
    wait_port,
)

API_PATH = "/api/v1/inbound/app"
CEILING_PATH = "/bench/ceiling/"
TARGET_RATIO = 0.40
TARGET_P99_MS = 100.0


def build_jobs(
    *, n: int, token: str, prefix: str, rng: random.Random, repeat: float, redeliver: float
) -> tuple[list[Job], list[Job], set[str]]:
    """Kefu's jobs (originals and redeliveries, in sending order), the ceiling's jobs (the
    same bodies, without redeliveries) and the redelivered message ids."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    keyed: list[tuple[float, Job]] = []
    ceiling: list[Job] = []
    customers = 0
    redelivered: set[str] = set()
    for index in range(n):
        if customers and rng.random() < repeat:
            customer = rng.randrange(customers)
        else:
            customer, customers = customers, customers + 1
        message_id = f"{prefix}-{index:06d}"
        body = json.dumps(app_message(rng, message_id=message_id, customer=customer)).encode()
        keyed.append((index, Job("POST", API_PATH, body, headers, tag=message_id)))
        ceiling.append(Job("POST", CEILING_PATH, body, {"Content-Type": "application/json"}))
        if rng.random() < redeliver:
            # Half right behind the first delivery (racing it), half long after it.
            offset = rng.randint(1, 8) if rng.random() < 0.5 else rng.randint(50, 500)
            keyed.append((index + offset + 0.5, Job("POST", API_PATH, body, headers, message_id)))
            redelivered.add(message_id)
    keyed.sort(key=lambda pair: pair[0])
    return [job for _key, job in keyed], ceiling, redelivered


def phase(
    port: int,
    jobs: list[Job],
    concurrency: int,
    server_pgid: int,
    celery_pgid: int,
    budget: float,
) -> dict[str, Any]:
    cpu_before = machine_cpu()
    server_before = group_cpu_seconds(server_pgid)
    celery_before = group_cpu_seconds(celery_pgid)
    pg_before = named_cpu_seconds("postgres")
    redis_before = named_cpu_seconds("redis-server")
    run: LoadRun = run_async(
        lambda: run_closed_loop(port=port, jobs=jobs, concurrency=concurrency, budget=budget)
    )
    if run.unsent:
        log(f"  time budget of {budget:.0f}s spent: {run.unsent} requests not sent")
    latencies = run.latencies_ms()
    errors = [res.error for res in run.results if res.error]
    if errors:
        log(f"  {len(errors)} failed requests, e.g. {errors[0]}")
    return {
        "run": run,
        "rate": run.rate,
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "statuses": run.statuses(),
        "busy": busy_percent(cpu_before, machine_cpu()),
        "server_cpu": group_cpu_seconds(server_pgid) - server_before,
        "postgres_cpu": named_cpu_seconds("postgres") - pg_before,
        "redis_cpu": named_cpu_seconds("redis-server") - redis_before,
        "celery_cpu": group_cpu_seconds(celery_pgid) - celery_before,
        "client_cpu": run.client_cpu,
        "wall": run.wall,
        "unsent": run.unsent,
        "sent_ids": {res.job.tag for res in run.results},
    }


def cpu_split(result: dict[str, Any], requests: int) -> dict[str, float | None]:
    """Where the CPU of one request went, in ms: the machine as a whole (both cores), and the
    processes that took part."""
    cores = os.cpu_count() or 1
    parts = {
        "gunicorn": result["server_cpu"],
        "postgres": result["postgres_cpu"],
        "redis": result["redis_cpu"],
        "celery": result["celery_cpu"],
        "load_generator": result["client_cpu"],
    }
    machine = result["busy"] / 100 * cores * result["wall"]
    # Whatever else ran on the machine meanwhile (kernel, other users' processes).
    parts = {"machine": machine, **parts, "other": max(0.0, machine - sum(parts.values()))}
    return {key: r(1000 * seconds / requests) for key, seconds in parts.items()}


def drain(prefix: str, timeout: float) -> int:
    """Wait until no stored payload of this run is still waiting (queued intake: until the
    worker has taken every message in); return how many still are."""
    from channels_ingest.models import InboundRecord, InboundState

    pending = InboundRecord.objects.filter(provider_id__startswith=prefix, channel="app").filter(
        state=InboundState.RECEIVED
    )
    deadline = time.monotonic() + timeout
    left = pending.count()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = pending.count()
    return left


def count_stored(prefix: str, ids: list[str], redelivered: set[str]) -> dict[str, int]:
    from django.db.models import Count

    from channels_ingest.models import InboundRecord, InboundState
    from tickets.models import Direction, Message

    inbound = Message.objects.filter(
        channel="app", direction=Direction.IN, provider_id__startswith=prefix
    )
    per_id = dict(inbound.values_list("provider_id").annotate(c=Count("id")))
    stored = sum(1 for message_id in ids if per_id.get(message_id))
    extra = sum(count - 1 for count in per_id.values() if count > 1)
    records = InboundRecord.objects.filter(channel="app", provider_id__startswith=prefix)
    return {
        "messages_in": inbound.count(),
        "tickets": inbound.values("ticket_id").distinct().count(),
        "lost": len(ids) - stored,
        "doubled": extra,
        "redelivered_doubled": sum(1 for m in redelivered if per_id.get(m, 0) > 1),
        "records": records.count(),
        "records_failed": records.filter(state=InboundState.FAILED).count(),
    }


def queries_per_request(token: str, prefix: str, rng: random.Random) -> dict[str, int]:
    """SQL queries of one request of each kind, in this process (Django's test client)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}

    def count(path: str, payload: dict[str, object], **extra: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                path, data=json.dumps(payload), content_type="application/json", **extra
            )
        if response.status_code >= 400:
            log(f"  probe {path} answered {response.status_code}: {response.content[:200]!r}")
        return len(queries)

    # This process's per-process caches (routing, tokens, triage) fill on a first request;
    # the counts below are those of a warm server process.
    count(API_PATH, app_message(rng, message_id=f"{prefix}-probe-0", customer=9_999_999), **auth)
    customer = 10_000_000
    first = app_message(rng, message_id=f"{prefix}-probe-1", customer=customer)
    again = app_message(rng, message_id=f"{prefix}-probe-2", customer=customer)
    return {
        "queries_new_ticket": count(API_PATH, first, **auth),
        "queries_threaded": count(API_PATH, again, **auth),
        "queries_redelivery": count(API_PATH, first, **auth),
        "queries_ceiling": count(CEILING_PATH, first),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="app messages (default 3000)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per worker (default 4, gthread, as deployed; 1: sync workers)",
    )
    parser.add_argument("--repeat", type=float, default=0.10, help="share of returning customers")
    parser.add_argument("--redeliver", type=float, default=0.05, help="share sent twice")
    parser.add_argument(
        "--conn-max-age",
        default=None,
        help="DATABASE_CONN_MAX_AGE for the servers (default: the project's default)",
    )
    parser.add_argument(
        "--inline",
        action="store_true",
        help="INBOUND_QUEUED=0: take each message in before answering (default: queued)",
    )
    parser.add_argument(
        "--worker-nice", type=int, default=10, help="nice level of the Celery worker (0: none)"
    )
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--budget", type=float, default=150, help="seconds at most for Kefu's phase"
    )
    parser.add_argument("--warmup", type=int, default=100, help="requests per endpoint")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.conn_max_age is not None:
        os.environ["DATABASE_CONN_MAX_AGE"] = str(args.conn_max_age)
    os.environ["INBOUND_QUEUED"] = "false" if args.inline else "true"
    mode = "inline" if args.inline else "queued"
    conn_max_age = os.environ.get("DATABASE_CONN_MAX_AGE", "project default (60)")

    recreate_database()
    setup_django("bench.settings_ceiling")
    seeded = seed_helpdesk(agents=3, routed_teams=True, token_name="bench-intake")
    prefix = f"bench{int(time.time())}"
    jobs, ceiling_jobs, redelivered = build_jobs(
        n=args.n,
        token=seeded.token_key,
        prefix=prefix,
        rng=rng,
        repeat=args.repeat,
        redeliver=args.redeliver,
    )
    warm_kefu, warm_ceiling, _ = build_jobs(
        n=args.warmup, token=seeded.token_key, prefix="warmup", rng=rng, repeat=0, redeliver=0
    )
    port = free_port()
    server = f"gunicorn kefu.wsgi, {args.workers} {'sync' if args.threads == 1 else 'gthread'}"
    server += f" worker(s) x {args.threads} thread(s), settings bench.settings_ceiling"
    server += f", DATABASE_CONN_MAX_AGE={conn_max_age}, intake {mode}"
    server += f", Celery worker (solo) at nice {args.worker_nice}"
    log(f"server: {server}; load: closed loop, {args.concurrency} connections")

    with Services() as services:
        web = services.start(
            gunicorn(
                port=port,
                workers=args.workers,
                threads=args.threads,
                settings_module="bench.settings_ceiling",
            )
        )
        worker = services.start(celery_worker(nice=args.worker_nice))
        wait_port(port, web)
        run_async(
            lambda: run_closed_loop(
                port=port, jobs=warm_ceiling + warm_kefu, concurrency=args.concurrency
            )
        )
        log(f"ceiling: {len(ceiling_jobs)} requests to {CEILING_PATH}")
        ceiling = phase(port, ceiling_jobs, args.concurrency, web.pid, worker.pid, 60)
        log(f"  {ceiling['rate']:.0f}/s, p50 {ceiling['p50']:.1f} ms, p99 {ceiling['p99']:.1f} ms")
        log(f"kefu: {len(jobs)} requests to {API_PATH} ({len(redelivered)} redeliveries)")
        kefu = phase(port, jobs, args.concurrency, web.pid, worker.pid, args.budget)
        log(f"  {kefu['rate']:.0f}/s, p50 {kefu['p50']:.1f} ms, p99 {kefu['p99']:.1f} ms")
        drain_started = time.monotonic()
        left = drain(prefix, timeout=args.drain_timeout)
        drain_seconds = time.monotonic() - drain_started
        log(f"  drained in {drain_seconds:.1f}s after the last answer ({left} left)")
        ids = sorted(kefu["sent_ids"])  # every id, unless the time budget ran out
        stored = count_stored(prefix, ids, redelivered)
        probes = queries_per_request(seeded.token_key, prefix, rng)

    ratio = kefu["rate"] / ceiling["rate"] if ceiling["rate"] else float("nan")
    figures = {
        "n": args.n,
        "requests": len(jobs),
        "redeliveries": len(redelivered),
        "unsent": kefu["unsent"],
        "concurrency": args.concurrency,
        "server": server,
        "intake": mode,
        "rate_per_s": r(kefu["rate"], 1),
        # Until the worker had taken in the last message: answers are faster than the work
        # when the worker waits for the web process (nice) on this one machine.
        "processed_rate_per_s": r(len(jobs) / (kefu["wall"] + drain_seconds), 1),
        "drain_s": r(drain_seconds, 1),
        "ceiling_rate_per_s": r(ceiling["rate"], 1),
        "ratio": r(ratio, 3),
        "p50_ms": r(kefu["p50"]),
        "p90_ms": r(kefu["p90"]),
        "p99_ms": r(kefu["p99"]),
        "max_ms": r(kefu["max"]),
        "ceiling_p50_ms": r(ceiling["p50"]),
        "ceiling_p99_ms": r(ceiling["p99"]),
        "statuses": kefu["statuses"],
        "ceiling_statuses": ceiling["statuses"],
        **stored,
        "still_pending": left,
        **probes,
        "cpu_busy_pct": kefu["busy"],
        "ceiling_cpu_busy_pct": ceiling["busy"],
        "cpu_ms_per_request": cpu_split(kefu, len(jobs)),
        "ceiling_cpu_ms_per_request": cpu_split(ceiling, len(ceiling_jobs)),
        "targets": {"ratio": TARGET_RATIO, "p99_ms": TARGET_P99_MS},
        "ratio_met": ratio >= TARGET_RATIO,
        "p99_met": kefu["p99"] <= TARGET_P99_MS,
    }
    emit(figures)


if __name__ == "__main__":
    main()
