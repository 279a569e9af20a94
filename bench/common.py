"""Shared pieces of the benchmarks.

- the environment every benchmark runs under (PostgreSQL, Redis, production settings);
- recreating and migrating the bench database, and Django set up in-process against it;
- starting and stopping the servers a benchmark needs (gunicorn, an ASGI server, a Celery
  worker), always stopped again, also on error or Ctrl-C;
- a small asyncio HTTP/1.1 client and a closed-loop load runner, cheap enough on CPU to share
  a 2-core machine with the server under test;
- seeding, percentiles, CPU accounting and the one JSON line every benchmark ends with.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import math
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = ROOT / ".venv" / "bin"
if not (BIN / "gunicorn").exists():
    BIN = Path(sys.executable).parent
PYTHON = sys.executable

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kefu_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"


def bench_env(**overrides: str) -> dict[str, str]:
    """The environment of the bench process and of every server it starts.

    BENCH_DATABASE_URL and BENCH_REDIS_URL may point elsewhere on 127.0.0.1; the database
    is dropped and recreated, so its name must contain "bench".
    """
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
            "SECRET_KEY": "bench",
            "KEFU_EMBEDDED": "false",
            # Production settings, served over plain HTTP on loopback (no proxy, no TLS).
            "SECURE_SSL_REDIRECT": "false",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(overrides)
    settings_module = env.get("DJANGO_SETTINGS_MODULE", "")
    if env.get("BENCH_VARIANTS") and settings_module not in ("", "bench.settings_variants"):
        # Plain-Django variants (bench/variants): the same settings, plus the app that
        # installs them.
        env["BENCH_BASE_SETTINGS"] = settings_module
        env["DJANGO_SETTINGS_MODULE"] = "bench.settings_variants"
    return env


def log(*parts: object) -> None:
    """Progress goes to stderr, so that stdout stays figures and ends with the JSON line."""
    print(*parts, file=sys.stderr, flush=True)


# --- the database ------------------------------------------------------------------------


def _database_parts() -> tuple[str, dict[str, Any]]:
    url = urlsplit(bench_env()["DATABASE_URL"])
    name = url.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    if url.hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("the bench database must be on 127.0.0.1")
    params = {
        "host": url.hostname,
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "dbname": "postgres",
        "autocommit": True,
    }
    if url.password:
        params["password"] = url.password
    return name, params


def manage(command: str) -> None:
    """`manage.py <command> --noinput` against the bench database, production settings."""
    subprocess.run(
        [PYTHON, "manage.py", command, "--noinput", "-v", "0"],
        cwd=ROOT,
        env=bench_env(DJANGO_SETTINGS_MODULE="kefu.settings"),
        check=True,
        timeout=300,
    )


def recreate_database() -> None:
    """Drop and create the bench database, migrate it, and empty the bench Redis database."""
    import psycopg
    import redis

    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()
    name, params = _database_parts()
    started = time.monotonic()
    with psycopg.connect(**params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage("migrate")
    client = redis.Redis.from_url(bench_env()["REDIS_URL"])
    client.flushdb()
    client.close()
    log(f"database {name} recreated and migrated in {time.monotonic() - started:.1f}s")


def collect_static() -> None:
    """The pages render `{% static %}` through the manifest storage of the production
    settings: without `collectstatic`, they could not render at all."""
    from django.conf import settings

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists():
        return
    started = time.monotonic()
    manage("collectstatic")
    log(f"collectstatic in {time.monotonic() - started:.1f}s")


def setup_django(settings_module: str = "kefu.settings") -> None:
    """Django in this process, against the bench database (for seeding and counting)."""
    os.environ.update(bench_env(DJANGO_SETTINGS_MODULE=settings_module))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- seeding (needs setup_django) --------------------------------------------------------


@dataclass
class Seeded:
    team_ids: dict[str, int]
    default_team_id: int
    agent_user_ids: list[int]
    token_key: str = ""


def seed_helpdesk(
    *,
    agents: int = 1,
    routed_teams: bool = False,
    token_name: str = "bench",
    password: str = "",
) -> Seeded:
    """The default team with `agents` agents (users in the `agent` group), optionally the
    routed teams (logistics, after-sales, tech) with one agent each, and an integration token
    issued by `tickets.services.token_issue`."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from tickets.models import Agent, Department, RoutingRule, Team
    from tickets.services.tokens import token_issue

    user_model = get_user_model()
    agent_group = Group.objects.get(name="agent")
    teams = {"default": Team.objects.create(name="客服一组 Bench", department="customer_service")}
    teams["default"].is_default = True
    teams["default"].save(update_fields=["is_default"])
    if routed_teams:
        for category, department in (
            ("logistics", Department.LOGISTICS),
            ("after_sales", Department.AFTER_SALES),
            ("tech", Department.TECH_SUPPORT),
        ):
            teams[category] = Team.objects.create(name=f"{category} bench", department=department)
            RoutingRule.objects.create(category=category, team=teams[category])
    user_ids = []

    def make_agent(username: str, team: Any) -> None:
        user = user_model.objects.create(username=username, first_name=username)
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(agent_group)
        agent = Agent.objects.create(user=user, capacity=20, status="online")
        agent.teams.add(team)
        user_ids.append(user.pk)

    for index in range(agents):
        make_agent(f"agent{index:03d}", teams["default"])
    for key, team in teams.items():
        if key != "default":
            make_agent(f"agent-{key}", team)
    _token, token_key = token_issue(name=token_name, scopes=["inbound:app"], actor=None)
    return Seeded(
        team_ids={key: team.pk for key, team in teams.items()},
        default_team_id=teams["default"].pk,
        agent_user_ids=user_ids,
        token_key=token_key,
    )


