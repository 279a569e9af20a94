"""Report pages over a year of history: how long each page takes to build from the facts and
rollups, in process (no HTTP server: the figures are the view's own time, queries included).

Seeds `--tickets` (default 200,000) ticket facts spread over 365 days, 4 teams and 20 agents,
with SLA outcomes, and their rollups through the same code the live refresh uses
(analytics.facts._deltas/_rollups_add); then times each report page, the scorecard and the
ranking for a 7-day, a 31-day and a 365-day period, `--repeat` times each, and reports the
median and worst in ms. Target: every page's median under 1 s for a whole year.

    .venv/bin/python bench/report_pages.py [--tickets 200000] [--repeat 5]

Uses its own database (`kefu_bench_reports` unless BENCH_DATABASE_URL says otherwise), dropped
and recreated.
"""

import sys
from pathlib import Path

# Run as a script, bench/ would come first on sys.path, where bench/email.py shadows the
# standard library's `email`: put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kefu_bench_reports")

from bench.common import emit, log, r, recreate_database, setup_django  # noqa: E402

TARGET_MS = 1000.0
CHANNELS = ["app", "web", "phone", "email", "sms"]
CATEGORIES = ["logistics", "after_sales", "tech", "value_added", ""]
TIERS = ["urgent", "regular", "value_added"]


def seed(tickets: int, rng: random.Random) -> dict[str, int]:
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from analytics.facts import _deltas, _rollups_add
    from analytics.models import TicketFact
    from sla.models import SlaPolicy
    from tickets.models import Agent, Department, Team

    teams = [
        Team.objects.create(name=f"团队 {n}", department=Department.CUSTOMER_SERVICE)
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
    policies = list(SlaPolicy.objects.values_list("pk", flat=True))
    now = timezone.now()
    started = time.monotonic()
    chunk: list[TicketFact] = []

    def flush() -> None:
        TicketFact.objects.bulk_create(chunk)
        _rollups_add(_deltas((None, fact) for fact in chunk))
        chunk.clear()

    for pk in range(1, tickets + 1):
        created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        agent = rng.choice(agents)
        first = created + timedelta(minutes=rng.lognormvariate(2.6, 1.0))
        resolved: datetime | None = created + timedelta(hours=rng.lognormvariate(1.0, 1.0))
        if resolved is not None and resolved > now:
            resolved = None
        met = rng.random() < 0.88
        chunk.append(
            TicketFact(
                ticket_id=pk,
                created_at=created,
                channel=rng.choice(CHANNELS),
                category=rng.choice(CATEGORIES),
                tier=rng.choice(TIERS),
                team_id=teams[agents.index(agent) % 4].pk,
                agent_id=agent.pk,
                customer_id=rng.randrange(1, tickets // 3 + 2),
                is_open=resolved is None,
                first_response_at=first,
                first_response_wall_s=int((first - created).total_seconds()),
                first_response_business_s=int((first - created).total_seconds()),
                resolved_at=resolved,
                resolution_wall_s=int((resolved - created).total_seconds()) if resolved else None,
                resolution_business_s=None,
                agent_replies=1,
                bot_replies=0,
                reopens=0,
                first_contact_resolved=(rng.random() < 0.8) if resolved else None,
                bot_deflected=False if resolved else None,
                repeat_contact=rng.random() < 0.1,
                sentiment_sum=0.0,
                sentiment_count=0,
                sla_policy_id=rng.choice(policies),
                sla_first_response_at=first,
                sla_first_response_met=met,
                sla_resolution_at=resolved,
                sla_resolution_met=(rng.random() < 0.95) if resolved else None,
                refreshed_at=now,
            )
        )
        if len(chunk) == 5000:
            flush()
            log(f"seeded {pk:,} facts")
    flush()
    from analytics.models import DailyRollup

    log(f"seeded {tickets:,} facts in {time.monotonic() - started:.0f}s")
    return {"agent": agents[0].pk, "rollup_rows": DailyRollup.objects.count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reuse", action="store_true", help="time the pages over the last run's data"
    )
    args = parser.parse_args()
    if not args.reuse:
        recreate_database()
    setup_django()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from analytics.models import DailyRollup, TicketFact
    from tickets.models import Agent

    if args.reuse:
        args.tickets = TicketFact.objects.count()
        seeded = {
            "agent": Agent.objects.get(user__username="agent0").pk,
            "rollup_rows": DailyRollup.objects.count(),
        }
    else:
        seeded = seed(args.tickets, random.Random(7))
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
    today = timezone.localdate()
    paths = {
        "overview": "/reports/",
        "sla": "/reports/sla/",
        "channels": "/reports/channels/",
        "categories": "/reports/categories/",
        "agents": "/reports/agents/",
        "quality": "/reports/quality/",
        "scorecard": f"/reports/scorecards/{seeded['agent']}/",
        "sla_export": "/reports/sla/agents.csv",
    }
    figures: dict[str, object] = {"tickets": args.tickets, "rollup_rows": seeded["rollup_rows"]}
    worst_median = 0.0
    for days in (7, 31, 365):
        query = {"start": (today - timedelta(days=days - 1)).isoformat(), "end": today.isoformat()}
        for name, path in paths.items():
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(path, query)
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            median = statistics.median(times)
            worst_median = max(worst_median, median) if days == 365 else worst_median
            figures[f"{name}_{days}d_ms_p50"] = r(median, 1)
            figures[f"{name}_{days}d_ms_max"] = r(max(times), 1)
            log(f"{name:>12} {days:>3} days: p50 {median:7.1f} ms, max {max(times):7.1f} ms")
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        assert client.get("/reports/ranking/", {"month": month}).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    figures["ranking_month_ms_p50"] = r(statistics.median(times), 1)
    figures["year_worst_page_ms_p50"] = r(worst_median, 1)
    figures["target_ms"] = TARGET_MS
    figures["year_pages_met"] = worst_median < TARGET_MS
    emit(figures)


if __name__ == "__main__":
    main()
