"""Surveys in a burst: resolutions queue their invitations, and SMS digit replies are taken
in as answers, none lost, doubled or misfiled as a new ticket.

    .venv/bin/python bench/feedback.py [--resolutions 100000] [--replies 50000] [--workers 2]

Recreates the bench database (BENCH_DATABASE_URL, default `kefu_bench_feedback`) and seeds,
with bulk inserts (not timed): a team with one agent, `--resolutions` customers each with a
phone number and one SMS ticket the agent answered, resolved. Quiet hours are off (the
burst runs at any hour) and the invitation delay is 0.

Then, in `--workers` processes on the one machine (production settings, PostgreSQL and
Redis, no web server: the parts below HTTP):

1. **resolutions**: for every ticket, in its own transaction, what a resolution by an agent
   runs for surveys (`feedback.services.surveys.survey_on_resolution`, the trail receiver's
   work): the rules, the fatigue check under the customer's lock, the survey row and its
   agents. `resolutions_s`.
2. **invitations**: the sweep (`surveys_due_send`) until nothing is due: each survey claimed
   by compare-and-set, its invitation stored as a queued outbound SMS on the ticket and its
   delivery task sent to the broker (Redis; no Celery worker runs, so they stay queued).
   `invitations_queued` counts the queued invitation messages in the database afterwards.
3. **replies**: `--replies` inbound SMS, one per surveyed customer, the text a digit 1–5,
   each through the core's intake (`tickets.services.intake.intake_message`, as the SMS
   webhook's worker calls it), 5 % of them delivered a second time (same provider id).

Counted afterwards in the database: `replies_lost` (a reply with no stored message, or whose
survey has no answer), `replies_doubled` (a provider id stored more than once, or a second
call-back for one survey), `replies_misfiled` (a reply stored on any ticket but its survey's,
or a ticket opened during the replies). `total_s` is the three timed phases together.
Target: total_s <= 120 with nothing lost, doubled or misfiled. The last line of stdout is one
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
os.environ["NOTICE_QUIET_HOURS"] = ""

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import emit, log, r, recreate_database, seed_helpdesk, setup_django  # noqa: E402

BATCH = 2000
REDELIVERED_SHARE = 0.05
TARGET_S = 120.0


def seed(count: int) -> dict[str, Any]:
    from django.utils import timezone

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
                    status=Status.RESOLVED,
                    channel=Channel.SMS,
                    customer=customer,
                    team_id=seeded.default_team_id,
                    assignee=agent,
                    created_at=now,
                    resolved_at=now,
                )
                for i, customer in enumerate(customers)
            ]
        )
        Message.objects.bulk_create(
            [
                Message(
                    ticket=ticket,
                    direction=Direction.OUT,
                    channel=Channel.SMS,
                    author=agent,
                    body="您好，已为您催促快递。",
                    delivery_status=DeliveryStatus.SENT,
                    created_at=now,
                )
                for ticket in tickets
            ]
        )
    log(f"seeded {count} customers and resolved tickets in {time.monotonic() - started:.1f}s")
    return {"agent_id": agent.pk}


def _child_setup() -> None:
    from django.db import connections

    connections.close_all()


def resolve_slice(bounds: tuple[int, int]) -> int:
    """Survey scheduling for the tickets with ids in [low, high)."""
    _child_setup()
    from django.db import transaction
    from django.utils import timezone

    from feedback.services.surveys import survey_on_resolution
    from tickets.models import Ticket

    low, high = bounds
    made = 0
    tickets = Ticket.objects.filter(pk__gte=low, pk__lt=high).select_related("customer")
    for ticket in tickets.order_by("pk").iterator(chunk_size=1000):
        with transaction.atomic():
            made += survey_on_resolution(ticket=ticket, now=timezone.now()) is not None
    return made


def invite_slice(part: tuple[int, int]) -> int:
    """The sweep over the due surveys whose id is `index` modulo `workers`."""
    _child_setup()
    from django.utils import timezone

    from feedback.models import Survey
    from feedback.services.surveys import survey_invite

    index, workers = part
    sent = 0
    due = Survey.objects.filter(due_at__lte=timezone.now(), invited_at=None).order_by("pk")
    for survey_id in list(due.values_list("pk", flat=True)):
        if survey_id % workers == index:
            sent += survey_invite(survey_id=survey_id) is not None
    return sent


def reply_slice(jobs: list[tuple[str, str, str]]) -> int:
    _child_setup()
    from tickets.inbound import Identity, InboundMessage
    from tickets.services.intake import intake_message

    taken = 0
    for phone, text, provider_id in jobs:
        result = intake_message(
            inbound=InboundMessage(
                channel="sms",
                provider_id=provider_id,
                identities=[Identity(kind="phone", value=phone)],
                text=text,
            )
        )
        taken += result.created
    return taken


def run_parallel(function: Any, parts: list[Any]) -> tuple[list[Any], float]:
    from django.db import connections

    connections.close_all()
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
        results = pool.map(function, parts)
    return results, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolutions", type=int, default=100_000)
    parser.add_argument("--replies", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.replies > args.resolutions:
        raise SystemExit("--replies may not exceed --resolutions (one reply per surveyed customer)")
    recreate_database()
    setup_django()
    from django.db.models import Count

    from feedback.models import Callback, Survey
    from tickets.models import Message, Ticket

    seed(args.resolutions)
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    workers = max(args.workers, 1)
    step = -(-len(ids) // workers)
    bounds = [
        (ids[i * step], ids[min((i + 1) * step, len(ids)) - 1] + 1)
        for i in range(workers)
        if i * step < len(ids)
    ]

    made, resolutions_s = run_parallel(resolve_slice, bounds)
    log(f"{sum(made)} surveys scheduled in {resolutions_s:.1f}s")
    sent, invitations_s = run_parallel(invite_slice, [(i, workers) for i in range(workers)])
    log(f"{sum(sent)} invitations queued in {invitations_s:.1f}s")

    rng = random.Random(7)
    surveyed = list(
        Survey.objects.filter(invited_at__isnull=False)
        .order_by("pk")
        .values_list("pk", "ticket_id", "customer__identities__value")[: args.replies]
    )
    jobs: list[tuple[str, str, str]] = []
    for survey_id, _ticket_id, phone in surveyed:
        jobs.append((phone, str(rng.randint(1, 5)), f"bench-reply-{survey_id}"))
    redelivered = rng.sample(jobs, int(len(jobs) * REDELIVERED_SHARE))
    # Shuffled in: a copy may race its first delivery in the other worker.
    jobs.extend(redelivered)
    rng.shuffle(jobs)
    tickets_before = Ticket.objects.count()
    taken, replies_s = run_parallel(reply_slice, [jobs[i::workers] for i in range(workers)])
    log(f"{sum(taken)} replies taken in {replies_s:.1f}s")

    from django.db import connections

    connections.close_all()
    expected = {f"bench-reply-{survey_id}": ticket_id for survey_id, ticket_id, _ in surveyed}
    stored = list(
        Message.objects.filter(provider_id__startswith="bench-reply-").values_list(
            "provider_id", "ticket_id"
        )
    )
    seen: dict[str, int] = {}
    for provider_id, _ticket in stored:
        seen[provider_id] = seen.get(provider_id, 0) + 1
    answered = set(
        Survey.objects.filter(
            pk__in=[s for s, _t, _p in surveyed], answered_at__isnull=False
        ).values_list("pk", flat=True)
    )
    lost = sum(
        1
        for survey_id, _t, _p in surveyed
        if f"bench-reply-{survey_id}" not in seen or survey_id not in answered
    )
    doubled = sum(count - 1 for count in seen.values() if count > 1) + sum(
        row["n"] - 1
        for row in Callback.objects.values("survey_id").annotate(n=Count("pk")).filter(n__gt=1)
    )
    misfiled = sum(1 for provider_id, ticket in stored if expected.get(provider_id) != ticket) + (
        Ticket.objects.count() - tickets_before
    )
    invitations_queued = Message.objects.filter(
        notice="survey:csat", delivery_status="queued"
    ).count()
    total_s = resolutions_s + invitations_s + replies_s
    emit(
        {
            "resolutions": args.resolutions,
            "surveys_scheduled": sum(made),
            "invitations_queued": invitations_queued,
            "replies": len(surveyed),
            "replies_delivered": len(jobs),
            "replies_lost": lost,
            "replies_doubled": doubled,
            "replies_misfiled": misfiled,
            "callbacks": Callback.objects.count(),
            "resolutions_s": r(resolutions_s),
            "invitations_s": r(invitations_s),
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
