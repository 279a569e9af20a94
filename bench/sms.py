"""The Twilio SMS webhook under load, with the Celery worker killed once mid-run.

    .venv/bin/python bench/sms.py [--n 2000] [--concurrency 16] [--workers 2] [--threads 4]
        [--kill-after 3] [--worker-nice 10]

Recreates the bench database, seeds a default team, an SMS channel with its auth token and a
few agents, and serves Kefu from gunicorn (gthread, 2 workers x 4 threads, with keep-alive, as
in docker-compose.yml) with a Celery worker beside it. One closed-loop load
generator with `--concurrency` connections then posts `--n` inbound SMS in Twilio's format,
each signed with the official `twilio` package's request validator (about 10 % from numbers
that wrote before, about 5 % delivered a second time). The worker runs at `--worker-nice`
(default 10), so that on this one small machine the webhook answers first and the worker
catches up after the burst (in production they run on separate hosts). The webhook runs as in
production, in queued mode: it stores each SMS, answers, and rings the doorbell, whose drain
task on the worker takes the stored SMS in. `--kill-after` seconds into the run the worker's
whole process group gets SIGKILL, and a new worker is started at once: the drain that was
running is lost with it (the SMS it was taking in rolls back to waiting), and the next ring or
the inbound sweep (what beat runs every 30 s) must bring what it left behind.

Afterwards it drains (running the sweep as beat would) and counts: `lost` is the number of
MessageSids with no inbound message, `doubled` the messages beyond one per MessageSid.
The last line of stdout is one JSON object. Targets: rate_per_s >= 300, p99_ms <= 100,
lost == doubled == 0.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

# Run as a script, bench/ would come first on sys.path, where bench/queue.py shadows the
# standard library's `queue` (which psycopg imports): put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

from bench.common import (  # noqa: E402
    CHINESE_TEXTS,
    ENGLISH_TEXTS,
    Job,
    LoadRun,
    Service,
    Services,
    busy_percent,
    celery_worker,
    emit,
    free_port,
    gunicorn,
    log,
    machine_cpu,
    percentile,
    r,
    recreate_database,
    run_async,
    run_closed_loop,
    seed_helpdesk,
    setup_django,
    wait_port,
)

PATH = "/webhooks/sms/twilio/"
AUTH_TOKEN = "bench-twilio-auth-token"
ACCOUNT_SID = "ACbench0000000000000000000000000000"
OUR_NUMBER = "+8610690000"
TARGET_RATE = 300.0
TARGET_P99_MS = 100.0


def build_jobs(
    *, n: int, port: int, prefix: str, rng: random.Random, repeat: float, redeliver: float
) -> tuple[list[Job], set[str]]:
    """Signed posts in sending order (originals and redeliveries) and the redelivered sids."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    url = f"http://127.0.0.1:{port}{PATH}"
    keyed: list[tuple[float, Job]] = []
    redelivered: set[str] = set()
    senders = 0
    for index in range(n):
        if senders and rng.random() < repeat:
            sender = rng.randrange(senders)
        else:
            sender, senders = senders, senders + 1
        sid = f"SM{prefix}{index:08d}"
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": f"+86139{sender:08d}",
            "To": OUR_NUMBER,
            "Body": rng.choice(CHINESE_TEXTS if rng.random() < 0.7 else ENGLISH_TEXTS),
            "NumMedia": "0",
            "NumSegments": "1",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, params),
        }
        job = Job("POST", PATH, urlencode(params).encode(), headers, tag=sid)
        keyed.append((index, job))
        if rng.random() < redeliver:
            offset = rng.randint(1, 8) if rng.random() < 0.5 else rng.randint(50, 500)
            keyed.append((index + offset + 0.5, job))
            redelivered.add(sid)
    keyed.sort(key=lambda pair: pair[0])
    return [job for _key, job in keyed], redelivered


class WorkerKiller(threading.Thread):
    """SIGKILLs the worker's process group after `delay` seconds and starts a new worker."""

    def __init__(self, services: Services, worker: Service, delay: float, nice: int) -> None:
        super().__init__(daemon=True)
        self.nice = nice
        self.services = services
        self.worker = worker
        self.delay = delay
        self.killed_at: float | None = None
        self.replacement: Service | None = None

    def run(self) -> None:
        time.sleep(self.delay)
        if not self.worker.alive():
            log("worker already gone; nothing to kill")
            return
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.killed_at = time.time()
        log(f"killed the Celery worker (pid {self.worker.pid}) with SIGKILL; starting another")
        self.replacement = self.services.start(celery_worker(nice=self.nice))


def drain(prefix: str, *, timeout: float) -> int:
    """Wait until every stored SMS of this run is processed, sweeping up stale records the
    way beat does. Returns how many are still unprocessed at the end."""
    from channels_ingest.models import InboundRecord, InboundState
    from channels_ingest.tasks import inbound_sweep

    pending = InboundRecord.objects.filter(
        channel="sms", provider_id__startswith=f"SM{prefix}", state=InboundState.RECEIVED
    )
    deadline = time.monotonic() + timeout
    next_sweep = 0.0
    left = pending.count()
    while left and time.monotonic() < deadline:
        if time.monotonic() >= next_sweep:
            requeued = inbound_sweep()
            if requeued:
                log(f"  sweep re-queued {requeued} stale record(s)")
            next_sweep = time.monotonic() + 10
        time.sleep(1)
        left = pending.count()
    return left


