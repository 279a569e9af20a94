"""A private Redis server for the fault suite, which the tests may kill and start again
without touching the Redis the rest of the suite uses."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.support.environment import HAS_REDIS, ON_POSTGRES


def fault_marks(why_postgres: str) -> list[pytest.MarkDecorator]:
    """What every fault test is marked with: `faults`, skipped (with the reason) without
    PostgreSQL, Redis or redis-server, and on committed rows that the worker processes see
    (the seed data comes back after)."""
    return [
        pytest.mark.faults,
        pytest.mark.skipif(
            not ON_POSTGRES, reason=f"needs PostgreSQL (set DATABASE_URL): {why_postgres}"
        ),
        pytest.mark.skipif(not HAS_REDIS, reason="needs Redis (set REDIS_URL)"),
        pytest.mark.skipif(not PrivateRedis.available(), reason="needs redis-server to start one"),
        pytest.mark.django_db(transaction=True, serialized_rollback=True),
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """`redis-server` on a port of its own, keeping nothing on disk (as production's broker
    would lose its queue on a crash without persistence)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError):
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return
            time.sleep(0.05)
        raise TimeoutError(f"redis-server on {self.port} did not start")

    def kill(self) -> None:
        """SIGKILL: whatever was queued in it is gone."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        self.kill()


def postgres_cluster() -> tuple[str, str] | None:
    """The (version, name) of the local PostgreSQL cluster this machine runs, if the suite may
    restart it: Debian's pg_ctlcluster is there and we are root (as in CI)."""
    import os

    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        return None
    clusters = sorted(Path("/etc/postgresql").glob("*/main"))
    return (clusters[-1].parent.name, "main") if clusters else None


def postgres_restart_fast(cluster: tuple[str, str]) -> None:
    """Restart the cluster with a fast shutdown: open transactions are rolled back and every
    connection is cut, as when the database server is restarted under load."""
    version, name = cluster
    subprocess.run(  # noqa: S603
        [
            shutil.which("pg_ctlcluster") or "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            name,
            "restart",
            "-m",
            "fast",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
