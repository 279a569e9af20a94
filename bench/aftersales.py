"""After-sales at a large retailer's scale: the customer's progress page, the agent's case
page, case events from the shop's systems, and the logistics anomaly scan.

    .venv/bin/python bench/aftersales.py [--orders 1000000] [--cases 200000] [--events 10000]
        [--reps 1000] [--silent 50] [--event-workers 2] [--parts pages,scan,events]

Recreates the bench database and seeds, with set-based SQL straight into the tables:
`--orders` orders of `--orders`/5 customers (each with a phone number), two items each (one
in ten orders has fresh food), one shipment each; `--cases` after-sales cases on distinct
orders, of every type and at every step of its flow, each with its items, its step history
(with the data the steps carry: return address, parcels, refunds), a ticket on the
after-sales team, and the step clock (the SLA engine's clock and its summary) of the open
ones. The first `--events` cases are refund-only cases at `approved`, on email tickets.

Then it measures, against PostgreSQL, with the production settings:

- the customer's progress page (`/status/cases/<number>/`, signed in as the case's customer)
  and the agent's case page (`/aftersales/<number>/`, as an agent of the after-sales team;
  also as a supervisor), each rendered by Django in this process through the test client:
  `--warmup` requests, then `--reps` requests over random cases, p99 of the whole request.
  One request of each is run again with its SQL queries counted.
- `--events` `refund.completed` events posted to `POST /api/v1/aftersales/<number>/events`
  on gunicorn (2 gthread workers x 4 threads) by 8 connections in a closed loop, with a tenth
  of them delivered again (half right behind the first delivery, racing it, half later).
  The POST stores the event in the inbox and answers 202 (a redelivery 200);
  `--event-workers` Celery workers (solo pool, 2) apply the stored events in batches
  (aftersales.services.event_inbox), on the same machine. `events_applied_s` runs from the
  first post until every event's inbox row says `applied` and its customer notice is
  queued (polled in the database, for at most 120 s after the last post).
  `events_lost`: events answered 200/202 with no inbox row, or applied without the case at
  `refunded`; `events_pending`: stored but not applied when the polling stopped;
  `events_doubled`: cases with more than one `refunded` step, more than one inbox row, or
  more than one notice of it. Notices are the outbound automatic messages on
  the event cases' tickets (`Message.notice`), counted when the notices code is installed.
  The machine's load average is printed before and after (`load_before`, `load_after`),
  and the CPU seconds of the web and the worker processes (`events_cpu_ms_each`: both,
  per event).
- one logistics anomaly scan (`aftersales.services.logistics.anomaly_scan`) over all the
  shipments. About 5,000 are still moving (their last carrier event a few hours old), of
  which `--silent` (50) have been silent for ten days, half of those at a sorting centre;
  the rest are delivered. Only 50 match, so that the scan measures finding them and not
  opening thousands of proactive tickets (each match opens one, with its message to the
  customer; the scan opens at most 500 per rule per run). Every statement's time is taken
  in this process around each execute (`connection.execute_wrapper`).
  `anomaly_scan_db_ms`, the figure held against the target (<= 1 s), is the database time
  of the scan's candidate queries (`scan_candidates`, one per rule): finding what matches
  among the million, the part that grows with the shipments and must go by index.
  `anomaly_scan_total_db_ms` is the whole call, with opening the 50 tickets (a transaction
  each, with the ticket, its message and trail); `anomaly_scan_open_db_ms_each` is that
  per ticket. The plans of the candidate queries are printed (EXPLAIN ANALYZE, by
  `bench/logistics.py`'s `measure`) and `anomaly_scan_uses_index` says whether the no-scan
  and hub rules read the partial index
  `aftersales_ship_moving`.

The last line of stdout is one JSON object. Targets: progress_page_p99_ms <= 50,
case_view_p99_ms <= 50, events_applied_s <= 60 with events_lost == events_doubled == 0,
anomaly_scan_db_ms <= 1000.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ would come first on sys.path, where bench/queue.py shadows the
# standard library's `queue` (which psycopg imports): put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    Job,
    Services,
    celery_worker,
    collect_static,
    emit,
    free_port,
    group_cpu_seconds,
    gunicorn,
    log,
    percentile,
    r,
    recreate_database,
    run_async,
    run_closed_loop,
    seed_helpdesk,
    setup_django,
    wait_port,
)

NAN = float("nan")
EVENTS_QUEUE = "bench-aftersales-events"
TARGET_PAGE_P99_MS = 50.0
TARGET_EVENTS_S = 60.0
TARGET_SCAN_MS = 1000.0
ORDERS_PER_CUSTOMER = 5
MOVING_EVERY = 200  # one shipment in 200 is still on the way
REFUND = "25.00"  # an event case's one item: SKU-1 x 1 at 25.00

# The happy path of each case type (aftersales.steps), as SQL arrays.
PATHS = {
    "return_refund": [
        "submitted",
        "waiting_for_return",
        "return_shipped",
        "received",
        "inspected",
        "refunded",
        "completed",
    ],
    "exchange": [
        "submitted",
        "waiting_for_return",
        "return_shipped",
        "received",
        "inspected",
        "replacement_shipped",
        "completed",
    ],
    "repair": [
        "submitted",
        "waiting_for_return",
        "return_shipped",
        "received",
        "inspected",
        "repaired",
        "completed",
    ],
    "refund_only": ["submitted", "approved", "refunded", "completed"],
    "reship": ["submitted", "approved", "replacement_shipped", "completed"],
}
TYPES = list(PATHS)


def _sql(cursor: Any, label: str, sql: str, params: Any = None) -> None:
    started = time.monotonic()
    cursor.execute(sql, params)
    log(f"  {label}: {cursor.rowcount} rows in {time.monotonic() - started:.1f}s")


def seed(*, orders: int, cases: int, events: int, silent: int) -> dict[str, Any]:
    """Everything in set-based SQL. The first `events` cases are refund-only cases at
    `approved` on the first orders, each on an email ticket of its own (a notice needs
    one); the others cycle through the types and the steps of each type's flow."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from sla.models import BusinessCalendar, SlaPolicy

    if cases > orders:
        raise SystemExit("--cases must not exceed --orders (one case per order)")
    seeded = seed_helpdesk(agents=1, routed_teams=True, token_name="bench-aftersales-inbound")
    team_id = seeded.team_ids["after_sales"]
    agent_user_id = get_user_model().objects.get(username="agent-after_sales").pk
    supervisor = get_user_model().objects.create(username="bench-supervisor")
    supervisor.groups.add(Group.objects.get(name="supervisor"))
    policy_id = SlaPolicy.objects.order_by("pk").values_list("pk", flat=True).first()
    calendar_id = BusinessCalendar.objects.order_by("pk").values_list("pk", flat=True).first()
    customers = max(orders // ORDERS_PER_CUSTOMER, 1)
    now = timezone.now()
    started = time.monotonic()
    paths = (
        "ARRAY["
        + ",".join(
            "ARRAY["
            + ",".join(f"'{s}'" for s in PATHS[t] + [PATHS[t][-1]] * (7 - len(PATHS[t])))
            + "]"
            for t in TYPES
        )
        + "]"
    )
    lengths = "ARRAY[" + ",".join(str(len(PATHS[t])) for t in TYPES) + "]"
    types = "ARRAY[" + ",".join(f"'{t}'" for t in TYPES) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        _sql(
            cursor,
            "customers",
            """
            INSERT INTO tickets_customer (name, is_vip, created_at, preferred_channel, language)
            SELECT '顾客' || g, g %% 50 = 0, %s, '', CASE WHEN g %% 5 = 0 THEN 'en' ELSE '' END
            FROM generate_series(1, %s) g
            """,
            [now, customers],
        )
        cursor.execute("SELECT min(id) FROM tickets_customer")
        first_customer = cursor.fetchone()[0]
        _sql(
            cursor,
            "phone identities",
            """
            INSERT INTO tickets_contactidentity (customer_id, kind, value, created_at)
            SELECT id, 'phone', '+86139' || lpad((id - %s)::text, 8, '0'), %s
            FROM tickets_customer WHERE id >= %s
            """,
            [first_customer, now, first_customer],
        )
        # Orders placed over the last 30 days; order g belongs to customer (g - 1) / 5.
        _sql(
            cursor,
            "orders",
            """
            INSERT INTO aftersales_order (number, customer_id, placed_at, currency, goods_amount,
                shipping_amount, paid_amount, payment_status, source, fetched_at, updated_at)
            SELECT 'SO' || lpad(g::text, 10, '0'), %s + (g - 1) / %s,
                   %s - (g %% 720) * interval '1 hour', 'CNY', 75.00, 10.00, 85.00,
                   'paid', 'push', %s, %s - (g %% 720) * interval '1 hour'
            FROM generate_series(1, %s) g
            """,
            [first_customer, ORDERS_PER_CUSTOMER, now, now, now, orders],
        )
        cursor.execute("SELECT min(id) FROM aftersales_order")
        first_order = cursor.fetchone()[0]
        # Two items per order: SKU-1 (25.00, fresh food in one order of ten), SKU-2 (50.00).
        _sql(
            cursor,
            "order items",
            """
            INSERT INTO aftersales_orderitem (order_id, sku, name, quantity, unit_price,
                product_type)
            SELECT o.id, 'SKU-' || k,
                   CASE k WHEN 1 THEN '丹东草莓 500g' ELSE '蓝牙耳机' END, 1, 25.00 * k,
                   CASE WHEN k = 2 THEN 'electronics'
                        WHEN (o.id - %s) %% 10 = 0 THEN 'fresh' ELSE 'general' END
            FROM aftersales_order o, generate_series(1, 2) k
            """,
            [first_order],
        )
        # One shipment per order. One in 200 is still moving (never on a fresh order), its
        # last scan a few hours old; the first `silent` of those have had no news for ten
        # days. The rest were delivered 20 hours after the order.
        _sql(
            cursor,
            "shipments",
            """
            INSERT INTO aftersales_shipment (order_id, carrier, tracking_number, status,
                last_event_at, delivered_at)
            SELECT id, 'SF', 'SF' || lpad(id::text, 12, '0'),
                   CASE WHEN (id - %(first)s) %% %(every)s = 7 THEN 'in_transit'
                        ELSE 'delivered' END,
                   CASE WHEN (id - %(first)s) %% %(every)s <> 7
                            THEN placed_at + interval '20 hours'
                        WHEN (id - %(first)s) / %(every)s < %(silent)s
                            THEN %(now)s - interval '10 days'
                        ELSE %(now)s - ((id %% 6) * interval '1 hour') - interval '5 minutes'
                   END,
                   CASE WHEN (id - %(first)s) %% %(every)s = 7 THEN NULL
                        ELSE placed_at + interval '20 hours' END
            FROM aftersales_order
            """,
            {"first": first_order, "every": MOVING_EVERY, "silent": silent, "now": now},
        )
        # Each moving parcel's last carrier event; one in five (and half the silent ones)
        # at a sorting centre.
        _sql(
            cursor,
            "tracking events",
            """
            INSERT INTO aftersales_trackingevent (shipment_id, status, location, at, raw)
            SELECT s.id, 'in_transit',
                   CASE WHEN (s.order_id - %(first)s) / %(every)s < %(silent)s
                             AND (s.order_id - %(first)s) / %(every)s %% 2 = 0
                            THEN '杭州转运中心'
                        WHEN (s.order_id - %(first)s) / %(every)s >= %(silent)s
                             AND s.id %% 5 = 0 THEN '上海分拨中心'
                        ELSE '杭州市西湖区' END,
                   s.last_event_at, '{}'::jsonb
            FROM aftersales_shipment s WHERE s.status = 'in_transit'
            """,
            {"first": first_order, "every": MOVING_EVERY, "silent": silent},
        )
        log(f"  orders, items, shipments in {time.monotonic() - started:.0f}s")
        # One ticket per case, on the after-sales team: the event cases' tickets come first
        # (email, open), the others follow their case (closed once the case is over).
        cursor.execute("SELECT id FROM aftersales_reason ORDER BY position, id LIMIT 1")
        reason = cursor.fetchone()[0]
        _sql(
            cursor,
            "email identities of the event customers",
            """
            INSERT INTO tickets_contactidentity (customer_id, kind, value, created_at)
            SELECT DISTINCT customer_id, 'email', 'c' || customer_id || '@example.com', %s
            FROM aftersales_order WHERE id < %s
            """,
            [now, first_order + events],
        )
        # Case g (1-based) is on order index o(g): the event cases on the first orders,
        # the others spread over the rest, every fourth order.
        order_of = (
            "CASE WHEN g <= %(events)s THEN %(first)s + g - 1 "
            "ELSE %(first)s + %(events)s + ((g - %(events)s - 1) * 4) %% (%(orders)s - %(events)s)"
            " END"
        )
        # Where case g stands: position k (1-based) on its type's happy path; one in ten
        # of the others left it (rejected after submission, or cancelled).
        _sql(
            cursor,
            "cases",
            f"""
            INSERT INTO aftersales_case (number, order_id, ticket_id, type, reason_id,
                description, amount_requested, refunded_amount, step, opened_by, created_at,
                updated_at)
            SELECT 'AS' || lpad(g::text, 12, '0'), {order_of}, NULL, ty, %(reason)s,
                   '草莓发霉了，要求退款',
                   CASE WHEN ty IN ('refund_only', 'return_refund') THEN {REFUND} ELSE 0 END,
                   CASE WHEN ty IN ('refund_only', 'return_refund')
                             AND k >= array_position(p, 'refunded') THEN {REFUND} ELSE 0 END,
                   CASE WHEN g > %(events)s AND g %% 10 = 3 THEN 'rejected'
                        WHEN g > %(events)s AND g %% 10 = 6 THEN 'cancelled'
                        ELSE p[k] END,
                   CASE WHEN g %% 3 = 0 THEN 'agent' ELSE 'customer' END,
                   %(now)s - (k + 1) * interval '1 day', %(now)s - interval '2 hours'
            FROM (
                SELECT g, ty, p,
                       CASE WHEN g <= %(events)s THEN 2
                            WHEN g %% 10 IN (3, 6) THEN 1
                            ELSE 1 + (g / 5) %% len END AS k
                FROM (
                    SELECT g,
                           CASE WHEN g <= %(events)s THEN 'refund_only'
                                ELSE ({types})[1 + g %% 5] END AS ty,
                           CASE WHEN g <= %(events)s THEN ({paths})[4:4][1:7]
                                ELSE ({paths})[1 + g %% 5:1 + g %% 5][1:7] END AS p2,
                           CASE WHEN g <= %(events)s THEN ({lengths})[4]
                                ELSE ({lengths})[1 + g %% 5] END AS len
                    FROM generate_series(1, %(cases)s) g
                ) x, LATERAL (SELECT ARRAY(SELECT unnest(x.p2)) AS p) flat
            ) y
            """,
            {
                "events": events,
                "first": first_order,
                "orders": orders,
                "reason": reason,
                "cases": cases,
                "now": now,
            },
        )
        cursor.execute("SELECT min(id) FROM aftersales_case")
        first_case = cursor.fetchone()[0]
        _sql(
            cursor,
            "tickets",
            """
            INSERT INTO tickets_ticket (number, subject, status, tier, priority_rank, category,
                urgency_reasons, sentiment, channel, sla_state, created_at, updated_at, tags,
                bot_state, suggestions, custom_fields, customer_id, team_id)
            SELECT 'T-AS' || lpad((c.id - %(first_case)s)::text, 9, '0'),
                   '售后 ' || c.number || '：草莓发霉了，申请退款',
                   CASE WHEN c.is_open THEN 'open' ELSE 'closed' END,
                   'regular', 2, 'after_sales', '[]'::jsonb, -0.3,
                   CASE WHEN substr(c.number, 3)::int <= %(events)s THEN 'email' ELSE 'sms' END,
                   'ok', c.created_at, c.updated_at, '[]'::jsonb, '{}'::jsonb, '[]'::jsonb,
                   '{}'::jsonb, o.customer_id, %(team)s
            FROM aftersales_case c JOIN aftersales_order o ON o.id = c.order_id
            """,
            {"first_case": first_case, "events": events, "team": team_id},
        )
        _sql(
            cursor,
            "cases' tickets",
            """
            UPDATE aftersales_case c SET ticket_id = t.id FROM tickets_ticket t
            WHERE t.number = 'T-AS' || lpad((c.id - %s)::text, 9, '0')
            """,
            [first_case],
        )
        _sql(
            cursor,
            "case items",
            """
            INSERT INTO aftersales_caseitem (case_id, order_item_id, quantity)
            SELECT c.id, i.id, 1 FROM aftersales_case c
            JOIN aftersales_orderitem i ON i.order_id = c.order_id AND i.sku = 'SKU-1'
            """,
        )
        # The history: every step of the path up to where the case stands (a rejected or
        # cancelled case: submitted, then its exit), one day apart, with what each carries.
        _sql(
            cursor,
            "case steps",
            f"""
            INSERT INTO aftersales_casestep (case_id, step, at, note, data)
            SELECT c.id, s.step, c.created_at + (s.n - 1) * interval '1 day', '',
                   CASE s.step
                     WHEN 'waiting_for_return' THEN jsonb_build_object('outcome', 'approved',
                          'return_address', '上海市浦东新区某路 1 号 售后仓 收')
                     WHEN 'approved' THEN '{{"outcome": "approved"}}'::jsonb
                     WHEN 'return_shipped' THEN jsonb_build_object('carrier', 'SF',
                          'tracking_number', 'RT' || c.id)
                     WHEN 'inspected' THEN '{{"outcome": "passed"}}'::jsonb
                     WHEN 'refunded' THEN jsonb_build_object('amount', '{REFUND}',
                          'currency', 'CNY', 'method', 'original', 'reference', 'RF' || c.id)
                     WHEN 'replacement_shipped' THEN jsonb_build_object('carrier', 'SF',
                          'tracking_number', 'RS' || c.id)
                     WHEN 'rejected' THEN '{{"outcome": "rejected", "reason": "超过售后期"}}'::jsonb
                     ELSE '{{}}'::jsonb END
            FROM aftersales_case c,
                 LATERAL (
                    SELECT step, n FROM unnest(
                        CASE WHEN c.step IN ('rejected', 'cancelled')
                                THEN ARRAY['submitted', c.step::text]
                             ELSE (({paths})[array_position({types}, c.type::text):
                                             array_position({types}, c.type::text)][1:7])
                        END
                    ) WITH ORDINALITY AS u(step, n)
                 ) s
            WHERE c.step IN ('rejected', 'cancelled')
               OR s.n <= array_position(
                    ARRAY(SELECT unnest(({paths})[array_position({types}, c.type::text):
                                                   array_position({types}, c.type::text)])),
                    c.step::text)
            """,
        )
        # The open cases' step clocks: the SLA engine's clock of the current step (its
        # sequence is the step's row) and the summary beside the case.
        _sql(
            cursor,
            "SLA clocks of the open cases",
            """
            INSERT INTO sla_slaclock (subject_id, milestone, sequence, target_seconds,
                started_at, warn_at, due_at, pauses, escalation_level, calendar_id, policy_id,
                wall_clock, paused_at)
            SELECT -c.id, 'case_step', st.id, 28800, st.at, st.at + interval '3 days',
                   st.at + interval '4 days', '[]'::jsonb, 0, %s, %s, false,
                   CASE WHEN c.step = 'waiting_for_return' THEN st.at END
            FROM aftersales_case c
            JOIN LATERAL (SELECT id, at FROM aftersales_casestep s WHERE s.case_id = c.id
                          ORDER BY s.at DESC, s.id DESC LIMIT 1) st ON true
            WHERE c.is_open
            """,
            [calendar_id, policy_id],
        )
        _sql(
            cursor,
            "case clock summaries",
            """
            INSERT INTO aftersales_caseclock (case_id, step, state, due_at)
            SELECT -k.subject_id, c.step,
                   CASE WHEN k.paused_at IS NULL THEN 'running' ELSE 'paused' END,
                   CASE WHEN k.paused_at IS NULL THEN k.due_at END
            FROM sla_slaclock k JOIN aftersales_case c ON c.id = -k.subject_id
            WHERE k.milestone = 'case_step'
            """,
        )
        cursor.execute("SELECT count(*) FROM aftersales_case")
        made = cursor.fetchone()[0]
        cursor.execute("SET synchronous_commit = on")
        started_analyze = time.monotonic()
        cursor.execute("VACUUM ANALYZE")
        log(f"  VACUUM ANALYZE in {time.monotonic() - started_analyze:.0f}s")
    log(f"seeded {made} cases over {orders} orders in {time.monotonic() - started:.0f}s")
    return {
        "customers": customers,
        "cases": made,
        "first_order": first_order,
        "first_case": first_case,
        "agent_user_id": agent_user_id,
        "supervisor_id": supervisor.pk,
    }


# --- pages --------------------------------------------------------------------------------


def time_pages(
    name: str,
    targets: list[tuple[str, int | None]],
    *,
    user_id: int | None,
    warmup: int,
) -> dict[str, Any]:
    """GET each (path, customer id) with the test client: signed in as the user, or as the
    customer on the status pages. The first `warmup` are not timed."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kefu.heap import heap_freeze
    from tickets.portal import SESSION_KEY

    heap_freeze()  # as the web entry points do once loaded (kefu/heap.py)
    client = Client(HTTP_HOST="localhost")
    if user_id is not None:
        client.force_login(get_user_model().objects.get(pk=user_id))
    session = client.session

    def sign_in(customer_id: int | None) -> None:
        if customer_id is not None:
            session[SESSION_KEY] = customer_id
            session.save()

    times = []
    statuses: dict[str, int] = {}
    for index, (path, customer_id) in enumerate(targets):
        sign_in(customer_id)
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
        if response.status_code != 200 and statuses[str(response.status_code)] == 1:
            log(f"  {name}: {path} answered {response.status_code}")
        if index >= warmup:
            times.append(elapsed)
    path, customer_id = targets[-1]
    sign_in(customer_id)
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
    log(f"  {name}: {len(captured)} queries; slowest:")
    for query in slowest:
        log(f"    {query['time']}s {query['sql'][:300]}")
    figures = {
        "p50": percentile(times, 50),
        "p99": percentile(times, 99),
        "max": max(times),
        "queries": len(captured),
        "statuses": statuses,
    }
    log(
        f"{name}: p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, "
        f"max {figures['max']:.1f} ms, {figures['queries']} queries, {statuses}"
    )
    return figures


def measure_pages(world: dict[str, Any], *, reps: int, warmup: int, rng: random.Random) -> dict:
    from aftersales.models import Case

    numbers = list(
        Case.objects.filter(
            pk__in=[
                world["first_case"] + rng.randrange(world["cases"]) for _ in range(reps + warmup)
            ]
        ).values_list("pk", "number", "order__customer_id")
    )
    by_pk = {pk: (number, customer) for pk, number, customer in numbers}
    picks = [rng.choice(list(by_pk.values())) for _ in range(reps + warmup)]
    progress = time_pages(
        "progress page",
        [(f"/status/cases/{number}/", customer) for number, customer in picks],
        user_id=None,
        warmup=warmup,
    )
    rng.shuffle(picks)
    agent = time_pages(
        "case page (after-sales agent)",
        [(f"/aftersales/{number}/", None) for number, _customer in picks],
        user_id=world["agent_user_id"],
        warmup=warmup,
    )
    rng.shuffle(picks)
    supervisor = time_pages(
        "case page (supervisor)",
        [(f"/aftersales/{number}/", None) for number, _customer in picks],
        user_id=world["supervisor_id"],
        warmup=warmup,
    )
    return {"progress": progress, "agent": agent, "supervisor": supervisor}


# --- events -------------------------------------------------------------------------------


def event_jobs(
    *, events: int, token: str, rng: random.Random, redeliver: float
) -> tuple[list[Job], list[str]]:
    """One `refund.completed` per event case, in case order; a `redeliver` share delivered
    a second time, half right behind the first delivery (racing it on another connection),
    half a few hundred posts later."""
    from aftersales.models import Case

    numbers = list(
        Case.objects.filter(number__lte=f"AS{events:012d}")
        .order_by("number")
        .values_list("number", flat=True)
    )
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def job(index: int, number: str, tag: str) -> Job:
        body = {
            "event_id": f"refund-{number}",
            "kind": "refund.completed",
            "data": {"amount": REFUND, "method": "original", "reference": f"RF-{index:06d}"},
        }
        return Job(
            "POST",
            f"/api/v1/aftersales/{number}/events",
            json.dumps(body).encode(),
            headers,
            tag=tag,
        )

    jobs: list[Job] = []
    later: list[tuple[int, Job]] = []
    for index, number in enumerate(numbers):
        jobs.append(job(index, number, "first"))
        if rng.random() < redeliver:
            if rng.random() < 0.5:
                jobs.append(job(index, number, "again"))
            else:
                later.append((len(jobs) + rng.randrange(100, 500), job(index, number, "again")))
    for position, item in sorted(later, key=lambda pair: -pair[0]):
        jobs.insert(min(position, len(jobs)), item)
    return jobs, numbers


def events_state(numbers: list[str], *, notices: bool) -> dict[str, int]:
    """What the database holds of the event cases: events applied, cases at `refunded`,
    `refunded` steps and their notices, and cases where either is doubled."""
    from django.db import connection

    # A notice of the refund: the notices code names it; without it, any automatic
    # outbound message on the ticket.
    notice = "m.notice = 'case.refunded'" if notices else "true"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE ev >= 1),
                   count(*) FILTER (WHERE applied >= 1 AND c.step <> 'refunded'),
                   count(*) FILTER (WHERE applied >= 1),
                   count(*) FILTER (WHERE c.step = 'refunded'),
                   coalesce(sum(steps), 0),
                   count(*) FILTER (WHERE steps > 1 OR ev > 1),
                   coalesce(sum(notes), 0),
                   count(*) FILTER (WHERE notes > 1)
            FROM aftersales_case c,
            LATERAL (SELECT count(*) AS ev,
                            count(*) FILTER (WHERE e.status = 'applied') AS applied
                     FROM aftersales_caseevent e WHERE e.case_id = c.id) e,
            LATERAL (SELECT count(*) AS steps FROM aftersales_casestep s
                     WHERE s.case_id = c.id AND s.step = 'refunded') s,
            LATERAL (SELECT count(*) AS notes FROM tickets_message m
                     WHERE m.ticket_id = c.ticket_id AND m.direction = 'out'
                       AND m.is_automatic AND {notice}) m
            WHERE c.number = ANY(%s)
            """,
            [numbers],
        )
        (
            stored,
            applied_elsewhere,
            applied,
            at_refunded,
            steps,
            doubled_steps,
            notes,
            doubled_notes,
        ) = cursor.fetchone()
    return {
        "stored": int(stored),
        "applied_elsewhere": int(applied_elsewhere),
        "applied": int(applied),
        "at_refunded": int(at_refunded),
        "refunded_steps": int(steps),
        "doubled_steps": int(doubled_steps),
        "notices": int(notes),
        "doubled_notices": int(doubled_notes),
    }


