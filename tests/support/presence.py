"""Presence in tests: every agent's counted sockets forgotten between tests (ids repeat
across runs on one Redis)."""

from django.db import connection

from tickets import presence_sockets


def sockets_reset() -> None:
    client = presence_sockets._redis()
    if client is None:
        presence_sockets._local.clear()
        return
    pattern = f"kefu:presence:{connection.settings_dict['NAME']}:*"
    keys = list(client.scan_iter(match=pattern, count=500))
    if keys:
        client.delete(*keys)
