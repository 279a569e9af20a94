"""Live queue updates: from an intake's commit to every agent's browser.

    .venv/bin/python bench/live.py [--clients 200] [--m 300] [--pace 10] [--asgi uvicorn]
        [--heartbeat 5] [--activity 20]

Recreates the bench database and seeds a default team with one agent per client, each a user
in the `agent` group. Agent 0 logs in through Django's login form (/accounts/login/, with its
CSRF token); the others get a session made directly with the session store. gunicorn serves
HTTP (the app API and the login page), an ASGI server (uvicorn or daphne) serves kefu.asgi for
the websockets, with Redis as the channel layer, and a Celery worker runs beside them.

Each client connects to /ws/agent/ with its `sessionid` cookie and an allowed Origin, which
brings its agent online (presence), and from then on sends what an open agent page sends: a
`presence.heartbeat` every `--heartbeat` seconds and a `presence.activity` (the agent's
input) every `--activity` seconds, each client at its own phase. Then
`--m` app messages from new customers are posted to the API at `--pace` per second (open
loop), each opening a ticket; each client records when each `ticket.created` event arrives
(matched on `ticket.id`, first arrival per client: an assignee also gets it on its own group).

The commit time of each intake comes from the database: the benchmark adds to its own bench
database a deferred constraint trigger on tickets_ticket, which runs when the intake's
transaction commits and stores clock_timestamp() in a side table. `p50_ms`/`p99_ms` are
measured from that moment. For comparison the line also has the figures measured from the
HTTP response's return (later than the commit, so those are lower bounds) and from the
ticket's `created_at` (the start of intake, so upper bounds).
`agents` is the number of clients, `missed` the `ticket.created` events a client that
should have had one never received. The line also counts the agents online once the
clients connected and offline after they closed (presence followed them).
Target: p99_ms <= 50.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

# Run as a script, bench/ would come first on sys.path, where bench/queue.py shadows the
# standard library's `queue` (which psycopg imports): put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]

from bench.common import (  # noqa: E402
    HttpConnection,
    Services,
    app_message,
    asgi_server,
    busy_percent,
    celery_worker,
    collect_static,
    cpu_probe,
    emit,
    free_port,
    gunicorn,
    log,
    machine_cpu,
    percentile,
    post_app_paced,
    r,
    recreate_database,
    run_async,
    seed_helpdesk,
    setup_django,
    wait_port,
)

TARGET_P99_MS = 50.0
PASSWORD = "bench-live-password-1"  # only for the throwaway bench database

COMMIT_MARK_SQL = [
    "CREATE TABLE bench_commit (ticket_id bigint PRIMARY KEY, committed_at timestamptz NOT NULL)",
    """CREATE FUNCTION bench_commit_mark() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO bench_commit VALUES (NEW.id, clock_timestamp()) ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER bench_commit_mark AFTER INSERT ON tickets_ticket
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bench_commit_mark()""",
]


def install_commit_mark() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in COMMIT_MARK_SQL:
            cursor.execute(statement)


def make_sessions(user_ids: list[int]) -> list[str]:
    """A logged-in session per user, made the way django.contrib.auth.login makes one."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for user in get_user_model().objects.filter(pk__in=user_ids).order_by("pk"):
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar = {}
    for line in headers.get("set-cookie", "").split("\n"):
        name, _, rest = line.partition("=")
        if name:
            jar[name.strip()] = rest.split(";", 1)[0]
    return jar


async def login_form(port: int, username: str, password: str) -> str:
    """Log in through /accounts/login/ like a browser; return the session cookie."""
    page = HttpConnection(port)
    status, headers, body = await page.request("GET", "/accounts/login/")
    await page.close()
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    csrf = _cookies(headers).get("csrftoken", "")
    if status != 200 or not match or not csrf:
        raise RuntimeError(f"the login page answered {status}")
    form = urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": match[1].decode()}
    ).encode()
    post = HttpConnection(port)
    status, headers, _body = await post.request(
        "POST",
        "/accounts/login/",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"},
    )
    await post.close()
    session = _cookies(headers).get("sessionid", "")
    if status != 302 or not session:
        raise RuntimeError(f"login failed: {status}")
    return session


