"""Which real services this run has, and markers that skip a test, with the reason, without
them. Real PostgreSQL and Redis are used when DATABASE_URL / REDIS_URL are set."""

import os

import pytest
from django.conf import settings

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
HAS_REDIS = bool(os.environ.get("REDIS_URL"))

requires_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs PostgreSQL (set DATABASE_URL)",
)
requires_redis = pytest.mark.skipif(not HAS_REDIS, reason="needs Redis (set REDIS_URL)")
