"""Embedded mode's stand-in for Celery beat: runs the beat schedule's tasks in-process."""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger("kefu.ticker")


def ticker_start() -> threading.Event:
    """Run every entry of CELERY_BEAT_SCHEDULE at its interval in a daemon thread.
    Set the returned event to stop it."""
    from kefu.celery import app

    app.loader.import_default_modules()
    schedule = {
        name: (str(entry["task"]), float(entry["schedule"]))  # type: ignore[arg-type]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    stop = threading.Event()
    next_run = {name: time.monotonic() + interval for name, (_task, interval) in schedule.items()}
    step = min(interval for _task, interval in schedule.values())

    def run() -> None:
        while not stop.wait(min(step, 1.0)):
            now = time.monotonic()
            for name, (task, interval) in schedule.items():
                if now < next_run[name]:
                    continue
                next_run[name] = now + interval
                try:
                    app.tasks[task]()
                except Exception:
                    logger.exception("embedded ticker: %s failed", task)
                finally:
                    close_old_connections()

    threading.Thread(target=run, name="kefu-ticker", daemon=True).start()
    logger.info("embedded ticker running %s", ", ".join(sorted(schedule)))
    return stop
