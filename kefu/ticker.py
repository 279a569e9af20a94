"""Embedded mode's stand-in for Celery beat: runs the beat schedule's tasks in-process."""

import logging
import threading
import time

from celery.schedules import BaseSchedule
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger("kefu.ticker")


def ticker_start() -> threading.Event:
    """Run every entry of CELERY_BEAT_SCHEDULE at its interval (or, for a crontab, at its
    next time) in a daemon thread. Set the returned event to stop it."""
    from kefu.celery import app

    app.loader.import_default_modules()
    schedule = {
        name: (str(entry["task"]), entry["schedule"])
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    stop = threading.Event()
    next_run = {
        name: time.monotonic() + seconds_to_next_run(when)
        for name, (_task, when) in schedule.items()
    }

    # Often enough for the shortest interval (a test's SLA tick may be under a second).
    step = min([1.0, *(float(when) for _task, when in schedule.values() if _is_interval(when))])

    def run() -> None:
        while not stop.wait(step):
            now = time.monotonic()
            for name, (task, when) in schedule.items():
                if now < next_run[name]:
                    continue
                next_run[name] = now + seconds_to_next_run(when)
                try:
                    app.tasks[task]()
                except Exception:
                    logger.exception("embedded ticker: %s failed", task)
                finally:
                    close_old_connections()

    threading.Thread(target=run, name="kefu-ticker", daemon=True).start()
    logger.info("embedded ticker running %s", ", ".join(sorted(schedule)))
    return stop


def seconds_to_next_run(when: object) -> float:
    """A beat entry's schedule as seconds from now: an interval as it is, a crontab (or any
    Celery schedule) as the time left until its next run."""
    if isinstance(when, BaseSchedule):
        return max(when.remaining_estimate(when.now()).total_seconds(), 1.0)
    if _is_interval(when):
        return float(when)  # type: ignore[arg-type]
    raise TypeError(f"unsupported beat schedule: {when!r}")


def _is_interval(when: object) -> bool:
    return isinstance(when, int | float)
