"""Helpers for chat widget socket tests: a chat site, signed paths, and a widget client."""

import time
from typing import Any
from urllib.parse import urlencode

from channels.testing import WebsocketCommunicator

from channels_ingest.chat.identity import sign_visitor
from channels_ingest.models import ChatSite
from kefu.asgi import application
from tests.support.sockets import receive_until

SHOP_ORIGIN = "https://shop.example"
SECRET = "c0ffee" * 8


def make_site(**overrides: Any) -> ChatSite:
    fields: dict[str, Any] = {
        "name": "Shop",
        "key": "shop-key",
        "secret": SECRET,
        "allowed_origins": f"{SHOP_ORIGIN}\nhttps://www.shop.example",
    }
    fields.update(overrides)
    return ChatSite.objects.create(**fields)


def signed_path(
    *,
    user: str = "u1001",
    name: str = "张伟",
    site_key: str = "shop-key",
    secret: str = SECRET,
    expires: int | None = None,
    signature: str | None = None,
    lang: str = "en",
) -> str:
    expires = expires if expires is not None else int(time.time()) + 3600
    signature = signature or sign_visitor(
        secret=secret, site_key=site_key, user_id=user, expires=expires
    )
    query = urlencode(
        {"user": user, "name": name, "expires": expires, "signature": signature, "lang": lang}
    )
    return f"/ws/chat/{site_key}/?{query}"


def anonymous_path(*, visitor: str, site_key: str = "shop-key", lang: str = "en") -> str:
    return f"/ws/chat/{site_key}/?{urlencode({'visitor': visitor, 'lang': lang})}"


def widget(path: str, origin: str = SHOP_ORIGIN) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", b"kefu.example")]
    return WebsocketCommunicator(application, path, headers=headers)


async def open_widget(path: str, origin: str = SHOP_ORIGIN) -> tuple[WebsocketCommunicator, dict]:
    socket = widget(path, origin)
    connected, code = await socket.connect()
    assert connected, code
    hello = await socket.receive_json_from(timeout=5)
    assert hello["type"] == "hello", hello
    return socket, hello


async def receive_answer(socket: WebsocketCommunicator) -> dict[str, Any]:
    """The next message from our side (agent or bot), past the echoes of the visitor's own."""
    while True:
        event = await receive_until(socket, "message")
        if event["message"]["from"] != "visitor":
            return event
