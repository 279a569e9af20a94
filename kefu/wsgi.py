"""WSGI entry point: plain HTTP under gunicorn in production (see docs/adr/0001)."""

import os

from django.core.wsgi import get_wsgi_application

from kefu.heap import heap_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")

application = get_wsgi_application()
heap_freeze()  # last: what is loaded by now lives as long as the process
