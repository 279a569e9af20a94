"""The web processes' heap, kept out of the garbage collector's way.

Everything a web process loads before its first request (Django, the apps, their modules,
settings and URL patterns) lives as long as the process. Left to the cyclic collector,
every full collection walks all of it: about 250,000 objects and 150 ms, which landed
inside an unlucky request about once in thirty on a year's report page. `heap_freeze` moves
them into the permanent generation once loading is done, so a full collection walks only
what requests made (`gc.freeze`, Python 3.7+). The WSGI and ASGI entry points call it last;
each Celery pool process calls it once forked (kefu/celery.py). On the feedback benchmark's
batches (500 resolutions, invitations or SMS replies at a time) it took 5–12 % off each
phase at full size.
"""

import gc


def heap_freeze() -> None:
    # The URL patterns and the views they import are loaded on the first request otherwise:
    # load them now, so that they are frozen too and no request waits for them.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (loads the URLconf)
    gc.collect()
    gc.freeze()
