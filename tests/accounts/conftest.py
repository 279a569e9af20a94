import pytest


@pytest.fixture(autouse=True)
def _sign_in_settings(settings):  # type: ignore[no-untyped-def]
    """The lockout is on here whatever the environment says. These tests check many
    passwords; the production hasher's deliberate slowness is not what they are about."""
    settings.AXES_ENABLED = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
