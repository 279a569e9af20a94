"""Surveys in a burst: resolutions queue their invitations, and SMS digit replies are taken
in as answers, none lost, doubled or misfiled as a new ticket.

    .venv/bin/python bench/feedback.py [--resolutions 100000] [--replies 50000] [--workers 2]
        [--profile DIR]

Recreates the bench database (BENCH_DATABASE_URL, default `kefu_bench_feedback`) and seeds,
with bulk inserts (not timed): a team with one agent, a Twilio SMS channel, and
`--resolutions` customers each with a phone number and one open SMS ticket the agent has
answered. Quiet hours are off (the burst runs at any hour) and the invitation delay is 0.

Then, in `--workers` processes on the one machine (production settings, PostgreSQL and
Redis; no web server and no Celery worker: the work they would do runs in the bench's
processes, through the same functions; they are forked from the bench's own process once it
has loaded the project, as a preloaded server's workers are, and each freezes its heap once
forked, as the web entry points and the Celery pool processes do, kefu/heap.py):

1. **resolutions**: every ticket resolved by the agent through the core's batch status
   service (`tickets.services.workflow.tickets_set_status`, what the queue's bulk status
   action calls; the ticket page and the API call it with one ticket), `RESOLVE_BATCH`
   (500) tickets per call as a supervisor's bulk action would: the close guards, the SLA
   clocks, the trail entries whose receivers schedule the surveys and queue the status
   notices, the websocket pushes. `resolutions_s`.
2. **invitations**: the sweep (`surveys_due_send`, as beat runs it) until nothing is due:
   surveys claimed, their invitations stored as queued outbound SMS on the tickets and their
   delivery tasks sent to the broker (Redis; they stay queued). `invitations_queued` counts
   the queued invitation messages in the database afterwards. `invitations_s`.
3. **replies**: `--replies` inbound SMS, one per surveyed customer, the text a digit 1–5,
   5 % of them delivered a second time (same MessageSid), each posted in Twilio's signed
   form (the official `twilio` package's validator) to the SMS webhook through Django's
   WSGI handler in-process (middleware, signature check, the view; no socket: bench/sms.py
   measures the HTTP server): the webhook stores the raw payload in the inbound log and rings
   the doorbell (queued mode). `replies_receive_s`. Then the doorbell's drain
   (`inbound_drain`, the worker's task) takes every stored SMS in through the core's intake,
   whose interceptor hands a digit to its survey. `replies_process_s`.

Counted afterwards in the database: `replies_lost` (a reply with no stored message, or whose
survey has no answer), `replies_doubled` (a MessageSid stored as more than one message, or a
second call-back for one survey), `replies_misfiled` (a reply stored on any ticket but its
survey's, a ticket opened during the replies, or a surveyed ticket open again). `total_s`
is the timed phases together; each phase ends when its processes have also handed the live
events they published (the websocket pushes) to the channel layer, and
`live_events_dropped` counts those they had to drop (a full backlog, kefu/realtime.py).
Target: total_s <= 120 with nothing lost, doubled or misfiled.
`--profile DIR` writes a cProfile file per process and phase. The last line of stdout is one
JSON object.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kefu_bench_feedback"
)
os.environ["NOTICE_QUIET_HOURS"] = "off"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import multiprocessing  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from bench.common import emit, log, r, recreate_database, seed_helpdesk, setup_django  # noqa: E402

BATCH = 2000
RESOLVE_BATCH = 500
REDELIVERED_SHARE = 0.05
TARGET_S = 120.0
PATH = "/webhooks/sms/twilio/"
AUTH_TOKEN = "bench-twilio-auth-token"
ACCOUNT_SID = "ACbench0000000000000000000000000000"
OUR_NUMBER = "+8610690000"
PROFILE_DIR = ""


def seed(count: int) -> dict[str, Any]:
    from django.utils import timezone

    from channels_ingest.models import SmsChannel
    from feedback.services.surveys import survey_settings_update
    from tickets.models import (
        Agent,
        Channel,
        ContactIdentity,
        Customer,
        DeliveryStatus,
        Direction,
        Message,
        Status,
        Ticket,
    )

    seeded = seed_helpdesk(agents=1)
    agent = Agent.objects.get(user_id=seeded.agent_user_ids[0])
    survey_settings_update(actor=None, values={"delay_minutes": 0, "nps_order_percent": 0})
    SmsChannel.objects.create(
        name="bench", number=OUR_NUMBER, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN
    )
    now = timezone.now()
    started = time.monotonic()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        customers = Customer.objects.bulk_create(
            [Customer(name=f"客户 {start + i}") for i in range(size)]
        )
        ContactIdentity.objects.bulk_create(
            [
                ContactIdentity(
                    customer=customer, kind="phone", value=f"+86139{start + i:08d}", created_at=now
                )
                for i, customer in enumerate(customers)
            ]
        )
        tickets = Ticket.objects.bulk_create(
            [
                Ticket(
                    number=f"F{start + i:09d}",
                    subject="快递没到",
                    status=Status.OPEN,
                    channel=Channel.SMS,
                    customer=customer,
                    team_id=seeded.default_team_id,
                    assignee=agent,
                    created_at=now,
                )
                for i, customer in enumerate(customers)
            ]
        )
        Message.objects.bulk_create(
            [
                message
                for ticket in tickets
                for message in (
                    Message(
                        ticket=ticket,
                        direction=Direction.IN,
                        channel=Channel.SMS,
                        body="快递三天没动了",
                        created_at=now,
                    ),
                    Message(
                        ticket=ticket,
                        direction=Direction.OUT,
                        channel=Channel.SMS,
                        author=agent,
                        body="您好，已为您催促快递。",
                        delivery_status=DeliveryStatus.SENT,
                        created_at=now,
                    ),
                )
            ]
        )
    log(f"seeded {count} customers and open tickets in {time.monotonic() - started:.1f}s")
    return {"agent_user_id": agent.user_id}


def _child_setup() -> None:
    from django.db import connections

    from kefu.heap import heap_freeze

    connections.close_all()
    heap_freeze()


def _profiled(name: str, work: Callable[[], int]) -> tuple[int, int]:
    """Run `work`, under cProfile when --profile names a directory, and wait until the live
    events it published have gone to the channel layer (part of the work: a web or worker
    process sends them too). Returns what `work` returned and how many live events this
    process dropped (a full backlog, or the layer failing)."""
    from kefu import realtime

    def work_and_send() -> int:
        done = work()
        realtime.wait_sent(timeout=120)
        return done

    if not PROFILE_DIR:
        result = work_and_send()
    else:
        profiler = cProfile.Profile()
        result = profiler.runcall(work_and_send)
        profiler.dump_stats(os.path.join(PROFILE_DIR, f"{name}-{os.getpid()}.prof"))
    return result, realtime.backlog_dropped() + realtime.publish_failures()


def resolve_slice(part: tuple[list[int], int]) -> tuple[int, int]:
    """Resolve the tickets `ids` as the agent, `RESOLVE_BATCH` per status change."""
    _child_setup()
    from django.contrib.auth import get_user_model

    from tickets.models import Status
    from tickets.services.workflow import tickets_set_status

    ids, user_id = part
    actor = get_user_model().objects.get(pk=user_id)

    def work() -> int:
        done = 0
        for start in range(0, len(ids), RESOLVE_BATCH):
            changes = tickets_set_status(
                ticket_ids=ids[start : start + RESOLVE_BATCH], status=Status.RESOLVED, actor=actor
            )
            done += len(changes.changed)
        return done

    return _profiled("resolutions", work)


def invite_slice(_index: int) -> tuple[int, int]:
    """The invitation sweep, as beat runs it, until nothing is due."""
    _child_setup()
    from feedback.services.surveys import surveys_due_send

    def work() -> int:
        sent = 0
        while made := surveys_due_send():
            sent += made
        return sent

    return _profiled("invitations", work)


def receive_slice(jobs: list[tuple[str, str, str]]) -> tuple[int, int]:
    """Post each reply, signed as Twilio signs it, to the SMS webhook."""
    _child_setup()
    from django.conf import settings
    from django.test import Client
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    base = settings.KEFU_PUBLIC_URL.rstrip("/") or "http://127.0.0.1"
    url = f"{base}{PATH}"
    client = Client(HTTP_HOST="127.0.0.1")

    def work() -> int:
        answered = 0
        for phone, text, sid in jobs:
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "AccountSid": ACCOUNT_SID,
                "From": phone,
                "To": OUR_NUMBER,
                "Body": text,
                "NumMedia": "0",
                "NumSegments": "1",
            }
            response = client.post(
                PATH,
                urlencode(params),
                content_type="application/x-www-form-urlencoded",
                HTTP_X_TWILIO_SIGNATURE=validator.compute_signature(url, params),
            )
            answered += response.status_code == 200
        return answered

    return _profiled("receive", work)


def drain_slice(_index: int) -> tuple[int, int]:
    """The doorbell's drain (the worker's task), until no stored SMS is waiting."""
    _child_setup()
    from channels_ingest.pipeline.doorbell import inbound_drain

    def work() -> int:
        taken = 0
        while made := inbound_drain(channel="sms"):
            taken += made
        return taken

    return _profiled("drain", work)


def run_parallel(function: Any, parts: list[Any]) -> tuple[list[int], int, float]:
    """Each part in a process of its own; what each returned, the live events they dropped
    between them, and the seconds it all took."""
    from django.db import connections

    connections.close_all()
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
        results = pool.map(function, parts)
    elapsed = time.monotonic() - started
    return [done for done, _dropped in results], sum(dropped for _done, dropped in results), elapsed


def main() -> None:
    global PROFILE_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolutions", type=int, default=100_000)
    parser.add_argument("--replies", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", default="", help="write cProfile files to this directory")
    args = parser.parse_args()
    if args.replies > args.resolutions:
        raise SystemExit("--replies may not exceed --resolutions (one reply per surveyed customer)")
    if args.profile:
        PROFILE_DIR = os.path.abspath(args.profile)
        os.makedirs(PROFILE_DIR, exist_ok=True)
    recreate_database()
    setup_django()
    from django.db.models import Count

    from channels_ingest.models import InboundRecord, InboundState
    from feedback.models import Callback, Survey
    from tickets.models import Message, Ticket

    seeded = seed(args.resolutions)
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    workers = max(args.workers, 1)
    # Loaded once, before the clock: every phase's processes are forked from this one, as a
    # preloaded server's or a Celery pool's are from their parent, so none of them times
    # Python importing the project (its URLconf: about 1 s a process, 4 s over the phases).
    from kefu.heap import heap_freeze

    heap_freeze()

    done, dropped_resolving, resolutions_s = run_parallel(
        resolve_slice, [(ids[i::workers], seeded["agent_user_id"]) for i in range(workers)]
    )
    made = Survey.objects.count()
    log(f"{sum(done)} tickets resolved, {made} surveys scheduled in {resolutions_s:.1f}s")
    sent, dropped_inviting, invitations_s = run_parallel(invite_slice, list(range(workers)))
    log(f"{sum(sent)} invitations queued in {invitations_s:.1f}s")

    rng = random.Random(7)
    surveyed = list(
        Survey.objects.filter(invited_at__isnull=False)
        .order_by("pk")
        .values_list("pk", "ticket_id", "customer__identities__value")[: args.replies]
    )
    jobs: list[tuple[str, str, str]] = []
    for survey_id, _ticket_id, phone in surveyed:
        jobs.append((phone, str(rng.randint(1, 5)), f"SMbenchreply{survey_id:010d}"))
    redelivered = rng.sample(jobs, int(len(jobs) * REDELIVERED_SHARE))
    # Shuffled in: a copy may race its first delivery in the other worker.
    jobs.extend(redelivered)
    rng.shuffle(jobs)
    tickets_before = Ticket.objects.count()
    answered, dropped_receiving, receive_s = run_parallel(
        receive_slice, [jobs[i::workers] for i in range(workers)]
    )
    log(f"{sum(answered)} webhook posts answered 200 in {receive_s:.1f}s")
    taken, dropped_draining, process_s = run_parallel(drain_slice, list(range(workers)))
    log(f"{sum(taken)} stored SMS taken in in {process_s:.1f}s")
    replies_s = receive_s + process_s

    from django.db import connections

    connections.close_all()
    expected = {f"SMbenchreply{survey_id:010d}": ticket_id for survey_id, ticket_id, _ in surveyed}
    stored = list(
        Message.objects.filter(provider_id__startswith="SMbenchreply").values_list(
            "provider_id", "ticket_id"
        )
    )
    seen: dict[str, int] = {}
    for provider_id, _ticket in stored:
        seen[provider_id] = seen.get(provider_id, 0) + 1
    answered_ids = set(
        Survey.objects.filter(
            pk__in=[s for s, _t, _p in surveyed], answered_at__isnull=False
        ).values_list("pk", flat=True)
    )
    lost = sum(
        1
        for survey_id, _t, _p in surveyed
        if f"SMbenchreply{survey_id:010d}" not in seen or survey_id not in answered_ids
    )
    doubled = sum(count - 1 for count in seen.values() if count > 1) + sum(
        row["n"] - 1
        for row in Callback.objects.values("survey_id").annotate(n=Count("pk")).filter(n__gt=1)
    )
    reopened = Ticket.objects.filter(pk__in=[t for _s, t, _p in surveyed], is_open=True).count()
    misfiled = (
        sum(1 for provider_id, ticket in stored if expected.get(provider_id) != ticket)
        + (Ticket.objects.count() - tickets_before)
        + reopened
    )
    invitations_queued = Message.objects.filter(
        notice="survey:csat", delivery_status="queued"
    ).count()
    total_s = resolutions_s + invitations_s + replies_s
    emit(
        {
            "resolutions": args.resolutions,
            "resolved": sum(done),
            "surveys_scheduled": made,
            "invitations_queued": invitations_queued,
            "replies": len(surveyed),
            "replies_delivered": len(jobs),
            "webhook_answered": sum(answered),
            "inbound_waiting": InboundRecord.objects.filter(
                channel="sms", state=InboundState.RECEIVED
            ).count(),
            "replies_lost": lost,
            "replies_doubled": doubled,
            "replies_misfiled": misfiled,
            "callbacks": Callback.objects.count(),
            "live_events_dropped": dropped_resolving
            + dropped_inviting
            + dropped_receiving
            + dropped_draining,
            "resolutions_s": r(resolutions_s),
            "invitations_s": r(invitations_s),
            "replies_receive_s": r(receive_s),
            "replies_process_s": r(process_s),
            "replies_s": r(replies_s),
            "total_s": r(total_s),
            "workers": workers,
            # The target is for the full size; a smaller run says nothing of it.
            "target_met": bool(total_s <= TARGET_S and lost == 0 and doubled == 0 and misfiled == 0)
            if args.resolutions >= 100_000 and len(surveyed) >= 50_000
            else None,
        }
    )


if __name__ == "__main__":
    main()
