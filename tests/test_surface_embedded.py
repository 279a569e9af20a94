"""`make run PORT=…` serves on that port, and the embedded server logs one line per request."""

import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(("args", "port"), [([], "8000"), (["PORT=8017"], "8017")])
def test_make_run_serves_on_the_port_given(args, port):
    make = shutil.which("make") or "make"
    dry = subprocess.run(  # noqa: S603
        [make, "-n", "-o", ".venv/.installed", "run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert f"run_embedded 127.0.0.1:{port}" in dry
    assert f"http://127.0.0.1:{port}" in dry


def test_the_servers_request_lines_reach_the_console():
    # daphne's runserver logs each request (method, path, status, seconds) on this logger.
    logger = logging.getLogger("django.channels.server")

    assert logger.isEnabledFor(logging.INFO)
    assert settings.LOGGING["loggers"]["django.channels.server"]["level"] == "INFO"
    assert any(handler.name == "console" for handler in logging.getLogger().handlers)
