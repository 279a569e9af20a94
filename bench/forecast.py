"""The contact forecast and staffing plan on a year of history.

    .venv/bin/python bench/forecast.py [--days 365] [--per-day 1000]

Recreates its own database (`kefu_bench_forecast`; BENCH_DATABASE_URL may name another whose
name contains "bench"), migrates, and copies `--days` days of ticket facts ending yesterday
into `analytics_ticketfact`: about `--per-day` contacts a day (weekday/weekend pattern, a
slow upward trend, a morning and an evening peak, Poisson noise) over six channels. Then it
times, in this process:

- `history_s`: the database's count per channel and half hour (`history_load`);
- `compute_s`: a whole `forecast_compute` (history, two Holt-Winters fits per channel for the
  forecast and the backtest, storing the run), after one untimed run that imports statsmodels;
- `read_s` and `plan_s`: reading the stored forecast with shop events (`forecast_latest`)
  and building the 14-day staffing plan from it (`plan_build`), what each page view costs;

and reports the backtest's accuracy (daily MAPE and interval WAPE, all channels). Drops the
database at the end unless `--keep`. The last line of stdout is one JSON object.
Targets: compute_s <= 60, read_s + plan_s <= 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kefu_bench_forecast"
)

import argparse  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

from bench.common import emit, log, r, recreate_database, setup_django  # noqa: E402

CHANNELS = {"app": 0.35, "chat": 0.25, "phone": 0.15, "sms": 0.1, "email": 0.1, "web": 0.05}
WEEKLY = [1.0, 0.95, 0.9, 0.95, 1.05, 1.3, 1.25]


def seed(days: int, per_day: int) -> int:
    import numpy as np
    from django.db import connection
    from django.utils import timezone

    rng = np.random.default_rng(20261204)
    shape = np.zeros(48)
    shape[14:46] = 1.0
    shape[19:24] += 1.5
    shape[39:43] += 2.0
    shape /= shape.sum()
    tz = timezone.get_default_timezone()
    first = timezone.localdate() - timedelta(days=days)
    now = timezone.now()
    rows = 0
    started = time.monotonic()
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY analytics_ticketfact (ticket_id, created_at, channel, category, tier, "
            "customer_id, is_open, agent_replies, bot_replies, reopens, repeat_contact, "
            "sentiment_sum, sentiment_count, refreshed_at) FROM STDIN"
        ) as copy:
            for d in range(days):
                day = first + timedelta(days=d)
                midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
                level = per_day * WEEKLY[day.weekday()] * (1 + 0.3 * d / max(days, 1))
                for channel, share in CHANNELS.items():
                    counts = rng.poisson(level * share * shape)
                    for slot in np.nonzero(counts)[0]:
                        for _ in range(int(counts[slot])):
                            rows += 1
                            at = midnight + timedelta(
                                seconds=int(slot) * 1800 + int(rng.integers(1800))
                            )
                            copy.write_row(
                                (
                                    rows,
                                    at,
                                    channel,
                                    "",
                                    "regular",
                                    1,
                                    False,
                                    1,
                                    0,
                                    0,
                                    False,
                                    0.0,
                                    0,
                                    now,
                                )
                            )
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_ticketfact")
    log(f"{rows:,} facts over {days} days copied in {time.monotonic() - started:.1f}s")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    recreate_database()
    setup_django()
    from django.utils import timezone

    from analytics import forecast, staffing

    facts = seed(args.days, args.per_day)
    forecast.forecast_compute()  # untimed: imports statsmodels and warms the caches

    started = time.monotonic()
    forecast.history_load(end=timezone.localdate())
    history_s = time.monotonic() - started

    started = time.monotonic()
    run = forecast.forecast_compute()
    compute_s = time.monotonic() - started

    started = time.monotonic()
    current = forecast.forecast_latest()
    read_s = time.monotonic() - started
    assert current is not None
    started = time.monotonic()
    plan = staffing.plan_build(current, staffing.settings_current())
    plan_s = time.monotonic() - started

    overall = run.accuracy.get("", {})
    figures = {
        "bench": "forecast",
        "facts": facts,
        "days": args.days,
        "channels": len(run.forecast),
        "history_s": r(history_s, 3),
        "compute_s": r(compute_s, 2),
        "read_s": r(read_s, 3),
        "plan_s": r(plan_s, 3),
        "peak_required": max(plan.required) if plan.required else 0,
        "backtest_mape_daily": r(overall.get("mape") or float("nan"), 4),
        "backtest_wape_interval": r(overall.get("wape") or float("nan"), 4),
        "targets_met": compute_s <= 60 and read_s + plan_s <= 1,
    }
    if not args.keep:
        from django.db import connections

        from bench.common import _database_parts

        connections.close_all()
        import psycopg

        name, params = _database_parts()
        with psycopg.connect(**params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    emit(figures)


if __name__ == "__main__":
    main()