class Client:
    def __init__(self, index: int, session: str) -> None:
        self.index = index
        self.session = session
        self.received: dict[int, float] = {}  # ticket id -> time.time() of first arrival
        self.duplicates = 0
        self.other = 0
        self.ws: Any = None
        self.frames_sent = 0

    async def connect(self, ws_port: int) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            f"ws://127.0.0.1:{ws_port}/ws/agent/",
            origin=f"http://127.0.0.1:{ws_port}",
            additional_headers={"Cookie": f"sessionid={self.session}"},
            proxy=None,
            open_timeout=15,
        )

    async def chatter(self, *, heartbeat: float, activity: float, rng: random.Random) -> None:
        """What an open page sends while the agent works: heartbeats and input."""
        from websockets.exceptions import ConnectionClosed

        next_beat = time.monotonic() + rng.uniform(0, heartbeat)
        next_input = time.monotonic() + rng.uniform(0, activity)
        try:
            while True:
                now = time.monotonic()
                if now >= next_input:
                    await self.ws.send(json.dumps({"type": "presence.activity"}))
                    next_input += activity
                    self.frames_sent += 1
                elif now >= next_beat:
                    await self.ws.send(json.dumps({"type": "presence.heartbeat"}))
                    next_beat += heartbeat
                    self.frames_sent += 1
                await asyncio.sleep(max(0.01, min(next_beat, next_input) - time.monotonic()))
        except ConnectionClosed:
            pass

    async def listen(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                now = time.time()
                event = json.loads(raw)
                if event.get("type") != "ticket.created":
                    self.other += 1
                    continue
                ticket_id = int(event["ticket"]["id"])
                if ticket_id in self.received:
                    self.duplicates += 1
                else:
                    self.received[ticket_id] = now
        except ConnectionClosed:
            pass


async def scenario(
    *,
    http_port: int,
    ws_port: int,
    sessions: list[str],
    token: str,
    args: argparse.Namespace,
    pgids: dict[str, int],
) -> dict[str, Any]:
    clients = [Client(index, key) for index, key in enumerate(sessions)]
    t0 = time.perf_counter()
    await asyncio.gather(*(client.connect(ws_port) for client in clients))
    connect_s = time.perf_counter() - t0
    log(f"{len(clients)} websockets connected in {connect_s:.2f}s")
    listeners = [asyncio.create_task(client.listen()) for client in clients]
    chatter_rng = random.Random(11)
    chatter = [
        asyncio.create_task(
            client.chatter(heartbeat=args.heartbeat, activity=args.activity, rng=chatter_rng)
        )
        for client in clients
    ]
    await asyncio.sleep(2.0)  # presence settles: every agent online
    online = await asyncio.to_thread(agents_with_status, "online")
    log(f"{online} agents online")
    prefix = f"live{int(time.time())}"
    log(f"posting {args.m} messages at {args.pace}/s")
    rng = random.Random(7)
    payloads = [
        app_message(rng, message_id=f"{prefix}-{index:05d}", customer=index)
        for index in range(args.m)
    ]
    items = [{"message_id": payload["message_id"], "payload": payload} for payload in payloads]
    cpu_before = machine_cpu()
    probe_before = cpu_probe(pgids, self_name="bench_clients")
    posts = await post_app_paced(http_port, token, items, args.pace)
    busy = busy_percent(cpu_before, machine_cpu())
    expected = sum(1 for post in posts if post["status"] in (200, 201, 202))
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        if all(len(client.received) >= expected for client in clients):
            break
        await asyncio.sleep(0.05)
    probe_after = cpu_probe(pgids, self_name="bench_clients")
    for task in chatter:
        task.cancel()
    for client in clients:
        await client.ws.close()
    await asyncio.gather(*listeners, *chatter, return_exceptions=True)
    deadline = time.monotonic() + 10
    offline = 0
    while time.monotonic() < deadline:
        offline = await asyncio.to_thread(agents_with_status, "offline")
        if offline >= len(clients):
            break
        await asyncio.sleep(0.2)
    # CPU ms per posted message, from the first post until the last event arrived.
    cpu_ms = {
        name: r(1000 * (probe_after[name] - probe_before[name]) / max(len(posts), 1))
        for name in probe_before
    }
    return {
        "clients": clients,
        "online_after_connect": online,
        "offline_after_close": offline,
        "posts": posts,
        "connect_s": connect_s,
        "prefix": prefix,
        "cpu_busy_pct": busy,
        "cpu_ms_per_message": cpu_ms,
    }


def agents_with_status(status: str) -> int:
    from django.db import connection

    from tickets.models import Agent

    try:
        return Agent.objects.filter(status=status).count()
    finally:
        connection.close()


def commit_times(prefix: str) -> dict[str, dict[str, Any]]:
    """Per message id: the ticket id, its commit time and its intake start (created_at)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT m.provider_id, t.id, c.committed_at, t.created_at
            FROM tickets_message m
            JOIN tickets_ticket t ON t.id = m.ticket_id
            LEFT JOIN bench_commit c ON c.ticket_id = t.id
            WHERE m.provider_id LIKE %s AND m.direction = 'in'
            """,
            [f"{prefix}-%"],
        )
        return {
            message_id: {
                "ticket_id": ticket_id,
                "commit": committed.timestamp() if committed else None,
                "started": created.timestamp(),
            }
            for message_id, ticket_id, committed, created in cursor.fetchall()
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--m", type=int, default=300, help="messages to post (default 300)")
    parser.add_argument("--pace", type=float, default=10.0, help="messages per second")
    parser.add_argument(
        "--heartbeat", type=float, default=5.0, help="seconds between a client's heartbeats"
    )
    parser.add_argument(
        "--activity", type=float, default=20.0, help="seconds between a client's input frames"
    )
    parser.add_argument("--asgi", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait for stragglers")
    args = parser.parse_args()

    recreate_database()
    setup_django("kefu.settings")
    install_commit_mark()
    seeded = seed_helpdesk(agents=args.clients, token_name="bench-live")
    from django.contrib.auth import get_user_model

    first = get_user_model().objects.get(pk=seeded.agent_user_ids[0])
    first.set_password(PASSWORD)
    first.save(update_fields=["password"])
    sessions = make_sessions(seeded.agent_user_ids)
    from tickets.models import Agent

    # Signed out: their sockets bring them online (presence), and tickets to them.
    Agent.objects.update(status="offline")
    http_port, ws_port = free_port(), free_port()
    server = (
        f"gunicorn kefu.wsgi ({args.workers} sync workers) for HTTP; "
        f"{args.asgi} kefu.asgi (1 process) for websockets; Redis channel layer"
    )
    log(server)

    collect_static()  # the login page renders its static files through the manifest
    with Services() as services:
        web = services.start(gunicorn(port=http_port, workers=args.workers, threads=1))
        asgi = services.start(asgi_server(port=ws_port, server=args.asgi))
        worker = services.start(celery_worker())
        wait_port(http_port, web)
        wait_port(ws_port, asgi)
        try:
            sessions[0] = run_async(lambda: login_form(http_port, first.username, PASSWORD))
            login = "client 0 through the login form, the others with SessionStore"
        except RuntimeError as error:
            login = f"all with SessionStore (the login form failed: {error})"
        log(f"login: {login}")
        outcome = run_async(
            lambda: scenario(
                http_port=http_port,
                ws_port=ws_port,
                sessions=sessions,
                token=seeded.token_key,
                args=args,
                pgids={"gunicorn": web.pid, args.asgi: asgi.pid, "celery": worker.pid},
            )
        )
        if not asgi.alive():
            log(f"{args.asgi} died:\n{asgi.tail()}")

    times = commit_times(outcome["prefix"])
    clients: list[Client] = outcome["clients"]
    posts: list[dict[str, Any]] = outcome["posts"]
    from_commit: list[float] = []
    from_response: list[float] = []
    from_start: list[float] = []
    first_from_commit: list[float] = []  # the first client's latency per ticket
    spread: list[float] = []  # last client's arrival minus the first's, per ticket
    expected = 0
    received = 0
    for post in posts:
        mark = times.get(post["message_id"])
        if mark is None:
            continue
        expected += len(clients)
        arrivals = [
            client.received[mark["ticket_id"]]
            for client in clients
            if mark["ticket_id"] in client.received
        ]
        if arrivals and mark["commit"] is not None:
            first_from_commit.append((min(arrivals) - mark["commit"]) * 1000)
            spread.append((max(arrivals) - min(arrivals)) * 1000)
        for client in clients:
            at = client.received.get(mark["ticket_id"])
            if at is None:
                continue
            received += 1
            if mark["commit"] is not None:
                from_commit.append((at - mark["commit"]) * 1000)
            from_response.append((at - post["returned"]) * 1000)
            from_start.append((at - mark["started"]) * 1000)
    statuses: dict[str, int] = {}
    for post in posts:
        statuses[str(post["status"])] = statuses.get(str(post["status"]), 0) + 1
    http_ms = [(post["returned"] - post["sent"]) * 1000 for post in posts if post["status"]]
    p99 = percentile(from_commit, 99)
    figures = {
        "agents": len(clients),
        "clients": len(clients),
        "messages": len(posts),
        "tickets": len(times),
        "events": received,
        "expected": expected,
        "missed": expected - received,
        "duplicates": sum(client.duplicates for client in clients),
        "p50_ms": r(percentile(from_commit, 50)),
        "p90_ms": r(percentile(from_commit, 90)),
        "p99_ms": r(p99),
        "max_ms": r(max(from_commit, default=float("nan"))),
        "first_client_p50_ms": r(percentile(first_from_commit, 50)),
        "first_client_p99_ms": r(percentile(first_from_commit, 99)),
        "fanout_spread_p50_ms": r(percentile(spread, 50)),
        "fanout_spread_p99_ms": r(percentile(spread, 99)),
        "latency_from": "commit (deferred trigger's clock_timestamp() at COMMIT)",
        "p50_ms_from_response": r(percentile(from_response, 50)),
        "p99_ms_from_response": r(percentile(from_response, 99)),
        "p50_ms_from_intake_start": r(percentile(from_start, 50)),
        "p99_ms_from_intake_start": r(percentile(from_start, 99)),
        "post_statuses": statuses,
        "post_p50_ms": r(percentile(http_ms, 50)),
        "post_p99_ms": r(percentile(http_ms, 99)),
        "pace_per_s": args.pace,
        "presence_frames_sent": sum(client.frames_sent for client in clients),
        "agents_online_after_connect": outcome["online_after_connect"],
        "agents_offline_after_close": outcome["offline_after_close"],
        "connect_s": r(outcome["connect_s"]),
        "cpu_busy_pct": outcome["cpu_busy_pct"],
        "cpu_ms_per_message": outcome["cpu_ms_per_message"],
        "server": server,
        "login": login,
        "target_p99_ms": TARGET_P99_MS,
        "p99_met": p99 <= TARGET_P99_MS,
    }
    emit(figures)


if __name__ == "__main__":
    main()
