"""Each test starts with empty in-process caches that check the database on every call."""

import pytest

from kb import search, selectors, triage
from kb.text import dictionary_sync


@pytest.fixture(autouse=True)
def _fresh_kb_caches():  # type: ignore[no-untyped-def]
    for cache in (triage.config_cache, search.index_cache):
        cache.clear()
        cache.check_seconds = 0.0
    search.index_reset()
    selectors._loaded_models.clear()
    yield
    for cache in (triage.config_cache, search.index_cache):
        cache.clear()
        cache.check_seconds = 3.0
    search.index_reset()
    selectors._loaded_models.clear()
    dictionary_sync([])