# --- processes ---------------------------------------------------------------------------


class Service:
    """One server process in its own process group, logging to bench/out/<name>.log."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str]) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUT / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log(f"started {self.name} (pid {self.proc.pid}): {' '.join(self.argv[:6])} …")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            # The group is this process and the workers it forked; its id is the pid we started.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        # Workers left behind by a master that died first.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self._log.close()
        self.proc = None
        log(f"stopped {self.name}")


class Services(contextlib.AbstractContextManager["Services"]):
    """Started services, stopped in reverse order on exit, on error, on SIGTERM/SIGINT and
    (as a last resort) at interpreter exit."""

    def __init__(self, time_limit: int = 600) -> None:
        self.items: list[Service] = []
        atexit.register(self.stop_all)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
            signal.signal(sig, _raise_exit)
        # A hard bound on the whole benchmark: SIGALRM ends it (and stops the services).
        signal.alarm(time_limit)

    def start(self, service: Service) -> Service:
        self.items.append(service)
        return service.start()

    def stop_all(self) -> None:
        while self.items:
            service = self.items.pop()
            try:
                service.stop()
            except Exception as error:  # keep stopping the others
                log(f"could not stop {service.name}: {error}")

    def __exit__(self, *exc: object) -> None:
        signal.alarm(0)
        self.stop_all()


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, service: Service, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{service.name} exited early:\n{service.tail()}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{service.name} did not listen on {port} in {timeout}s:\n{service.tail()}")


def gunicorn(
    *, port: int, workers: int, threads: int, settings_module: str = "kefu.settings"
) -> Service:
    """Kefu's WSGI app under gunicorn: sync workers when threads == 1, else gthread."""
    argv = [
        str(BIN / "gunicorn"),
        "kefu.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync" if threads == 1 else "gthread",
        "--threads",
        str(threads),
        "--backlog",
        "2048",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]
    return Service("gunicorn", argv, bench_env(DJANGO_SETTINGS_MODULE=settings_module))