def measure_events(
    world: dict[str, Any],
    services: Services,
    *,
    events: int,
    concurrency: int,
    redeliver: float,
    budget: float,
    rng: random.Random,
    workers: int,
) -> dict[str, Any]:
    from aftersales.models import CaseEvent
    from tickets.models import Message
    from tickets.services.tokens import token_issue

    notices = any(field.name == "notice" for field in Message._meta.get_fields())
    if not notices:
        log("no Message.notice: the notices code is not installed; notices are not awaited")
    _token, key = token_issue(name="bench-aftersales", scopes=["aftersales"], actor=None)
    jobs, numbers = event_jobs(
        events=events,
        token=key,
        rng=rng,
        redeliver=redeliver,
    )
    before = events_state(numbers, notices=notices)
    log(f"events: {len(jobs)} posts ({len(jobs) - len(numbers)} redeliveries); before: {before}")
    port = free_port()
    # The workers take the events' tasks only (their own queue): delivering the notices is
    # not part of the figure.
    os.environ["AFTERSALES_EVENTS_QUEUE"] = EVENTS_QUEUE
    server = services.start(gunicorn(port=port, workers=2, threads=4))
    appliers = []
    for index in range(workers):
        applier = celery_worker(name=f"celery-events-{index}")
        applier.argv += ["-Q", EVENTS_QUEUE]
        appliers.append(services.start(applier))

    wait_port(port, server)
    time.sleep(3)  # the workers connect to the broker
    load_before = os.getloadavg()
    log(f"events: load average before {load_before}")
    started = time.perf_counter()
    run = run_async(
        lambda: run_closed_loop(port=port, jobs=jobs, concurrency=concurrency, budget=budget)
    )
    posted_s = time.perf_counter() - started
    log(f"events: posted in {posted_s:.1f}s, {run.statuses()}, unsent {run.unsent}")
    # Lost and doubled count the events that were sent (the budget may leave some unsent).
    sent_numbers = sorted({res.job.path.split("/")[4] for res in run.results})
    numbers_all, numbers = numbers, sent_numbers
    deadline = time.perf_counter() + 120
    while True:
        state = events_state(numbers, notices=notices)
        done = state["applied"] == len(numbers) and (
            not notices or state["notices"] >= len(numbers)
        )
        if done or time.perf_counter() > deadline:
            break
        time.sleep(0.2)
    applied_s = time.perf_counter() - started
    load_after = os.getloadavg()
    web_cpu = group_cpu_seconds(server.pid)
    worker_cpu = sum(group_cpu_seconds(applier.pid) for applier in appliers)
    log(f"events: load average after {load_after}; cpu web {web_cpu:.1f}s")
    log(f"events: cpu of the workers {worker_cpu:.1f}s")
    server.stop()
    for applier in appliers:
        applier.stop()
    accepted = [res for res in run.results if res.status in (200, 202)]
    failures = [res for res in run.results if res.status not in (200, 202)]
    for res in failures[:5]:
        log(f"  {res.job.path} -> {res.status} {res.error} {res.body[:300]!r}")
    # A redelivery that raced ahead of its first delivery and was the one stored (202).
    redelivered_applied = sum(1 for res in accepted if res.job.tag == "again" and res.status == 202)
    latencies = run.latencies_ms()
    ends = sorted(res.ended for res in run.results)
    if len(ends) >= 10:
        tenth = len(ends) // 10
        spans = [ends[(i + 1) * tenth - 1] - ends[i * tenth] for i in range(10)]
        log("events: posts per second by tenth: " + " ".join(f"{tenth / s:.0f}" for s in spans))
    # Lost: accepted but not in the inbox, or applied without taking the case to `refunded`.
    # Still queued when the polling gave up is not lost: it is `events_pending`.
    lost = len(numbers) - state["stored"] + state["applied_elsewhere"]
    pending = state["stored"] - state["applied"]
    doubled = state["doubled_steps"] + state["doubled_notices"]
    log(f"events: after {applied_s:.1f}s: {state}")
    return {
        "events": len(numbers),
        "events_unsent": len(numbers_all) - len(numbers),
        "posts": len(jobs),
        "redeliveries": len(jobs) - len(numbers_all),
        "statuses": run.statuses(),
        "posted_s": posted_s,
        "rate": len(run.results) / run.wall if run.wall else float("nan"),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "applied_s": applied_s
        if state["applied"] == len(numbers) == len(numbers_all)
        else float("nan"),
        "lost": lost,
        "pending": pending,
        "doubled": doubled,
        "redelivered_applied_first": redelivered_applied,
        "notices_available": notices,
        "notices": state["notices"] - before["notices"],
        "case_events": CaseEvent.objects.filter(case__number__in=numbers).count(),
        "unsent": run.unsent,
        "load_before": [round(value, 2) for value in load_before],
        "load_after": [round(value, 2) for value in load_after],
        "web_cpu_s": web_cpu,
        "worker_cpu_s": worker_cpu,
        "workers": workers,
    }


