"""Email intake end to end: 2,000 generated mails stored raw and taken into tickets by a
worker process on PostgreSQL, as the IMAP poller and the webhook's worker do.

    .venv/bin/python bench/email.py [--n 2000] [--processes 2] [--seed 11] [--profile] [--keep]

Recreates its own database (`kefu_bench_email`; BENCH_DATABASE_URL may name another whose
name contains "bench") and Redis database 7 (BENCH_REDIS_URL), migrates, seeds the default
team with agents and the routed teams, and then:

1. **Generates** `--n` mails into a spool directory, one file each: UTF-8, GB18030, GBK,
   Big5, ISO-2022-JP and windows-1252; plain text, text + HTML and HTML only; base64,
   quoted-printable and 8-bit bodies; 20 % with an attachment of 20-200 KB (random bytes, so
   nothing compresses it away; some with Chinese RFC 2231 filenames); 30 % are replies of the
   same customer to one of their earlier mails (In-Reply-To and References), which must
   thread into that mail's ticket; 3 % have no Message-ID. 2 % are delivered a second time
   later in the spool, as a redelivery.
2. **Worker processes** (`--processes`, default 2: one per core, as a Celery worker with that
   concurrency; `python -m bench.email --worker`, production settings, Redis for the channel
   layer and the Celery broker) each take the mails of their share of the customers (so a
   customer's mails are taken in the order sent), exactly as the IMAP poller takes each
   fetched mail, after the warm-up a Celery worker does when it starts (the triage models
   and jieba's dictionary): `inbound_receive`, which stores the raw bytes (committed) and
   then processes them (parse, intake into a ticket, the automatic acknowledgement). It reports
   its wall time, CPU time and peak RSS (`ru_maxrss`). Attachments go to a temporary
   MEDIA_ROOT, removed afterwards. With `--profile` the workers run under cProfile and the
   top of a profile is printed (use it with `--processes 1`).
3. **Counts** what PostgreSQL holds against what was sent: `lost` = mails without their
   inbound message, `doubled` = inbound messages beyond one per mail, `tickets` against
   `expected_tickets` (one per mail that is not a reply), `attachments` against
   `expected_attachments`, `failed` = inbound records marked failed.

Drops the database and empties its Redis database afterwards unless `--keep`. Progress goes
to stderr; the last line of stdout is one JSON object.
Targets: rate_per_s >= 150 and peak_rss_mb <= 300, with lost = doubled = 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ would come first on sys.path, where this very file would shadow the
# standard library's `email` package: put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

import argparse  # noqa: E402
import base64  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import quopri  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kefu_bench_email")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")

from bench.common import (  # noqa: E402
    OUT,
    PYTHON,
    Service,
    Services,
    _database_parts,
    bench_env,
    emit,
    log,
    r,
    recreate_database,
    seed_helpdesk,
    setup_django,
)

TARGET_RATE_PER_S = 150.0
TARGET_PEAK_RSS_MB = 300.0
SPOOL = OUT / "email-spool"
MEDIA = OUT / "email-media"
RESULT = OUT / "email-worker.json"
TIME_LIMIT_S = 900

_TEXTS = {
    "utf-8": "您好，我在11月20日下的订单（鲜果礼盒）还没有收到，物流三天没有更新了，请帮忙查一下。",
    "gb18030": "收到的草莓有一半压坏了，要求退款或者补发，照片见附件。订单号 88123。",
    "gbk": "榴莲的包装破了，味道很大，快递员不肯送上楼，请问怎么处理？",
    "big5": "請問我的訂單什麼時候發貨？退貨流程是怎樣的？謝謝您的幫忙。",
    "iso-2022-jp": "ご注文の商品がまだ届いておりません。ご確認をお願いいたします。",
    "windows-1252": "Hello, my order has not arrived yet – could you check? Thanks, “Zoë”",
}
_SUBJECTS = {
    "utf-8": "订单还没收到",
    "gb18030": "草莓压坏了，要求退款",
    "gbk": "榴莲包装破损",
    "big5": "訂單發貨時間",
    "iso-2022-jp": "商品未着のお問い合わせ",
    "windows-1252": "Order not arrived – “urgent”",
}
_REPLIES = {
    "utf-8": "补充一下：快递单号是 SF1234567890，麻烦尽快。",
    "gb18030": "照片已经补发了，请查收。",
    "gbk": "今天还是没有人联系我。",
    "big5": "補充：我的地址是台北市信義區。",
    "iso-2022-jp": "追加の情報をお送りします。",
    "windows-1252": "Any news? It has been two days – thanks.",
}
_FILENAMES = ["photo.jpg", "收货照片.jpg", "发票.pdf", "screenshot.png", "破损.jpg"]


@dataclass
class Sent:
    """What the benchmark sent, to count against afterwards."""

    provider_ids: list[str] = field(default_factory=list)
    roots: int = 0
    replies: int = 0
    attachments: int = 0
    redeliveries: int = 0
    bytes: int = 0
    charsets: dict[str, int] = field(default_factory=dict)


# --- generating the mail -------------------------------------------------------------------


def _encoded_word(text: str, charset: str, rng: random.Random) -> str:
    data = text.encode(charset)
    if charset == "iso-2022-jp" or rng.random() < 0.6:
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    return f"=?{charset}?Q?{quopri.encodestring(data, header=True).decode()}?="


def _leaf(content_type: str, payload: bytes, charset: str, rng: random.Random) -> bytes:
    encoding = (
        "7bit" if charset == "iso-2022-jp" else rng.choice(["base64", "quoted-printable", "8bit"])
    )
    if encoding == "base64":
        body = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    elif encoding == "quoted-printable":
        body = quopri.encodestring(payload).replace(b"\n", b"\r\n")
    else:
        body = payload
    return (
        f"Content-Type: {content_type}; charset={charset}\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode() + body


def _multipart(kind: str, parts: list[bytes], boundary: str) -> bytes:
    joined = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return (
        f'Content-Type: multipart/{kind}; boundary="{boundary}"\r\n\r\n'.encode()
        + joined
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )


def _attachment(rng: random.Random) -> tuple[bytes, str]:
    name = rng.choice(_FILENAMES)
    content_type = "application/pdf" if name.endswith(".pdf") else "image/jpeg"
    data = rng.randbytes(rng.randint(20_000, 200_000))
    if name.isascii():
        disposition = f'attachment; filename="{name}"'
    else:
        quoted = "".join(f"%{byte:02X}" for byte in name.encode("utf-8"))
        disposition = f"attachment; filename*=UTF-8''{quoted}"
    part = (
        f"Content-Type: {content_type}\r\nContent-Disposition: {disposition}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(data).replace(b"\n", b"\r\n")
    return part, name


@dataclass
class _Thread:
    customer: int
    charset: str
    subject: str
    message_ids: list[str]


def generate(count: int, seed: int, spool: Path) -> Sent:
    """Write `count` mails (plus redeliveries) into `spool`, one file each, in order."""
    from channels_ingest.email.ingest import provider_id_for

    rng = random.Random(seed)
    sent = Sent()
    threads: list[_Thread] = []
    # file position -> (raw bytes, customer) to deliver again there
    redeliver: dict[int, tuple[bytes, int]] = {}
    spool.mkdir(parents=True)
    position = 0

    def write(raw: bytes, customer: int) -> None:
        nonlocal position
        (spool / f"{position:06d}-c{customer}.eml").write_bytes(raw)
        position += 1
        sent.bytes += len(raw)

    for index in range(count):
        is_reply = bool(threads) and rng.random() < 0.3
        if is_reply:
            thread = rng.choice(threads)
            charset, customer = thread.charset, thread.customer
            text = (_REPLIES[charset] + "\r\n") * rng.randint(1, 4)
            subject = "Re: " + thread.subject
        else:
            charset = rng.choice(list(_TEXTS))
            customer = index
            text = (_TEXTS[charset] + "\r\n") * rng.randint(1, 12)
            subject = _SUBJECTS[charset]
        message_id = f"bench-{seed}-{index}@mail.example.cn"
        headers = [
            f"From: {_encoded_word(f'顾客{customer}', 'utf-8', rng)} <c{customer}@example.cn>",
            "To: =?utf-8?B?5a6i5pyN?= <support@kefu.localhost>",
            f"Subject: {_encoded_word(subject, charset, rng)}",
            f"Date: Mon, 23 Nov 2026 {8 + index % 12:02d}:{index % 60:02d}:00 +0800",
            "MIME-Version: 1.0",
        ]
        has_id = rng.random() >= 0.03
        if has_id:
            headers.append(f"Message-ID: <{message_id}>")
        if is_reply:
            headers.append(f"In-Reply-To: <{thread.message_ids[-1]}>")
            headers.append("References: " + " ".join(f"<{m}>" for m in thread.message_ids[-5:]))
        data = text.encode(charset)
        html = b"<html><body><p>" + data.replace(b"\r\n", b"</p><p>") + b"</p></body></html>"
        shape = rng.random()
        if shape < 0.4:
            body = _leaf("text/plain", data, charset, rng)
        elif shape < 0.85:
            body = _multipart(
                "alternative",
                [_leaf("text/plain", data, charset, rng), _leaf("text/html", html, charset, rng)],
                f"=_alt_{index}",
            )
        else:
            body = _leaf("text/html", html, charset, rng)
        if rng.random() < 0.2:
            attached, _name = _attachment(rng)
            body = _multipart("mixed", [body, attached], f"=_mix_{index}")
            sent.attachments += 1
        raw = ("\r\n".join(headers) + "\r\n").encode("ascii") + body
        write(raw, customer)
        sent.provider_ids.append(provider_id_for(raw))
        sent.charsets[charset] = sent.charsets.get(charset, 0) + 1
        if is_reply:
            sent.replies += 1
            if has_id:
                thread.message_ids.append(message_id)
        else:
            sent.roots += 1
            if has_id:  # a mail without a Message-ID cannot be answered by reference
                threads.append(_Thread(customer, charset, subject, [message_id]))
        if rng.random() < 0.02:
            redeliver[position + rng.randint(5, 200)] = (raw, customer)
        while position in redeliver:
            write(*redeliver.pop(position))
            sent.redeliveries += 1
    for again in redeliver.values():
        write(*again)
        sent.redeliveries += 1
    return sent


# --- the worker ----------------------------------------------------------------------------


def _customer_of(path: Path) -> int:
    return int(path.stem.rsplit("-c", 1)[1])


def worker_main(
    spool: Path, result_path: Path, profile: bool, *, part: int = 0, parts: int = 1
) -> None:
    """Runs in its own process: take the files of the spool in, as the poller does. With
    several workers, each takes the customers of its part (customer mod parts), in spool
    order, so that a customer's mails are taken in the order they were sent."""
    import resource

    setup_django()
    from channels_ingest.email.ingest import provider_id_for
    from channels_ingest.pipeline.receive import inbound_receive

    files = [path for path in sorted(spool.iterdir()) if _customer_of(path) % parts == part]
    # What a Celery worker does when it starts, before it takes tasks (kb/apps.py): load the
    # triage models and jieba's dictionary. A worker is long-lived; its clock starts after.
    from kb.triage import triage_warm_up

    triage_warm_up()
    rss_start_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    usage_before = resource.getrusage(resource.RUSAGE_SELF)

    marks: list[float] = []  # time at the end of each quarter of the spool

    def run() -> int:
        taken = 0
        quarter = max(1, len(files) // 4)
        for position, path in enumerate(files, start=1):
            raw = path.read_bytes()
            # As the IMAP poller does: stored and committed, then processed.
            receipt = inbound_receive(
                channel="email",
                provider_id=provider_id_for(raw),
                payload={"bytes": len(raw)},
                source="bench",
                raw=raw,
            )
            taken += receipt.created and not receipt.queued
            if position % quarter == 0:
                marks.append(time.perf_counter())
        return taken

    started = time.perf_counter()
    started_at = time.time()
    if profile:
        import cProfile
        import io
        import pstats

        from django.db import connection

        queries = QueryTimes()
        profiler = cProfile.Profile()
        with connection.execute_wrapper(queries):
            taken = profiler.runcall(run)
        elapsed = time.perf_counter() - started
        out = io.StringIO()
        out.write(queries.report(mails=len(files), elapsed=elapsed))
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        (OUT / "email-profile.txt").write_text(out.getvalue())
    else:
        taken = run()
        elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result_path.write_text(
        json.dumps(
            {
                "deliveries": len(files),
                "taken": taken,
                "elapsed_s": elapsed,
                "started_at": started_at,
                "ended_at": started_at + elapsed,
                "cpu_s": (usage.ru_utime - usage_before.ru_utime)
                + (usage.ru_stime - usage_before.ru_stime),
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "rss_start_mb": rss_start_mb,
                "quarter_rates": [
                    (len(files) // 4) / (end - start)
                    for start, end in zip([started, *marks], marks[:4], strict=False)
                ],
            }
        )
    )


class QueryTimes:
    """A database execute wrapper: wall time and count per statement shape (the SQL up to
    its first parameter), to say where the database time of a mail goes."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = " ".join(sql.split("%s", 1)[0].split())[:150]
            self.times.setdefault(shape, []).append(time.perf_counter() - started)

    def report(self, *, mails: int, elapsed: float) -> str:
        total = sum(sum(times) for times in self.times.values())
        count = sum(len(times) for times in self.times.values())
        lines = [
            f"database: {count} statements, {count / mails:.1f} per mail, {total:.1f}s of "
            f"{elapsed:.1f}s wall ({1000 * total / mails:.1f} ms per mail)",
            "  total_s  count   mean_ms  statement",
        ]
        ranked = sorted(self.times.items(), key=lambda item: -sum(item[1]))
        for shape, times in ranked[:25]:
            total_s, mean_ms = sum(times), 1000 * sum(times) / len(times)
            lines.append(f"  {total_s:7.2f} {len(times):6d} {mean_ms:8.2f}  {shape}")
        return "\n".join(lines) + "\n\n"


def run_workers(services: Services, *, profile: bool, processes: int) -> dict[str, Any]:
    """Start `processes` worker processes at once (as a Celery worker with that concurrency
    would run), wait for all, and combine what they report: the wall time from the first
    start to the last end, CPU summed, the largest peak RSS of one process."""
    started = []
    for part in range(processes):
        argv = [PYTHON, "-m", "bench.email", "--worker", "--part", f"{part}/{processes}"]
        if profile:
            argv.append("--profile")
        env = bench_env(DJANGO_SETTINGS_MODULE="kefu.settings", MEDIA_ROOT=str(MEDIA))
        started.append(services.start(Service(f"email-worker-{part}", argv, env)))
    results = []
    for part, worker in enumerate(started):
        assert worker.proc is not None
        code = worker.proc.wait(TIME_LIMIT_S - 60)
        path = _result_path(part)
        if code != 0 or not path.exists():
            raise RuntimeError(f"worker {part} exited with {code}:\n{worker.tail()}")
        results.append(json.loads(path.read_text()))
    services.stop_all()
    first, last = min(r["started_at"] for r in results), max(r["ended_at"] for r in results)
    return {
        "deliveries": sum(r["deliveries"] for r in results),
        "taken": sum(r["taken"] for r in results),
        "elapsed_s": last - first,
        "cpu_s": sum(r["cpu_s"] for r in results),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "rss_start_mb": max(r["rss_start_mb"] for r in results),
        "quarter_rates": [
            sum(rates) for rates in zip(*(r["quarter_rates"] for r in results), strict=False)
        ],
    }


def _result_path(part: int) -> Path:
    return RESULT.with_name(f"{RESULT.stem}-{part}.json")


# --- counting ------------------------------------------------------------------------------


def count(sent: Sent) -> dict[str, int]:
    from django.db.models import Count

    from channels_ingest.models import InboundRecord, InboundState
    from tickets.models import Attachment, Direction, Message, Ticket

    inbound = Message.objects.filter(channel="email", direction=Direction.IN)
    per_id = dict(
        inbound.values("provider_id").annotate(n=Count("id")).values_list("provider_id", "n")
    )
    expected = set(sent.provider_ids)
    return {
        "lost": sum(1 for provider_id in expected if provider_id not in per_id),
        "doubled": sum(n - 1 for n in per_id.values() if n > 1),
        "unexpected": sum(1 for provider_id in per_id if provider_id not in expected),
        "tickets": Ticket.objects.filter(channel="email").count(),
        "attachments": Attachment.objects.filter(message__in=inbound).count(),
        "failed": InboundRecord.objects.filter(state=InboundState.FAILED).count(),
        "inbound_records": InboundRecord.objects.count(),
        "acknowledgements": Message.objects.filter(
            channel="email", direction=Direction.OUT, is_automatic=True
        ).count(),
    }


def drop_database() -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="mails to send")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", action="store_true", help="run the worker under cProfile")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--processes", type=int, default=2, help="worker processes (default 2, one per core)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--part", default="0/1", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        part, parts = (int(x) for x in args.part.split("/"))
        worker_main(SPOOL, _result_path(part), args.profile, part=part, parts=parts)
        return

    for leftover in (SPOOL, MEDIA):
        shutil.rmtree(leftover, ignore_errors=True)
    for stale in OUT.glob(f"{RESULT.stem}-*.json"):
        stale.unlink()
    with Services(time_limit=TIME_LIMIT_S) as services:
        try:
            recreate_database()
            setup_django()
            seed_helpdesk(agents=10, routed_teams=True)
            started = time.monotonic()
            sent = generate(args.n, args.seed, SPOOL)
            log(
                f"generated {args.n} mails ({sent.roots} new, {sent.replies} replies, "
                f"{sent.attachments} with attachments) and {sent.redeliveries} redeliveries, "
                f"{sent.bytes / 1e6:.1f} MB, in {time.monotonic() - started:.1f}s"
            )
            worker = run_workers(services, profile=args.profile, processes=args.processes)
            log(
                f"{args.processes} worker(s): {worker['deliveries']} deliveries in "
                f"{worker['elapsed_s']:.1f}s, peak RSS {worker['peak_rss_mb']:.0f} MB"
            )
            counted = count(sent)
        finally:
            services.stop_all()
            if not args.keep:
                with contextlib.suppress(Exception):
                    drop_database()
            for leftover in (SPOOL, MEDIA):
                shutil.rmtree(leftover, ignore_errors=True)

    if args.profile:
        print((OUT / "email-profile.txt").read_text())
    rate = args.n / worker["elapsed_s"]
    figures: dict[str, Any] = {
        "n": args.n,
        "processes": args.processes,
        "deliveries": worker["deliveries"],
        "redeliveries": sent.redeliveries,
        "rate_per_s": r(rate, 1),
        "ms_per_mail": r(1000 * worker["elapsed_s"] / args.n),
        "cpu_ms_per_mail": r(1000 * worker["cpu_s"] / args.n),
        "peak_rss_mb": r(worker["peak_rss_mb"], 1),
        "rss_after_setup_mb": r(worker["rss_start_mb"], 1),
        # Rate in each quarter of the run: a falling rate means a cost growing with the data.
        "quarter_rates_per_s": [r(rate, 1) for rate in worker["quarter_rates"]],
        "mb": r(sent.bytes / 1e6, 1),
        "lost": counted["lost"],
        "doubled": counted["doubled"],
        "unexpected": counted["unexpected"],
        "failed": counted["failed"],
        "tickets": counted["tickets"],
        "expected_tickets": sent.roots,
        "attachments": counted["attachments"],
        "expected_attachments": sent.attachments,
        "acknowledgements": counted["acknowledgements"],
        "charsets": sent.charsets,
        "profiled": args.profile,
    }
    figures["rate_met"] = rate >= TARGET_RATE_PER_S
    figures["rss_met"] = worker["peak_rss_mb"] <= TARGET_PEAK_RSS_MB
    figures["correct"] = (
        counted["lost"] == counted["doubled"] == counted["failed"] == 0
        and counted["tickets"] == sent.roots
        and counted["attachments"] == sent.attachments
    )
    print(
        f"{args.n} mails in {worker['elapsed_s']:.1f}s: {rate:.0f}/s (target "
        f"{TARGET_RATE_PER_S:.0f}), peak RSS {worker['peak_rss_mb']:.0f} MB (target "
        f"{TARGET_PEAK_RSS_MB:.0f}); lost {counted['lost']}, doubled {counted['doubled']}, "
        f"tickets {counted['tickets']} of {sent.roots}"
    )
    emit(figures)


if __name__ == "__main__":
    main()
