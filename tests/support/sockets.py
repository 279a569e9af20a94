"""Staff websockets through the ASGI app: a signed-in user's session cookie, a client, and
waiting for one event type."""

from typing import Any

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from kefu.asgi import application


def session_cookie_for(user: Any) -> bytes:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


def communicator(path: str, cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


async def receive_until(socket: WebsocketCommunicator, event_type: str) -> dict[str, Any]:
    """The next event of `event_type`, past any others."""
    while True:
        event = await socket.receive_json_from(timeout=5)
        if event["type"] == event_type:
            return event


async def layer_messages(layer: Any, channel: str, *, quiet: float = 1.0) -> list[dict[str, Any]]:
    """Every message waiting on a channel-layer channel, in order: read until none comes
    for `quiet` seconds."""
    import asyncio

    messages: list[dict[str, Any]] = []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), timeout=quiet))
        except TimeoutError:
            return messages
