"""Anonymous chat cannot be flooded: sockets open no ticket until the visitor writes, new
anonymous conversations are limited per client address and per site, and a site can require
visitor ids signed by the shop."""

import secrets
from typing import Any
from urllib.parse import urlencode

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from channels_ingest.chat.identity import sign_anonymous_visitor
from channels_ingest.models import InboundRecord
from tests.channels_ingest.chat.sockets import (
    SECRET,
    SHOP_ORIGIN,
    anonymous_path,
    make_site,
    signed_path,
    widget,
)
from tests.factories import TeamFactory
from tickets.models import Customer, Ticket

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def limits(settings):  # type: ignore[no-untyped-def]
    settings.RATELIMIT_ENABLE = True  # the test settings turn the shared limiter off
    settings.CHAT_NEW_CONVERSATIONS_PER_ADDRESS = 100
    settings.CHAT_NEW_CONVERSATIONS_PER_SITE = 100
    return settings


@pytest.fixture
async def site():  # type: ignore[no-untyped-def]
    def make() -> Any:
        TeamFactory(name="Chat desk", is_default=True)
        return make_site()

    return await database_sync_to_async(make)()


def random_visitor() -> str:
    return secrets.token_hex(16)


async def connect(path: str, *, address: str = "203.0.113.7") -> WebsocketCommunicator:
    socket = widget(path, SHOP_ORIGIN)
    socket.scope["client"] = (address, 50000)
    connected, code = await socket.connect()
    assert connected, code
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    return socket


async def first_answer(socket: WebsocketCommunicator, client_id: str) -> dict[str, Any]:
    """Send a message and return its ack or error (skipping the echo of the message)."""
    await socket.send_json_to({"type": "message", "id": client_id, "text": "在吗"})
    while True:
        event = await socket.receive_json_from(timeout=5)
        if event["type"] in ("ack", "error"):
            return event


async def count(model: Any) -> int:
    return int(await database_sync_to_async(model.objects.count)())


async def test_sockets_that_never_write_open_no_ticket_and_store_nothing(site, limits):
    sockets = [await connect(anonymous_path(visitor=random_visitor())) for _ in range(20)]

    assert await count(Ticket) == 0
    assert await count(Customer) == 0
    assert await count(InboundRecord) == 0
    for socket in sockets:
        await socket.disconnect()


async def test_new_anonymous_conversations_are_limited_per_client_address(site, limits):
    limits.CHAT_NEW_CONVERSATIONS_PER_ADDRESS = 3

    answers = []
    for number in range(5):
        socket = await connect(anonymous_path(visitor=random_visitor()))
        answers.append(await first_answer(socket, f"flood-msg-{number:04}"))
        await socket.disconnect()

    assert [answer["type"] for answer in answers] == ["ack", "ack", "ack", "error", "error"]
    assert answers[3]["code"] == "busy"
    assert answers[3]["client_id"] == "flood-msg-0003"
    assert 0 < answers[3]["retry_after"] <= 60
    assert await count(Ticket) == 3
    assert await count(InboundRecord) == 3
    # Another address is not held up by the first one.
    other = await connect(anonymous_path(visitor=random_visitor()), address="198.51.100.9")
    assert (await first_answer(other, "other-msg-0001"))["type"] == "ack"
    await other.disconnect()


async def test_new_anonymous_conversations_are_limited_per_site(site, limits):
    limits.CHAT_NEW_CONVERSATIONS_PER_SITE = 2

    answers = []
    for number in range(3):
        socket = await connect(
            anonymous_path(visitor=random_visitor()), address=f"198.51.100.{number + 1}"
        )
        answers.append(await first_answer(socket, f"site-msg-{number:04}"))
        await socket.disconnect()

    assert [answer["type"] for answer in answers] == ["ack", "ack", "error"]
    assert answers[2]["code"] == "busy"
    assert await count(Ticket) == 2


async def test_a_visitor_already_in_a_conversation_and_a_signed_in_user_are_not_held_up(
    site, limits
):
    limits.CHAT_NEW_CONVERSATIONS_PER_ADDRESS = 1
    socket = await connect(anonymous_path(visitor=random_visitor()))
    assert (await first_answer(socket, "mine-msg-0001"))["type"] == "ack"

    assert (await first_answer(socket, "mine-msg-0002"))["type"] == "ack"
    signed = await connect(signed_path(user="u-shop-1"))
    assert (await first_answer(signed, "signed-msg-0001"))["type"] == "ack"
    stranger = await connect(anonymous_path(visitor=random_visitor()))
    assert (await first_answer(stranger, "stranger-0001"))["code"] == "busy"

    assert await count(Ticket) == 2
    for each in (socket, signed, stranger):
        await each.disconnect()


def signed_visitor_path(visitor: str, signature: str) -> str:
    query = urlencode({"visitor": visitor, "signature": signature, "lang": "en"})
    return f"/ws/chat/shop-key/?{query}"


async def refused_code(path: str) -> tuple[str, Any]:
    socket = widget(path, SHOP_ORIGIN)
    await socket.connect()
    error = await socket.receive_json_from(timeout=5)
    closed = await socket.receive_output(timeout=5)
    return error["code"], closed.get("code")


async def test_a_site_that_requires_signed_visitors_refuses_an_unsigned_or_forged_one(site):
    site.anonymous_requires_signature = True
    await database_sync_to_async(site.save)()
    visitor = random_visitor()
    forged = sign_anonymous_visitor(
        secret="not-the-secret", site_key="shop-key", visitor_id=visitor
    )

    assert await refused_code(anonymous_path(visitor=visitor)) == ("bad_signature", 4401)
    assert await refused_code(signed_visitor_path(visitor, forged)) == ("bad_signature", 4401)
    assert await count(InboundRecord) == 0


async def test_a_visitor_id_signed_by_the_shop_may_chat_on_such_a_site(site):
    site.anonymous_requires_signature = True
    await database_sync_to_async(site.save)()
    visitor = random_visitor()
    signature = sign_anonymous_visitor(secret=SECRET, site_key="shop-key", visitor_id=visitor)

    socket = await connect(signed_visitor_path(visitor, signature))

    assert (await first_answer(socket, "signed-anon-0001"))["type"] == "ack"
    ticket = await database_sync_to_async(Ticket.objects.select_related("customer").get)()
    identities = await database_sync_to_async(list)(
        ticket.customer.identities.values_list("value", flat=True)
    )
    assert identities == [f"visitor:{visitor}"]
    await socket.disconnect()
