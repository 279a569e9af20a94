"""Real Celery workers for the SLA engine's tests: subprocesses on the pytest database.

A worker runs `celery -A kefu worker` (optionally with an embedded beat) with production
settings: PostgreSQL (the test database the test itself sees, so both sides share committed
rows), Redis as broker, cache and channel layer, eager mode off and a 1 s SLA tick. Its Redis
is a database number of its own (`BROKER_DB`), emptied when a pool starts and when it stops,
so queued ticks never leak from one test into the next or into other suites' Redis.

Every worker is a process group of its own: SIGKILL reaches the embedded beat as well, and
`WorkerPool.stop_all` leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import redis
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
BROKER_DB = 9
TICK_SECONDS = 1

_SUCCEEDED = re.compile(r"sla\.tasks\.sla_tick\[[^\]]+\] succeeded in [0-9.]+s: (\{[^}]*\})")


def database_url(settings: Mapping[str, Any]) -> str:
    """A DATABASE_URL for a Django connection's settings (the pytest database's)."""
    user = quote(settings.get("USER") or "postgres", safe="")
    password = settings.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(settings['NAME'], safe='')}"


def broker_url(redis_url: str) -> str:
    """The same Redis server as `redis_url`, database `BROKER_DB`."""
    parts = urlsplit(redis_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{BROKER_DB}", "", ""))


class Worker:
    """One `celery worker` process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # closed in stop()
        # The argv is ours: the venv's celery with fixed options.
        self.proc = subprocess.Popen(  # noqa: S603
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the worker consumes from the broker (Celery logs "<name>@<host> ready.")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if not self.alive():
                raise RuntimeError(f"worker {self.name} exited early:\n{self.log()}")
            time.sleep(0.05)
        raise TimeoutError(f"worker {self.name} not ready after {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the whole group at once: no warm shutdown, no acks, no rollback hooks."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # The embedded beat or a pool child may outlive a master that already exited.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self._log.close()

    def ticks_breached(self) -> list[int]:
        """The `breached` count of each tick this worker finished, from its log."""
        counts = []
        for match in _SUCCEEDED.finditer(self.log()):
            found = re.search(r"'breached': (\d+)", match.group(1))
            if found:
                counts.append(int(found.group(1)))
        return counts


class WorkerPool:
    """The workers of one test, on the database `database` (a connection's settings)."""

    def __init__(self, *, database: Mapping[str, Any], redis_url: str, directory: Path) -> None:
        self.directory = directory
        self.broker = broker_url(redis_url)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kefu.settings",
            "DATABASE_URL": database_url(database),
            "REDIS_URL": self.broker,
            "CELERY_BROKER_URL": self.broker,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "KEFU_EMBEDDED": "false",
            "SECRET_KEY": "sla-worker-tests",
            "SLA_TICK_SECONDS": str(TICK_SECONDS),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.workers: list[Worker] = []
        self._flush()

    def _flush(self) -> None:
        client = redis.Redis.from_url(self.broker)
        try:
            client.flushdb()
        finally:
            client.close()

    def start(self, name: str, *, beat: bool) -> Worker:
        argv = [
            str(CELERY),
            "-A",
            "kefu",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}@%h",
        ]
        if beat:
            # The schedule file in the test's own directory: a fresh beat, as after a restart.
            argv += ["--beat", "--schedule", str(self.directory / f"{name}-beat-schedule")]
        worker = Worker(name, argv, self.env, self.directory / f"{name}.log")
        self.workers.append(worker)
        return worker

    def send_ticks(self, count: int) -> None:
        """Queue `count` runs of `sla.tasks.sla_tick`, as beat would (by name, no result)."""
        client = Celery("kefu-sla-tests", broker=self.broker, set_as_current=False)
        try:
            for _ in range(count):
                client.send_task("sla.tasks.sla_tick")
        finally:
            client.close()

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()
        self._flush()

    def logs(self) -> str:
        return "\n".join(
            f"----- worker {worker.name} (exit {worker.proc.returncode}) -----\n{worker.log()}"
            for worker in self.workers
        )


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