def count(prefix: str, sids: set[str], redelivered: set[str]) -> dict[str, int]:
    from django.db.models import Count

    from channels_ingest.models import InboundRecord, InboundState
    from tickets.models import Direction, Message

    per_sid = dict(
        Message.objects.filter(
            channel="sms", direction=Direction.IN, provider_id__startswith=f"SM{prefix}"
        )
        .values_list("provider_id")
        .annotate(n=Count("id"))
        .values_list("provider_id", "n")
    )
    records = InboundRecord.objects.filter(channel="sms", provider_id__startswith=f"SM{prefix}")
    return {
        "messages_in": sum(per_sid.values()),
        "lost": sum(1 for sid in sids if sid not in per_sid),
        "doubled": sum(n - 1 for n in per_sid.values() if n > 1),
        "redelivered_doubled": sum(1 for sid in redelivered if per_sid.get(sid, 0) > 1),
        "records": records.count(),
        "records_failed": records.filter(state=InboundState.FAILED).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="inbound SMS (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker (1: sync workers, else gthread)"
    )
    parser.add_argument("--repeat", type=float, default=0.10)
    parser.add_argument("--redeliver", type=float, default=0.05)
    parser.add_argument("--kill-after", type=float, default=3.0, help="seconds; 0: never")
    parser.add_argument("--drain-timeout", type=float, default=240.0)
    parser.add_argument(
        "--worker-nice", type=int, default=10, help="nice level of the Celery worker (0: none)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    recreate_database()
    setup_django()
    from channels_ingest.models import SmsChannel

    seed_helpdesk(agents=3, token_name="bench-sms")
    SmsChannel.objects.create(
        name="bench", number=OUR_NUMBER, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN
    )
    prefix = f"{int(time.time())}"
    port = free_port()
    jobs, redelivered = build_jobs(
        n=args.n, port=port, prefix=prefix, rng=rng, repeat=args.repeat, redeliver=args.redeliver
    )
    warmup, _ = build_jobs(n=50, port=port, prefix=f"w{prefix}", rng=rng, repeat=0, redeliver=0)
    kind = "sync" if args.threads == 1 else f"gthread x {args.threads} thread(s)"
    server = f"gunicorn kefu.wsgi, {args.workers} {kind} worker(s)"
    log(f"server: {server}; load: closed loop, {args.concurrency} connections")

    with Services(time_limit=int(args.drain_timeout) + 300) as services:
        web = services.start(gunicorn(port=port, workers=args.workers, threads=args.threads))
        first = services.start(celery_worker(nice=args.worker_nice))
        wait_port(port, web)
        run_async(lambda: run_closed_loop(port=port, jobs=warmup, concurrency=args.concurrency))
        killer = (
            WorkerKiller(services, first, args.kill_after, args.worker_nice)
            if args.kill_after
            else None
        )
        log(f"sms: {len(jobs)} signed posts to {PATH} ({len(redelivered)} redeliveries)")
        cpu_before = machine_cpu()
        if killer is not None:
            killer.start()
        run: LoadRun = run_async(
            lambda: run_closed_loop(port=port, jobs=jobs, concurrency=args.concurrency)
        )
        busy = busy_percent(cpu_before, machine_cpu())
        if killer is not None:
            killer.join()
        latencies = run.latencies_ms()
        log(
            f"  {run.rate:.0f}/s, p50 {percentile(latencies, 50):.1f} ms,"
            f" p99 {percentile(latencies, 99):.1f} ms; draining"
        )
        started_drain = time.monotonic()
        left = drain(prefix, timeout=args.drain_timeout)
        drained_s = time.monotonic() - started_drain
        sids = {res.job.tag for res in run.results if res.status == 200}
        figures_counted = count(prefix, sids, redelivered)

    errors = [res.error for res in run.results if res.error]
    figures: dict[str, Any] = {
        "n": args.n,
        "requests": len(jobs),
        "redeliveries": len(redelivered),
        "concurrency": args.concurrency,
        "server": server,
        "rate_per_s": r(run.rate, 1),
        "p50_ms": r(percentile(latencies, 50)),
        "p90_ms": r(percentile(latencies, 90)),
        "p99_ms": r(percentile(latencies, 99)),
        "max_ms": r(max(latencies, default=float("nan"))),
        "statuses": run.statuses(),
        "failed_requests": len(errors),
        "acknowledged": len(sids),
        **figures_counted,
        "still_pending": left,
        "drain_s": r(drained_s, 1),
        "worker_killed": bool(killer and killer.killed_at),
        "worker_nice": args.worker_nice,
        "cpu_busy_pct": busy,
        "targets": {"rate_per_s": TARGET_RATE, "p99_ms": TARGET_P99_MS},
        "rate_met": run.rate >= TARGET_RATE,
        "p99_met": percentile(latencies, 99) <= TARGET_P99_MS,
    }
    emit(figures)


if __name__ == "__main__":
    main()