# --- the anomaly scan ---------------------------------------------------------------------


def measure_scan() -> dict[str, Any]:
    """One whole `anomaly_scan`, every statement timed around its execute; the candidate
    queries (`scan_candidates`) told apart by their SQL. Their plans, by bench/logistics.py."""
    from django.db import connection
    from django.utils import timezone

    try:
        from aftersales.models import AnomalyRule, ShipmentAnomaly
        from aftersales.services.logistics import SCAN_BATCH, anomaly_scan, scan_candidates
    except ImportError as error:
        log(f"anomaly scan: not installed ({error})")
        return {}
    from bench.logistics import measure as explain_rules

    now = timezone.now()
    candidate_sql = set()
    for rule in AnomalyRule.objects.filter(is_active=True):
        query = scan_candidates(rule, now=now).select_related("order__customer")[:SCAN_BATCH]
        try:
            candidate_sql.add(query.query.sql_with_params()[0])
        except Exception:  # an empty queryset (a rule with nothing to match) has no SQL
            continue
    plans = explain_rules(reps=1)
    timings: list[tuple[str, float]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((sql, (time.perf_counter() - started) * 1000))

    with connection.execute_wrapper(timed):
        wall = time.perf_counter()
        opened = anomaly_scan(now=now)
        wall_ms = (time.perf_counter() - wall) * 1000
    total = sum(ms for _sql, ms in timings)
    find = sum(ms for sql, ms in timings if sql in candidate_sql)
    found = sum(opened.values())
    log(
        f"anomaly scan: opened {opened} in {wall_ms:.0f} ms wall; {len(timings)} statements, "
        f"{total:.1f} ms in the database, {find:.1f} ms of it finding "
        f"({sum(1 for sql, _ms in timings if sql in candidate_sql)} candidate queries)"
    )
    return {
        "db_ms": total,
        "find_db_ms": find,
        "open_ms_each": (total - find) / found if found else float("nan"),
        "wall_ms": wall_ms,
        "statements": len(timings),
        "found": found,
        "opened": {str(kind): count for kind, count in opened.items()},
        "open_anomalies": ShipmentAnomaly.objects.filter(resolved_at__isnull=True).count(),
        "uses_index": all(plans[kind]["uses_moving_index"] for kind in ("no_scan", "stuck_at_hub")),
        "explain_ms": {kind: plan["median_ms"] for kind, plan in plans.items()},
    }


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=1000, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--redeliver", type=float, default=0.1)
    parser.add_argument("--budget", type=float, default=150, help="seconds of posting events")
    parser.add_argument("--silent", type=int, default=50, help="silent parcels to find")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=int, default=1200, help="seconds, then it stops")
    parser.add_argument(
        "--event-workers", type=int, default=2, help="Celery workers applying the events"
    )
    parser.add_argument(
        "--parts",
        default="pages,scan,events",
        help="what to measure, of pages, scan, events (comma-separated)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with Services(time_limit=args.time_limit) as services:  # a hard bound (SIGALRM)
        recreate_database()
        setup_django("kefu.settings")
        world = seed(orders=args.orders, cases=args.cases, events=args.events, silent=args.silent)
        parts = set(args.parts.split(","))
        empty: dict[str, Any] = {"p50": NAN, "p99": NAN, "max": NAN, "queries": None}
        empty["statuses"] = {}
        pages: dict[str, Any] = {"progress": empty, "agent": empty, "supervisor": empty}
        if "pages" in parts:
            collect_static()
            pages = measure_pages(world, reps=args.reps, warmup=args.warmup, rng=rng)
        scan: dict[str, Any] = measure_scan() if "scan" in parts else {}
        events: dict[str, Any] = {
            "events": 0,
            "events_unsent": 0,
            "posts": 0,
            "redeliveries": 0,
            "statuses": {},
            "posted_s": NAN,
            "rate": NAN,
            "p50": NAN,
            "p99": NAN,
            "applied_s": NAN,
            "lost": None,
            "pending": None,
            "doubled": None,
            "redelivered_applied_first": None,
            "notices_available": False,
            "notices": 0,
            "load_before": None,
            "load_after": None,
            "web_cpu_s": NAN,
            "worker_cpu_s": NAN,
            "workers": args.event_workers,
        }
        if "events" in parts:
            events = measure_events(
                world,
                services,
                events=args.events,
                concurrency=args.concurrency,
                redeliver=args.redeliver,
                budget=args.budget,
                rng=rng,
                workers=args.event_workers,
            )
        from aftersales.models import Order, Shipment

        orders = Order.objects.count()
        shipments = Shipment.objects.count()

    progress_p99 = pages["progress"]["p99"]
    case_p99 = pages["agent"]["p99"]
    applied_s = events["applied_s"]
    scan_ms = scan.get("find_db_ms", float("nan"))
    emit(
        {
            "bench": "aftersales",
            "orders": orders,
            "cases": world["cases"],
            "shipments": shipments,
            "customers": world["customers"],
            "reps": args.reps,
            "progress_page_p50_ms": r(pages["progress"]["p50"]),
            "progress_page_p99_ms": r(progress_p99),
            "progress_page_max_ms": r(pages["progress"]["max"]),
            "progress_page_queries": pages["progress"]["queries"],
            "case_view_p50_ms": r(pages["agent"]["p50"]),
            "case_view_p99_ms": r(case_p99),
            "case_view_max_ms": r(pages["agent"]["max"]),
            "case_view_queries": pages["agent"]["queries"],
            "case_view_supervisor_p99_ms": r(pages["supervisor"]["p99"]),
            "page_statuses": {name: figures["statuses"] for name, figures in pages.items()},
            "events": events["events"],
            "events_unsent": events["events_unsent"],
            "event_posts": events["posts"],
            "event_redeliveries": events["redeliveries"],
            "event_statuses": events["statuses"],
            "events_posted_s": r(events["posted_s"]),
            "events_rate_per_s": r(events["rate"], 1),
            "event_post_p50_ms": r(events["p50"]),
            "event_post_p99_ms": r(events["p99"]),
            "events_applied_s": r(applied_s),
            "events_lost": events["lost"],
            "events_pending": events["pending"],
            "events_doubled": events["doubled"],
            "redeliveries_applied_first": events["redelivered_applied_first"],
            "notices_queued": events["notices"],
            "notices_available": events["notices_available"],
            "event_workers": events["workers"],
            "events_cpu_web_s": r(events["web_cpu_s"], 1),
            "events_cpu_workers_s": r(events["worker_cpu_s"], 1),
            "events_cpu_ms_each": r(
                (events["web_cpu_s"] + events["worker_cpu_s"]) * 1000 / events["events"]
                if events["events"]
                else NAN
            ),
            "load_before": events["load_before"],
            "load_after": events["load_after"],
            "parts": sorted(parts),
            "anomaly_scan_db_ms": r(scan_ms),
            "anomaly_scan_total_db_ms": r(scan.get("db_ms", float("nan"))),
            "anomaly_scan_open_db_ms_each": r(scan.get("open_ms_each", float("nan"))),
            "anomaly_scan_wall_ms": r(scan.get("wall_ms", float("nan"))),
            "anomaly_scan_statements": scan.get("statements"),
            "anomaly_scan_found": scan.get("found"),
            "anomaly_scan_opened": scan.get("opened"),
            "anomaly_scan_uses_index": scan.get("uses_index"),
            "anomaly_scan_explain_ms": scan.get("explain_ms"),
            "targets": {
                "progress_page_p99_ms": TARGET_PAGE_P99_MS,
                "case_view_p99_ms": TARGET_PAGE_P99_MS,
                "events_applied_s": TARGET_EVENTS_S,
                "anomaly_scan_db_ms": TARGET_SCAN_MS,
            },
            "progress_page_met": progress_p99 <= TARGET_PAGE_P99_MS,
            "case_view_met": case_p99 <= TARGET_PAGE_P99_MS,
            "events_met": "events" in parts
            and applied_s <= TARGET_EVENTS_S
            and events["lost"] == 0
            and events["doubled"] == 0
            and (not events["notices_available"] or events["notices"] == events["events"]),
            "anomaly_scan_met": scan_ms <= TARGET_SCAN_MS and bool(scan.get("uses_index")),
        }
    )


if __name__ == "__main__":
    main()
