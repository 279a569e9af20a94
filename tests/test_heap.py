"""The processes that live long keep what they loaded out of the garbage collector's way:
the web entry points when imported, each Celery pool process once forked."""

import gc

from celery.signals import worker_process_init

from kefu.heap import heap_freeze


def test_heap_freeze_moves_the_loaded_objects_out_of_the_collectors_way() -> None:
    gc.unfreeze()
    try:
        heap_freeze()
        assert gc.get_freeze_count() > 10_000  # Django, the apps and their modules
    finally:
        gc.unfreeze()


def test_a_celery_pool_process_freezes_its_heap_once_forked() -> None:
    import kefu.celery  # noqa: F401  (connects the receivers)

    gc.unfreeze()
    try:
        worker_process_init.send(sender=None)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
