"""The retailer's words a knowledge-base test taught the segmenter are taken out afterwards,
so that no later test segments with them. (Every test starts with empty caches: see
`_test_environment` in tests/conftest.py.)"""

import pytest

from kb.text import dictionary_sync


@pytest.fixture(autouse=True)
def _dictionary_emptied():  # type: ignore[no-untyped-def]
    yield
    dictionary_sync([])
