"""One HTTP client per process for the outbound backends (app push webhook, SMS API).

`httpx.post` builds a new client, and with it a new TLS context and connection, on every
call: tens of milliseconds per message. A shared client keeps connections alive and is safe
to use from several threads; it is made on first use in each process (after a worker forks),
never inherited across a fork.
"""

import os
import threading

import httpx

_lock = threading.Lock()
_client: httpx.Client | None = None
_pid = 0


def http_client() -> httpx.Client:
    global _client, _pid
    with _lock:
        if _client is None or _pid != os.getpid():
            _client = httpx.Client(
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10)
            )
            _pid = os.getpid()
        return _client
