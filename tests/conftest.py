"""Shared fixtures. Real PostgreSQL and Redis are used when DATABASE_URL / REDIS_URL are set."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from kefu.celery import app as celery_app
from sla.selectors import calendar_cache_clear
from tests.factories import TeamFactory, issue_token, make_agent
from tests.support.environment import HAS_REDIS
from tickets.delivery import backend_for
from tickets.orders import orders_backend


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    database = django_settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = django_settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"kefu: database={database} channel layer={layer} redis={'yes' if HAS_REDIS else 'no'}"]


def pytest_configure(config: pytest.Config) -> None:
    """The static files middleware serves STATIC_ROOT and warns when the folder is missing
    (`collectstatic` makes it in production, `run_embedded` in embedded mode). Made before any
    test module is collected: some build the ASGI application at import."""
    Path(django_settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    # The test client and the live servers speak plain HTTP, where production settings would
    # redirect every request to https and keep cookies for https only.
    # tests/test_deployment.py checks the production values themselves.
    django_settings.SECURE_SSL_REDIRECT = False
    django_settings.SESSION_COOKIE_SECURE = False
    django_settings.CSRF_COOKIE_SECURE = False
    django_settings.SECURE_HSTS_SECONDS = 0


@pytest.fixture(autouse=True)
def _site_language():  # type: ignore[no-untyped-def]
    """Every test starts in the site's default language, whatever a test before it left
    active in this thread."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _test_environment(settings):  # type: ignore[no-untyped-def]
    """Celery runs eagerly inside the test; static files need no collectstatic; caches and the
    delivery backend lookup start empty."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.RATELIMIT_ENABLE = False
    # Every edge takes a payload in before answering; tests of queued intake turn this on.
    settings.INBOUND_QUEUED = False
    # A new ticket's acknowledgement on the channels other than email (the one that had it
    # first, and whose tests expect it) is off: tests count the messages a ticket holds.
    # tests/tickets/test_surface_acknowledgements.py turns it on.
    settings.AUTO_ACKNOWLEDGE = {
        **settings.AUTO_ACKNOWLEDGE,
        **{channel: False for channel in ("sms", "app", "chat", "phone")},
    }
    calendar_cache_clear()
    backend_for.cache_clear()
    orders_backend.cache_clear()
    _kb_caches_reset(check_seconds=0.0)
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    backend_for.cache_clear()
    orders_backend.cache_clear()
    _kb_caches_reset(check_seconds=None)


def _kb_caches_reset(*, check_seconds: float | None) -> None:
    """The knowledge engine caches its rules, models and search index per process; a test's
    rows are rolled back afterwards, so every test starts from empty caches that re-check the
    database on each call."""
    from kb import search, selectors
    from kefu.revisions import revision_caches_reset

    revision_caches_reset(check_seconds=check_seconds)
    search.index_reset()
    selectors.triage_models_unload()


@pytest.fixture
def default_team(db):  # type: ignore[no-untyped-def]
    return TeamFactory(name="客服一组", is_default=True)


@pytest.fixture
def agent(default_team):  # type: ignore[no-untyped-def]
    return make_agent(teams=[default_team])


@pytest.fixture
def supervisor(default_team):  # type: ignore[no-untyped-def]
    return make_agent(teams=[default_team], role="supervisor")


@pytest.fixture
def token(db):  # type: ignore[no-untyped-def]
    return issue_token()


@pytest.fixture
def agent_client(client, agent):  # type: ignore[no-untyped-def]
    client.force_login(agent.user)
    return client


@pytest.fixture(scope="session", autouse=True)
def _close_async_test_connections(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Async tests reach the database from asgiref's one thread for thread-sensitive code,
    which keeps its connection open; close it before the test database is dropped."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
