"""Report pages and the board at a large retailer's volume: 10,000,000 tickets on PostgreSQL.

Seeds `--tickets` (default 10,000,000) tickets over the last 365 days, set-based in
PostgreSQL (INSERT … SELECT generate_series): real `tickets_ticket` rows with their
customers, 4 teams and 20 agents (minimal valid rows: no messages, no SLA clocks), and the
facts of those tickets the same way; then sums the rollups from the facts with the product's
set-based rebuild (`facts_rebuild --rollups-only`, analytics.facts.rollups_rebuild), timed
as `rollups_rebuild_s`; and an after-sales case per ten tickets with its steps, facts and
rollups (`seed_cases`).

Then, with a signed-in supervisor through the Django test client (the view's own time,
queries included, no HTTP server), times every report page (overview, SLA, channels,
categories, agents, quality, after-sales, a scorecard) for a 7-, a 31- and a 365-day period,
the monthly ranking and the board, `--repeat` warm runs each, p50 and p99.

Then the rollup lag: a thread opens `--stream-rate` tickets a second for `--stream-seconds`
through the real intake service (tickets.services.intake.intake_message) while another runs
analytics' refresh every ANALYTICS_FACTS_SECONDS (as Celery beat schedules it), and a third
watches for each ticket's fact (written in the same transaction as its rollup rows): the lag
is from the intake's commit to that moment, the worst reported.

Then the live refresh's per-ticket path (analytics.facts._refresh: old facts read, rollup
differences added) over `--python-sample` tickets, as tickets per second.

Last, the full rebuild (`facts_rebuild`, analytics.facts.facts_rebuild): every fact computed
again from the tickets and every rollup summed, then the after-sales case facts and their
rollups (`analytics.casefacts.casefacts_rebuild`, as the command runs it), timed as
`rebuild_s` (its facts, rollups and cases phases apart). It replaces the seeded facts with
the computed ones (no SLA outcomes: the seeded tickets have no clocks). `--rebuild-only`
seeds the tickets alone (no facts) and runs just the full rebuild.

    .venv/bin/python bench/reports.py [--tickets 10000000] [--repeat 30] [--rebuild-only]

Uses its own database (`kefu_bench_reports10m` unless BENCH_DATABASE_URL says otherwise),
dropped and recreated; `--reuse` times the pages over the last run's data. Target: every
page's p99 ≤ 200 ms and the rollups ≤ 60 s behind.
"""

import sys
from pathlib import Path

# Run as a script, bench/ would come first on sys.path, where bench/email.py shadows the
# standard library's `email`: put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

import argparse  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kefu_bench_reports10m"
)
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")

from bench.common import emit, log, percentile, r, recreate_database, setup_django  # noqa: E402

TARGET_P99_MS = 200.0
TARGET_LAG_S = 60.0
CHUNK = 1_000_000

CHANNELS = ["app", "web", "phone", "email", "sms"]
CATEGORIES = ["logistics", "after_sales", "tech", "value_added", ""]
TIERS = ["urgent", "regular", "value_added"]


def _array(values: list[Any]) -> str:
    """A SQL array literal of ints or plain strings (bench constants, no user input)."""
    if all(isinstance(v, int) for v in values):
        return "ARRAY[" + ",".join(str(v) for v in values) + "]::bigint[]"
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]::text[]"


def seed_people() -> dict[str, Any]:
    from django.contrib.auth.models import Group, User

    from sla.models import SlaPolicy
    from tickets.models import Agent, Department, Team

    teams = [
        Team.objects.create(
            name=f"团队 {n}", department=Department.CUSTOMER_SERVICE, is_default=n == 0
        )
        for n in range(4)
    ]
    agent_group, _ = Group.objects.get_or_create(name="agent")
    supervisor_group, _ = Group.objects.get_or_create(name="supervisor")
    agents = []
    for n in range(20):
        user = User.objects.create(username=f"agent{n}")
        user.groups.add(agent_group)
        agent = Agent.objects.create(user=user)
        agent.teams.set([teams[n % 4]])
        agents.append(agent)
    boss = User.objects.create(username="boss")
    boss.groups.add(agent_group, supervisor_group)
    Agent.objects.create(user=boss).teams.set(teams)
    policies = list(SlaPolicy.objects.order_by("pk").values_list("pk", flat=True))
    return {
        "teams": [t.pk for t in teams],
        "agents": [a.pk for a in agents],
        # One policy per tier, as a retailer's policies follow the tier.
        "policies": [policies[n % len(policies)] for n in range(len(TIERS))],
    }


