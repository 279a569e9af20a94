from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KbConfig(AppConfig):
    name = "kb"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from celery.signals import worker_init

        worker_init.connect(_warm_up_worker, weak=False, dispatch_uid="kb.warm_up")


def _warm_up_worker(**_: Any) -> None:
    """A Celery worker loads the triage models and jieba once, before it takes tasks (and
    before a prefork pool forks, so its processes share them) rather than on its first
    message. The database connection this opened is closed again: forked processes must not
    share it."""
    import logging

    from django.db import connections

    from kb.triage import triage_warm_up

    try:
        triage_warm_up()
    except Exception:
        logging.getLogger("kefu.kb").exception("warm-up failed; models load on first use")
    finally:
        connections.close_all()
