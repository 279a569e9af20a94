"""The Celery app. Task modules are discovered in every installed app."""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")

app = Celery("kefu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _heap_freeze(**_: object) -> None:
    """A pool process, once forked with Django and the tasks loaded, keeps them out of the
    garbage collector's way, as the web processes do (kefu/heap.py): a batch of 500 status
    changes or invitations makes enough objects to set off full collections, each of which
    would walk every module and model the process has loaded."""
    from kefu.heap import heap_freeze

    heap_freeze()


@worker_process_shutdown.connect
def _flush_realtime(**_: object) -> None:
    """A pool process may end with os._exit, which skips atexit: send its queued live
    events first."""
    from kefu import realtime

    realtime.flush()


logger = logging.getLogger("kefu.celery")


def task_queue(task: Any, *args: Any) -> bool:
    """Queue `task` after a commit; False, with an error logged, when the broker cannot be
    reached (a Redis outage). Raising would turn a request whose writes have already
    committed (an agent's reply, an SMS webhook's intake) into a 500 and change nothing."""
    try:
        task.delay(*args)
    except OperationalError as error:
        logger.error("could not queue %s%r: %s", task.name, args, error)
        return False
    return True