def asgi_server(*, port: int, server: str = "uvicorn") -> Service:
    """kefu.asgi (HTTP + websockets) under uvicorn or daphne, one process."""
    if server == "daphne":
        argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "kefu.asgi:application"]
    else:
        argv = [
            str(BIN / "uvicorn"),
            "kefu.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "websockets",
            # As daphne (production) serves them: without per-message compression, which
            # deflates every event once per socket (docs/realtime.md).
            "--ws-per-message-deflate",
            "false",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    return Service(server, argv, bench_env(DJANGO_SETTINGS_MODULE="kefu.settings"))


def celery_worker(*, nice: int = 0, name: str = "celery") -> Service:
    """A Celery worker (solo pool), at a lower CPU priority when `nice` > 0: on one small
    machine the web process then answers first and the worker catches up when the burst is
    over, as a worker on a machine of its own would keep up. `name` tells several apart
    (their node names and logs)."""
    argv = [
        str(BIN / "celery"),
        "-A",
        "kefu",
        "worker",
        "--pool=solo",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"bench-{name}-{os.getpid()}@%h",
    ]
    if nice:
        argv = ["nice", "-n", str(nice), *argv]
    return Service(name, argv, bench_env(DJANGO_SETTINGS_MODULE="kefu.settings"))


# --- CPU accounting ----------------------------------------------------------------------


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [float(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    total = sum(fields[:8])
    return total - idle, total


def busy_percent(before: tuple[float, float], after: tuple[float, float]) -> float:
    busy, total = after[0] - before[0], after[1] - before[1]
    return round(100.0 * busy / total, 1) if total else 0.0


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes of a process group."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            seconds += (int(fields[11]) + int(fields[12])) / tick
    return seconds


def named_cpu_seconds(prefix: str) -> float:
    """CPU seconds of every process whose name starts with `prefix` (e.g. "postgres",
    "redis-server"), including the children they have reaped: for PostgreSQL this counts
    the backends of connections already closed."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        if not raw[raw.index("(") + 1 : raw.rindex(")")].startswith(prefix):
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        seconds += sum(int(value) for value in fields[11:15]) / tick
    return seconds


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- HTTP --------------------------------------------------------------------------------


class HttpError(Exception):
    pass


class HttpConnection:
    """One HTTP/1.1 connection to 127.0.0.1, reused while the server keeps it alive
    (gunicorn's sync workers close after every response, gthread workers keep it)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        reused = self.writer is not None
        try:
            return await self._exchange(raw)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            await self.close()
            # A kept-alive connection the server closed meanwhile: the request never arrived.
            if reused and (not isinstance(error, asyncio.IncompleteReadError) or not error.partial):
                return await self._exchange(raw)
            raise

    async def _exchange(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        block = await self.reader.readuntil(b"\r\n\r\n")
        lines = block.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                name, value = name.strip().lower(), value.strip()
                if name in headers:  # repeated headers (Set-Cookie): one per line
                    value = f"{headers[name]}\n{value}"
                headers[name] = value
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                data = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(data[:-2])
            payload = b"".join(chunks)
        else:
            payload = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close" or version == "HTTP/1.0":
            await self.close()
        return int(status), headers, payload


@dataclass
class Job:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    tag: str = ""


@dataclass
class Result:
    job: Job
    status: int  # 0: the request failed (connection error, timeout)
    latency: float  # seconds
    started: float  # time.time() when sent
    ended: float  # time.time() when the whole response was read
    body: bytes = b""
    error: str = ""


@dataclass
class LoadRun:
    results: list[Result]
    wall: float  # seconds from the first request sent to the last response read
    client_cpu: float  # CPU seconds the load generator itself used
    unsent: int = 0  # jobs not sent because the time budget ran out

    @property
    def rate(self) -> float:
        return len(self.results) / self.wall if self.wall else 0.0

    def latencies_ms(self, ok_only: bool = True) -> list[float]:
        return [r.latency * 1000 for r in self.results if r.status or not ok_only]

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[str(r.status)] = counts.get(str(r.status), 0) + 1
        return dict(sorted(counts.items()))


async def run_closed_loop(
    *,
    port: int,
    jobs: Sequence[Job],
    concurrency: int,
    timeout: float = 30.0,
    budget: float | None = None,
) -> LoadRun:
    """Send `jobs` in order with `concurrency` clients, each sending its next request as soon
    as its previous response is read (closed loop), each with its own connection. Requests
    time out after `timeout` seconds; none is started once `budget` seconds have passed."""
    cursor = 0
    results: list[Result] = []
    stop_at = time.perf_counter() + budget if budget else math.inf

    async def client() -> None:
        nonlocal cursor
        connection = HttpConnection(port)
        try:
            while cursor < len(jobs) and time.perf_counter() < stop_at:
                job = jobs[cursor]
                cursor += 1
                results.append(await _timed(connection, job, timeout))
        finally:
            await connection.close()

    cpu0 = self_cpu_seconds()
    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    return LoadRun(
        results=results,
        wall=wall,
        client_cpu=self_cpu_seconds() - cpu0,
        unsent=len(jobs) - cursor,
    )


async def _timed(connection: HttpConnection, job: Job, timeout: float) -> Result:
    started_wall = time.time()
    t0 = time.perf_counter()
    try:
        status, _headers, body = await asyncio.wait_for(
            connection.request(job.method, job.path, job.body, job.headers), timeout
        )
        error = ""
    except (OSError, TimeoutError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
        await connection.close()
        status, body, error = 0, b"", f"{type(exc).__name__}: {exc}"
    latency = time.perf_counter() - t0
    return Result(
        job=job,
        status=status,
        latency=latency,
        started=started_wall,
        ended=started_wall + latency,
        body=body,
        error=error,
    )


APP_API_PATH = "/api/v1/inbound/app"


async def post_app_paced(
    port: int, token: str, items: Sequence[dict[str, Any]], rate: float
) -> list[dict[str, Any]]:
    """Post each item's `payload` to the app API at start + i / rate (open loop), each on its
    own connection. Returns each item with `status`, `sent`, `returned` (wall-clock seconds)
    and the answer's `number` (ticket number), in completion order."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    posts: list[dict[str, Any]] = []

    async def one(item: dict[str, Any]) -> None:
        body = json.dumps(item["payload"], ensure_ascii=False).encode()
        connection = HttpConnection(port)
        sent = time.time()
        try:
            status, _headers, answer = await asyncio.wait_for(
                connection.request("POST", APP_API_PATH, body, headers), 30
            )
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            status, answer = 0, str(error).encode()
        finally:
            await connection.close()
        returned = time.time()
        number = json.loads(answer).get("ticket_number") if status in (200, 201, 202) else None
        posts.append(
            {**item, "status": status, "sent": sent, "returned": returned, "number": number}
        )

    start = time.monotonic()
    tasks = []
    for index, item in enumerate(items):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(item)))
    await asyncio.gather(*tasks)
    return posts


def cpu_probe(pgids: dict[str, int], *, self_name: str = "bench") -> dict[str, float]:
    """Cumulative CPU seconds of the machine's busy time, of each process group in `pgids`,
    of PostgreSQL and Redis, and of this process (as `self_name`)."""
    busy, _total = machine_cpu()
    probe = {"machine": busy / os.sysconf("SC_CLK_TCK")}
    probe |= {name: group_cpu_seconds(pgid) for name, pgid in pgids.items()}
    probe["postgres"] = named_cpu_seconds("postgres")
    probe["redis"] = named_cpu_seconds("redis-server")
    probe[self_name] = self_cpu_seconds()
    return probe


def run_async(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine on uvloop when it is installed (it is, with uvicorn[standard])."""
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


# --- test data ---------------------------------------------------------------------------

CHINESE_TEXTS = [
    "你好，我昨天下单的草莓今天到了，打开发现有几颗发霉了。",
    "请问会员积分怎么兑换优惠券？",
    "快递三天了还没送到，物流一直显示在分拣中心。",
    "我买的牛奶过期了，孩子喝了以后拉肚子，请尽快处理！",
    "申请退款，收到的鸡蛋破损了一半。",
    "App 登录不了，一直提示验证码错误。",
    "想开一张发票，公司抬头怎么填写？",
    "骑手说已送达，但我没收到货。",
    "谢谢，上次的问题已经解决了，很满意。",
    "蔬菜不新鲜，太失望了，要求换货。",
]
ENGLISH_TEXTS = [
    "Hi, my order has not arrived yet, the tracking page has not changed for two days.",
    "I'd like to return the blender I bought last week, it makes a loud noise.",
    "The app crashes every time I try to log in since the last update.",
    "The yoghurt I received was expired and smelled rotten.",
    "Can I use my membership points to buy a gift card?",
    "Thank you, the replacement arrived and it is great.",
    "Where is my refund? It has been ten days.",
    "The courier left the parcel at the wrong address.",
]
CHINESE_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄丽", "周杰", "吴强"]
ENGLISH_NAMES = ["Emma Wilson", "Tom Chen", "Liam Smith", "Olivia Brown", "Noah Davis"]


def app_message(rng: random.Random, *, message_id: str, customer: int) -> dict[str, Any]:
    """One app message as the shop's app would push it: about 2/3 Chinese, 1/3 English."""
    chinese = rng.random() < 0.66
    text = rng.choice(CHINESE_TEXTS if chinese else ENGLISH_TEXTS)
    payload: dict[str, Any] = {
        "message_id": message_id,
        "user_id": f"bench-u{customer}",
        "name": rng.choice(CHINESE_NAMES if chinese else ENGLISH_NAMES),
        "text": f"{text} #{message_id}",
        "sent_at": time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.localtime()),
    }
    if customer % 3 != 2:
        payload["phone"] = f"+86 139{customer:08d}"
    if customer % 2 == 0:
        payload["email"] = f"customer{customer}@example.com"
    return payload


# --- figures -----------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def r(value: float, digits: int = 2) -> float | None:
    """Round a figure for the JSON line (NaN becomes null)."""
    return None if value is None or math.isnan(value) else round(value, digits)


def emit(figures: dict[str, Any]) -> None:
    """The last line of stdout: every figure, as one JSON object."""
    sys.stdout.flush()
    print(json.dumps(figures, ensure_ascii=False), flush=True)