def seed_tickets(tickets: int, people: dict[str, Any], *, facts: bool = True) -> dict[str, float]:
    """Customers, tickets and (unless not `facts`) their facts, set-based, a million tickets
    per statement."""
    from django.db import connection

    customers = max(1, tickets // 4)
    agents, teams, policies = people["agents"], people["teams"], people["policies"]
    # Agent n is in team n % 4 (seed_people).
    agent_teams = [teams[n % 4] for n in range(len(agents))]
    seconds: dict[str, float] = {}
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_customer (id, name, is_vip, created_at, language,"
            " preferred_channel) SELECT g, '', g %% 50 = 0, now() - interval '400 days', '', ''"
            " FROM generate_series(1, %s) g",
            [customers],
        )
    seconds["customers"] = time.monotonic() - started
    log(f"seeded {customers:,} customers in {seconds['customers']:.0f}s")
    started = time.monotonic()
    for low in range(1, tickets + 1, CHUNK):
        high = min(tickets, low + CHUNK - 1)
        with connection.cursor() as cursor:
            # Uniform over the year; first answer within an hour; resolved within twelve
            # hours unless that is still ahead (then open: a backlog of a few thousand).
            cursor.execute(
                f"""
                INSERT INTO tickets_ticket (id, number, subject, status, tier, priority_rank,
                    category, urgency_reasons, sentiment, channel, sla_state, created_at,
                    updated_at, first_response_at, tags, bot_state, suggestions, resolved_at,
                    assignee_id, customer_id, team_id, custom_fields)
                SELECT g, 'S' || g, '', CASE WHEN resolved < now() THEN 'resolved' ELSE 'open' END,
                    ({_array(TIERS)})[1 + (g / 7) %% 3], 2,
                    ({_array(CATEGORIES)})[1 + (g / 100) %% 5], '[]', 0,
                    ({_array(CHANNELS)})[1 + (g / 20) %% 5], 'ok', created, created,
                    CASE WHEN answered < now() THEN answered END, '[]', '{{}}', '[]',
                    CASE WHEN resolved < now() THEN resolved END,
                    ({_array(agents)})[1 + g %% 20], 1 + g %% %s,
                    ({_array(agent_teams)})[1 + g %% 20], '{{}}'
                FROM (
                    SELECT g, created, created + (1 + random() * 59) * interval '1 minute'
                        AS answered, created + (1 + random() * 11) * interval '1 hour' AS resolved
                    FROM (SELECT g, now() - random() * interval '365 days' AS created
                          FROM generate_series(%s, %s) g) chosen
                ) made
                """,
                [customers, low, high],
            )
            if not facts:
                log(f"seeded {high:,} tickets ({time.monotonic() - started:.0f}s)")
                continue
            cursor.execute(
                f"""
                INSERT INTO analytics_ticketfact (ticket_id, created_at, channel, category, tier,
                    team_id, agent_id, customer_id, is_open, first_response_at,
                    first_response_wall_s, first_response_business_s, resolved_at,
                    resolution_wall_s, resolution_business_s, agent_replies, bot_replies, reopens,
                    first_contact_resolved, bot_deflected, repeat_contact, sentiment_sum,
                    sentiment_count, sla_policy_id, sla_first_response_at,
                    sla_first_response_met, sla_resolution_at, sla_resolution_met, refreshed_at)
                SELECT id, created_at, channel, category, tier, team_id, assignee_id,
                    customer_id, is_open, first_response_at,
                    EXTRACT(EPOCH FROM first_response_at - created_at)::int,
                    EXTRACT(EPOCH FROM first_response_at - created_at)::int, resolved_at,
                    EXTRACT(EPOCH FROM resolved_at - created_at)::int,
                    EXTRACT(EPOCH FROM resolved_at - created_at)::int,
                    (first_response_at IS NOT NULL)::int, 0, (id %% 50 = 0)::int,
                    CASE WHEN resolved_at IS NOT NULL THEN id %% 5 <> 0 END,
                    CASE WHEN resolved_at IS NOT NULL THEN FALSE END, id %% 10 = 0,
                    0, 0, ({_array(policies)})[1 + (id / 7) %% 3],
                    first_response_at,
                    CASE WHEN first_response_at IS NOT NULL THEN id %% 100 < 90 END,
                    resolved_at, CASE WHEN resolved_at IS NOT NULL THEN id %% 100 < 95 END,
                    now()
                FROM tickets_ticket WHERE id BETWEEN %s AND %s
                """,
                [low, high],
            )
        log(f"seeded {high:,} tickets and facts ({time.monotonic() - started:.0f}s)")
    seconds["tickets_and_facts" if facts else "tickets"] = time.monotonic() - started
    with connection.cursor() as cursor:
        for table in ("tickets_ticket", "tickets_customer"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    return seconds


# After-sales cases: one per CASE_EVERY tickets, on that ticket (every tenth case without
# one), each type taking its own path; a step still ahead of now is not taken yet.
CASE_EVERY = 10
CASE_CHUNK = 250_000
CASE_PATHS = {
    "refund_only": ["submitted", "approved", "refunded", "completed"],
    "return_refund": ["submitted", "waiting_for_return", "return_shipped", "received", "inspected"],
    "exchange": ["submitted", "waiting_for_return", "cancelled"],
    "reship": ["submitted", "approved", "replacement_shipped", "completed"],
    "repair": ["submitted", "waiting_for_return", "received"],
}


def seed_cases(tickets: int) -> dict[str, Any]:
    """After-sales cases on the seeded tickets, set-based as the tickets are: an order per
    case, the case, its 3 to 5 steps, its facts (analytics.CaseFact, CaseStepFact, as
    analytics.casefacts computes them: no step clocks, so no business time), then the case
    rollups summed from the facts by the product's rebuild (analytics.casefacts.
    case_rollups_rebuild), timed."""
    from django.db import connection

    from analytics.casefacts import case_rollups_rebuild

    cases = tickets // CASE_EVERY
    types = list(CASE_PATHS)
    longest = max(len(path) for path in CASE_PATHS.values())
    # paths[type index][step index], padded with '' (a step that does not exist).
    paths = (
        "ARRAY["
        + ",".join(
            "ARRAY[" + ",".join(f"'{step}'" for step in path + [""] * (longest - len(path))) + "]"
            for path in CASE_PATHS.values()
        )
        + "]::text[]"
    )
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM aftersales_reason ORDER BY position, id LIMIT 1")
        reason = cursor.fetchone()[0]
        for low in range(1, cases + 1, CASE_CHUNK):
            high = min(cases, low + CASE_CHUNK - 1)
            cursor.execute(
                "INSERT INTO aftersales_order (id, number, customer_id, placed_at, currency,"
                " goods_amount, shipping_amount, paid_amount, payment_status, source, fetched_at,"
                " updated_at) SELECT g, 'BO' || g, t.customer_id, t.created_at - interval '2 days',"
                " 'CNY', 100, 0, 100, 'paid', 'demo', t.created_at, t.created_at"
                " FROM generate_series(%s, %s) g JOIN tickets_ticket t ON t.id = g * %s",
                [low, high, CASE_EVERY],
            )
            cursor.execute(
                "INSERT INTO aftersales_case (id, number, order_id, ticket_id, type, reason_id,"
                " description, amount_requested, refunded_amount, step, opened_by, created_at,"
                " updated_at) SELECT o.id, 'BC' || o.id, o.id,"
                " CASE WHEN o.id %% 10 = 0 THEN NULL ELSE o.id * %s END,"
                f" ({_array(types)})[1 + o.id %% 5], %s, '',"
                " CASE WHEN o.id %% 5 IN (0, 1) THEN 100 ELSE 0 END,"
                " CASE WHEN o.id %% 5 = 0 THEN 100 ELSE 0 END, 'submitted', 'agent',"
                " o.fetched_at + interval '30 minutes', o.fetched_at + interval '30 minutes'"
                " FROM aftersales_order o WHERE o.id BETWEEN %s AND %s",
                [CASE_EVERY, reason, low, high],
            )
            # Step n (from 1) some hours after the opening, growing with n, varied per case.
            cursor.execute(
                "INSERT INTO aftersales_casestep (case_id, step, at, note, data)"
                " SELECT id, step, at, '', '{}' FROM ("
                f" SELECT c.id, ({paths})[1 + c.id %% 5][n] AS step,"
                " c.created_at + ((n - 1) * (3 + c.id %% 23) + (n - 1) * (n - 1) * (c.id %% 5))"
                " * interval '1 hour' AS at"
                " FROM aftersales_case c, generate_series(1, %s) n"
                " WHERE c.id BETWEEN %s AND %s) made"
                " WHERE step <> '' AND at < now() ORDER BY id, at",
                [longest, low, high],
            )
            cursor.execute(
                "UPDATE aftersales_case c SET step = last.step, updated_at = last.at FROM ("
                " SELECT DISTINCT ON (case_id) case_id, step, at FROM aftersales_casestep"
                " WHERE case_id BETWEEN %s AND %s ORDER BY case_id, at DESC, id DESC) last"
                " WHERE c.id = last.case_id AND last.step <> 'submitted'",
                [low, high],
            )
            cursor.execute(
                "INSERT INTO analytics_casefact (case_id, case_type, created_at, closed_at,"
                " closed_step, cycle_wall_s, refunded, ticket_id, team_id, channel, category,"
                " tier, agent_id, refreshed_at)"
                " SELECT c.id, c.type, c.created_at, f.at, COALESCE(f.step, ''),"
                " EXTRACT(EPOCH FROM f.at - c.created_at)::int, c.refunded_amount, t.id,"
                " COALESCE(t.team_id, 0), COALESCE(t.channel, ''), COALESCE(t.category, ''),"
                " COALESCE(t.tier, ''), CASE WHEN t.id IS NOT NULL THEN COALESCE(t.assignee_id, 0)"
                " END, now()"
                " FROM aftersales_case c LEFT JOIN tickets_ticket t ON t.id = c.ticket_id"
                " LEFT JOIN LATERAL (SELECT step, at FROM aftersales_casestep s"
                "  WHERE s.case_id = c.id AND s.step IN ('completed', 'cancelled', 'rejected')"
                "  ORDER BY at DESC, id DESC LIMIT 1) f ON TRUE"
                " WHERE c.id BETWEEN %s AND %s",
                [low, high],
            )
            cursor.execute(
                "INSERT INTO analytics_casestepfact (step_row_id, case_id, case_type, step,"
                " entered_at, ended_at, wall_s, business_s, team_id, channel, category, tier,"
                " agent_id)"
                " SELECT s.id, s.case_id, f.case_type, s.step, s.at, s.next_at,"
                " EXTRACT(EPOCH FROM s.next_at - s.at)::int, NULL, f.team_id, f.channel,"
                " f.category, f.tier, f.agent_id FROM ("
                "  SELECT id, case_id, step, at,"
                "  lead(at) OVER (PARTITION BY case_id ORDER BY at, id) AS next_at"
                "  FROM aftersales_casestep WHERE case_id BETWEEN %s AND %s) s"
                " JOIN analytics_casefact f ON f.case_id = s.case_id WHERE s.next_at IS NOT NULL",
                [low, high],
            )
            log(f"seeded {high:,} cases, steps and facts ({time.monotonic() - started:.0f}s)")
        for table in ("aftersales_order", "aftersales_case"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" GREATEST(1, (SELECT max(id) FROM {table})))"
            )
        cursor.execute("SELECT count(*) FROM aftersales_casestep")
        steps = cursor.fetchone()[0]
    seeded_s = time.monotonic() - started
    started = time.monotonic()
    rows = case_rollups_rebuild()
    rebuild_s = time.monotonic() - started
    with connection.cursor() as cursor:
        for table in (
            "aftersales_case",
            "aftersales_casestep",
            "analytics_casefact",
            "analytics_casestepfact",
            *rows,
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    log(f"case rollups rebuilt from the case facts in {rebuild_s:.1f}s: {rows}")
    return {
        "cases": cases,
        "steps": steps,
        "seed_s": r(seeded_s, 0),
        "rollups_rebuild_s": r(rebuild_s, 1),
        "rollup_rows": rows,
    }


def vacuum() -> None:
    """Every table of the database vacuumed and analysed, as autovacuum leaves a database in
    use: without it, autovacuum's first pass over the freshly loaded tables (the cases and
    their steps among them) runs during the timings and slows the pages it overlaps."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    log(f"vacuumed in {time.monotonic() - started:.0f}s")


def time_pages(repeat: int) -> dict[str, dict[str, float | None]]:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from tickets.models import Agent

    # No collectstatic here: pages name their static files without the manifest's hashes.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.contrib.staticfiles.storage import staticfiles_storage

    staticfiles_storage._setup()  # type: ignore[attr-defined]
    from kefu.heap import heap_freeze

    heap_freeze()  # as the web entry points do once loaded (kefu/heap.py)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="boss"))
    agent = Agent.objects.get(user__username="agent0").pk
    today = timezone.localdate()
    paths = {
        "overview": "/reports/",
        "sla": "/reports/sla/",
        "channels": "/reports/channels/",
        "categories": "/reports/categories/",
        "agents": "/reports/agents/",
        "quality": "/reports/quality/",
        "aftersales": "/reports/aftersales/",
        "scorecard": f"/reports/scorecards/{agent}/",
    }
    runs: list[tuple[str, str, dict[str, str]]] = []
    for days in (7, 31, 365):
        query = {"start": (today - timedelta(days=days - 1)).isoformat(), "end": today.isoformat()}
        runs += [(f"{name}_{days}d", path, query) for name, path in paths.items()]
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    runs.append(("ranking_month", "/reports/ranking/", {"month": month}))
    runs.append(("board", "/board/", {}))
    pages: dict[str, dict[str, float | None]] = {}
    for name, path, query in runs:
        times = []
        for run in range(repeat + 2):
            started = time.perf_counter()
            response = client.get(path, query)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if run >= 2:  # two warm-up runs
                times.append(elapsed)
        pages[name] = {"p50_ms": r(percentile(times, 50), 1), "p99_ms": r(percentile(times, 99), 1)}
        log(f"{name:>16}: p50 {pages[name]['p50_ms']:7.1f} ms, p99 {pages[name]['p99_ms']:7.1f} ms")
    return pages


def rollup_lag(*, rate: float, seconds: float) -> dict[str, float | int | None]:
    """Tickets opened through intake at `rate` a second while the refresh runs on its
    schedule; each ticket's lag from its commit to its fact and rollups."""
    from django.conf import settings
    from django.db import connection

    from analytics.facts import facts_refresh
    from analytics.models import TicketFact
    from tickets.inbound import Identity, InboundMessage
    from tickets.services.intake import intake_message

    opened: dict[int, float] = {}
    seen: dict[int, float] = {}
    lock = threading.Lock()
    stop = threading.Event()
    streaming = threading.Event()
    streaming.set()

    # Ids of this run's own: a message id seen before would be a redelivery (no new ticket).
    run = uuid.uuid4().hex[:8]

    def stream() -> None:
        try:
            n = 0
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                n += 1
                result = intake_message(
                    inbound=InboundMessage(
                        channel="app",
                        provider_id=f"lag-{run}-{n}",
                        identities=[Identity(kind="app_user", value=f"lag-{run}-{n}")],
                        text="我的订单还没到，麻烦查一下",
                        name="压测客户",
                    )
                )
                with lock:
                    opened[result.ticket.pk] = time.monotonic()
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
        finally:
            streaming.clear()
            connection.close()

    def refresh() -> None:
        try:
            while not stop.is_set():
                facts_refresh()
                stop.wait(settings.ANALYTICS_FACTS_SECONDS)
        finally:
            connection.close()

    def watch() -> None:
        try:
            while not stop.is_set():
                with lock:
                    waiting = [pk for pk in opened if pk not in seen]
                if waiting:
                    found = TicketFact.objects.filter(ticket_id__in=waiting).values_list(
                        "ticket_id", flat=True
                    )
                    now = time.monotonic()
                    for pk in found:
                        seen[pk] = now
                elif not streaming.is_set():
                    return
                stop.wait(0.2)
        finally:
            connection.close()

    threads = [threading.Thread(target=f, daemon=True) for f in (stream, refresh, watch)]
    for thread in threads:
        thread.start()
    threads[0].join()
    threads[2].join(timeout=seconds + 120)
    stop.set()
    threads[1].join(timeout=60)
    lags = [seen[pk] - at for pk, at in opened.items() if pk in seen]
    missing = len(opened) - len(lags)
    log(f"lag over {len(opened)} tickets: max {max(lags, default=0):.1f}s, {missing} unseen")
    return {
        "opened": len(opened),
        "unseen": missing,
        "max_s": r(max(lags), 1) if lags else None,
        "p50_s": r(percentile(lags, 50), 1) if lags else None,
    }


def python_refresh_rate(sample: int) -> float:
    """The live refresh's per-ticket path (analytics.facts._refresh, chunks of 2,000 under
    the lock) over `sample` seeded tickets: tickets per second. Their facts are gone first
    (taken out of the rollups with them, untimed), so each is computed and written, not
    found unchanged."""
    from django.db import transaction

    from analytics.facts import _deltas, _lock, _refresh, _rollups_add
    from analytics.models import TicketFact
    from tickets.models import Ticket

    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True)[:sample])
    with transaction.atomic():
        _lock(wait=True)
        facts = list(TicketFact.objects.filter(ticket_id__in=ids))
        _rollups_add(_deltas((fact, None) for fact in facts))
        TicketFact.objects.filter(ticket_id__in=ids).delete()
    started = time.monotonic()
    for start in range(0, len(ids), 2000):
        with transaction.atomic():
            _lock(wait=True)
            _refresh(ids[start : start + 2000])
    elapsed = time.monotonic() - started
    log(f"python refresh: {len(ids):,} tickets in {elapsed:.1f}s")
    return len(ids) / elapsed if elapsed else 0.0


def full_rebuild() -> dict[str, float]:
    """`facts_rebuild` from the tickets: every fact and rollup dropped and made again, timed
    whole and by phase (the facts chunk by chunk, then the rollups summed once)."""
    from analytics.casefacts import casefacts_rebuild
    from analytics.facts import facts_rebuild
    from tickets.models import Ticket

    total = Ticket.objects.count()
    step = max(1, total // 10)
    started = time.monotonic()
    summed_from: list[float] = []
    logged = [0]

    def progress(done: int, _total: int) -> None:
        if done - logged[0] >= step:
            logged[0] = done
            elapsed = time.monotonic() - started
            log(f"full rebuild: {done:,} facts in {elapsed:.0f}s ({done / elapsed:,.0f}/s)")

    done = facts_rebuild(progress=progress, summing=lambda: summed_from.append(time.monotonic()))
    tickets_done = time.monotonic()
    facts_s = (summed_from[0] if summed_from else tickets_done) - started
    log(f"full rebuild of {done:,} tickets in {tickets_done - started:.0f}s (facts {facts_s:.0f}s)")
    # The after-sales case facts and their rollups, as the command rebuilds them next.
    cases = casefacts_rebuild()
    ended = time.monotonic()
    log(f"case facts rebuilt for {cases:,} cases in {ended - tickets_done:.0f}s")
    return {
        "s": ended - started,
        "facts_s": facts_s,
        "rollups_s": tickets_done - started - facts_s,
        "facts_per_s": done / facts_s if facts_s else 0.0,
        "cases": cases,
        "cases_s": ended - tickets_done,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--stream-rate", type=float, default=3.0)
    parser.add_argument("--stream-seconds", type=float, default=90.0)
    parser.add_argument("--python-sample", type=int, default=10_000)
    parser.add_argument("--reuse", action="store_true", help="time over the last run's data")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="with --reuse: migrate and sum the rollups again from the facts first (timed)",
    )
    parser.add_argument("--seed-only", action="store_true", help="seed, sum the rollups and stop")
    parser.add_argument(
        "--no-full-rebuild",
        action="store_true",
        help="time the pages and the lag only (rebuild_s null; --rebuild-only times it alone)",
    )
    parser.add_argument(
        "--rebuild-only",
        action="store_true",
        help="seed the tickets alone and time the full rebuild of facts and rollups; no pages",
    )
    args = parser.parse_args()
    if not args.reuse:
        recreate_database()
    setup_django()
    from django.db import connection

    from analytics.facts import GRAINS, rollups_rebuild
    from analytics.models import TicketFact

    figures: dict[str, Any] = {}
    rollups_s = None
    if args.rebuild_only:
        if not args.reuse:
            people = seed_people()
            figures["seed_s"] = {
                k: r(v, 0) for k, v in seed_tickets(args.tickets, people, facts=False).items()
            }
            vacuum()
        rebuilt = full_rebuild()
        emit(
            {
                "tickets": args.tickets,
                "rebuild_s": r(rebuilt["s"], 1),
                "rebuild_facts_s": r(rebuilt["facts_s"], 1),
                "rebuild_rollups_s": r(rebuilt["rollups_s"], 1),
                "rebuild_facts_per_s": r(rebuilt["facts_per_s"], 0),
                "rebuild_cases": rebuilt["cases"],
                "rebuild_cases_s": r(rebuilt["cases_s"], 1),
                **figures,
            }
        )
        return
    if args.reuse:
        args.tickets = TicketFact.objects.count()
    else:
        people = seed_people()
        figures["seed_s"] = {k: r(v, 0) for k, v in seed_tickets(args.tickets, people).items()}
        figures["aftersales"] = seed_cases(args.tickets)
    if not args.reuse or args.rebuild:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.monotonic()
        rows = rollups_rebuild()
        rollups_s = time.monotonic() - started
        log(f"rollups rebuilt from the facts in {rollups_s:.0f}s: {rows}")
        vacuum()
    if args.seed_only:
        emit({"tickets": args.tickets, "rollups_rebuild_s": r(rollups_s or 0.0, 1), **figures})
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        figures["database_gb"] = r(cursor.fetchone()[0] / 1e9, 1)
    figures["rollup_rows"] = {
        grain.model._meta.db_table: grain.model._default_manager.count() for grain in GRAINS
    }
    pages = time_pages(args.repeat)
    lag = rollup_lag(rate=args.stream_rate, seconds=args.stream_seconds)
    rate = python_refresh_rate(args.python_sample) if args.python_sample else None
    whole = None if args.no_full_rebuild else full_rebuild()
    worst = max(p["p99_ms"] or 0.0 for p in pages.values())
    figures.update(
        {
            "lag": lag,
            "python_refresh_tickets_per_s": r(rate, 0) if rate else None,
            "rebuild_what": "every fact from the tickets, then every rollup from the facts",
            "target_p99_ms": TARGET_P99_MS,
            "target_lag_s": TARGET_LAG_S,
            "tickets": args.tickets,
            "pages": pages,
            "page_p99_ms_max": worst,
            "rollup_lag_s": lag["max_s"],
            "rollups_rebuild_s": r(rollups_s, 1) if rollups_s is not None else None,
        }
    )
    if whole is None:
        figures["rebuild_s"] = None
    else:
        figures.update(
            {
                "rebuild_s": r(whole["s"], 1),
                "rebuild_facts_s": r(whole["facts_s"], 1),
                "rebuild_rollups_s": r(whole["rollups_s"], 1),
                "rebuild_facts_per_s": r(whole["facts_per_s"], 0),
                "rebuild_cases": whole["cases"],
                "rebuild_cases_s": r(whole["cases_s"], 1),
            }
        )
    emit(figures)


if __name__ == "__main__":
    main()
