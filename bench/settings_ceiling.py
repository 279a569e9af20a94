"""Kefu's settings, with bench/urls.py as the URL conf: Kefu's URLs plus the ceiling view.

The intake benchmark serves Kefu's API and the ceiling from one gunicorn with these settings,
so both endpoints run with the same workers, middleware, database and environment.
"""

from kefu.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
