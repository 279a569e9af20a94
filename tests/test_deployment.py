"""Production is never inferred: embedded mode is asked for, production refuses the demo's
secret, and `check --deploy` is clean on the docker-compose settings."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
_SERVICE_VARIABLES = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "KEFU_EMBEDDED", "DEBUG"}


def _run(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in _SERVICE_VARIABLES}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "kefu.settings", **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_redis_and_without_a_secret_key_production_refuses_to_start():
    done = _run("import django; django.setup()")

    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_production_refuses_the_demo_secret_key():
    from kefu import settings as kefu_settings

    done = _run("import django; django.setup()", SECRET_KEY=kefu_settings._INSECURE_DEMO_KEY)

    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_embedded_mode_is_chosen_explicitly_and_then_needs_no_secret():
    code = "from django.conf import settings as s; print(s.EMBEDDED, s.SECURE_SSL_REDIRECT)"

    done = _run(f"import django; django.setup(); {code}", KEFU_EMBEDDED="true")

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


def _compose_environment() -> dict[str, str]:
    """The variables docker-compose.yml gives Kefu's containers, `${X:-default}` resolved to
    its default and the required SECRET_KEY to a fresh random one."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    environment = compose["x-kefu"]["environment"]
    resolved = {}
    for name, value in environment.items():
        value = str(value)
        if name == "SECRET_KEY":
            value = secrets.token_urlsafe(50)
        resolved[name] = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
    assert "${" not in "".join(resolved.values()), resolved
    return resolved


def test_check_deploy_is_clean_on_the_docker_compose_settings():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in _SERVICE_VARIABLES},
            **_compose_environment(),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("peer", "redirected"),
    [("127.0.0.1", False), ("203.0.113.9", True)],
    ids=["trusted-proxy", "direct-client"],
)
def test_x_forwarded_proto_is_believed_from_a_trusted_proxy_only(settings, peer, redirected):
    settings.SECURE_SSL_REDIRECT = True
    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1"]

    response = Client().get("/accounts/login/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_PROTO="https")

    assert (response.status_code == 301) is redirected
    if redirected:
        assert response["Location"].startswith("https://")


def test_trusted_proxies_may_be_networks(settings):
    from kefu.middleware import peer_is_trusted_proxy

    settings.KEFU_TRUSTED_PROXIES = ["172.16.0.0/12", "::1"]

    assert peer_is_trusted_proxy("172.18.0.5")
    assert peer_is_trusted_proxy("::1")
    assert not peer_is_trusted_proxy("192.0.2.1")
    assert not peer_is_trusted_proxy("not an address")


@pytest.mark.django_db
def test_demo_data_is_refused_outside_embedded_mode_unless_forced(settings):
    settings.EMBEDDED = False

    with pytest.raises(CommandError, match="embedded mode"):
        call_command("seed_demo")


@pytest.mark.django_db
def test_run_embedded_is_refused_outside_embedded_mode(settings):
    settings.EMBEDDED = False

    with pytest.raises(CommandError, match="KEFU_EMBEDDED=true"):
        call_command("run_embedded", "--no-demo")
