"""The Celery app. Task modules are discovered in every installed app."""

import os

from celery import Celery
from celery.signals import worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")

app = Celery("kefu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_shutdown.connect
def _flush_realtime(**_: object) -> None:
    """A pool process may end with os._exit, which skips atexit: send its queued live
    events first."""
    from kefu import realtime

    realtime.flush()
