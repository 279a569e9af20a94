"""The chat widget's websocket, end to end through the ASGI app and the configured channel
layer (Redis when REDIS_URL is set): identity, intake, replies, history, typing, limits."""

import time
from dataclasses import dataclass
from datetime import time as clock_time

import pytest
from channels.db import database_sync_to_async

from channels_ingest.models import ChatSite, InboundRecord, InboundState
from sla.models import BusinessCalendar, BusinessHours
from tests.channels_ingest.chat.sockets import (
    anonymous_path,
    make_site,
    open_widget,
    receive_answer,
    receive_until,
    signed_path,
    widget,
)
from tests.factories import TeamFactory, make_agent
from tests.support.sockets import communicator, session_cookie_for
from tickets.models import (
    Agent,
    AgentStatus,
    AuditEntry,
    Channel,
    ContactIdentity,
    DeliveryStatus,
    Message,
    Team,
    Ticket,
)
from tickets.services.workflow import ticket_add_note, ticket_reply

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@dataclass(frozen=True)
class Desk:
    site: ChatSite
    team: Team
    agent: Agent


def _always_open_desk() -> Desk:
    calendar = BusinessCalendar.objects.create(name="Around the clock", use_cn_holidays=False)
    BusinessHours.objects.bulk_create(
        BusinessHours(
            calendar=calendar,
            weekday=day,
            start=clock_time(0, 0),
            end=clock_time(23, 59, 59, 999999),
        )
        for day in range(7)
    )
    team = TeamFactory(name="Chat desk", is_default=True, calendar=calendar)
    agent = make_agent(teams=[team])
    return Desk(site=make_site(team=team), team=team, agent=agent)


@pytest.fixture
async def desk():  # type: ignore[no-untyped-def]
    return await database_sync_to_async(_always_open_desk)()


async def send_message(socket, client_id: str, text: str, *, is_new: bool = True) -> dict:  # type: ignore[no-untyped-def]
    """Send a message and return its ack, having also taken the echo every open widget of
    the visitor gets of a new message (it may come before or after the ack)."""
    await socket.send_json_to({"type": "message", "id": client_id, "text": text})
    ack, echoed = None, not is_new
    while ack is None or not echoed:
        event = await socket.receive_json_from(timeout=5)
        if event["type"] == "ack":
            ack = event
        elif event["type"] == "message" and event["message"]["client_id"] == client_id:
            echoed = True
    return ack


# --- a conversation ---------------------------------------------------------------------


async def test_a_signed_visitor_message_opens_a_chat_ticket_and_the_agent_reply_arrives(desk):
    socket, hello = await open_widget(signed_path(user="u1001", name="张伟"))
    assert hello["history"] == []

    ack = await send_message(socket, "client-msg-0001", "我的草莓坏了，可以退款吗")

    ticket = await database_sync_to_async(Ticket.objects.select_related("customer").get)()
    assert (ticket.channel, ticket.customer.name) == (Channel.CHAT, "张伟")
    assert ack["ticket_number"] == ticket.number and ack["duplicate"] is False
    identity = await database_sync_to_async(ContactIdentity.objects.get)(customer=ticket.customer)
    assert (identity.kind, identity.value) == ("app_user", "u1001")
    record = await database_sync_to_async(InboundRecord.objects.get)()
    assert (record.channel, record.provider_id, record.state) == (
        "chat",
        "shop-key/u1001/client-msg-0001",
        InboundState.PROCESSED,
    )
    assert record.payload["frame"]["text"] == "我的草莓坏了，可以退款吗"
    assert record.payload["signed"] is True

    reply = await database_sync_to_async(ticket_reply)(
        ticket=ticket, author=desk.agent, body="可以的，请上传照片"
    )
    pushed = await receive_answer(socket)
    assert pushed["message"]["id"] == reply.pk
    assert (pushed["message"]["from"], pushed["message"]["text"]) == ("agent", "可以的，请上传照片")

    await database_sync_to_async(reply.refresh_from_db)()
    assert reply.delivery_status == DeliveryStatus.SENT  # published, not yet shown
    await socket.send_json_to({"type": "seen", "ids": [reply.pk]})
    await socket.send_json_to({"type": "ping"})
    await receive_until(socket, "pong")
    await database_sync_to_async(reply.refresh_from_db)()
    assert reply.delivery_status == DeliveryStatus.DELIVERED
    await socket.disconnect()


async def test_resending_the_same_client_message_id_gives_one_message(desk):
    socket, _hello = await open_widget(signed_path())
    first = await send_message(socket, "client-msg-0002", "在吗")
    await socket.disconnect()

    # The widget reconnects and resends what it had not seen acknowledged.
    socket, _hello = await open_widget(signed_path())
    again = await send_message(socket, "client-msg-0002", "在吗", is_new=False)

    assert again["duplicate"] is True
    assert again["id"] == first["id"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    assert await database_sync_to_async(InboundRecord.objects.count)() == 1
    await socket.disconnect()


async def test_the_history_on_reconnect_shows_public_messages_but_no_internal_note(desk):
    socket, _hello = await open_widget(signed_path())
    await send_message(socket, "client-msg-0003", "快递怎么还没到")
    await socket.disconnect()
    ticket = await database_sync_to_async(Ticket.objects.get)()
    await database_sync_to_async(ticket_add_note)(
        ticket=ticket, author=desk.agent, body="内部：查物流"
    )
    reply = await database_sync_to_async(ticket_reply)(
        ticket=ticket, author=desk.agent, body="正在为您查询"
    )

    socket, hello = await open_widget(signed_path())

    texts = [(item["from"], item["text"]) for item in hello["history"]]
    assert texts == [("visitor", "快递怎么还没到"), ("agent", "正在为您查询")]
    assert hello["ticket_number"] == ticket.number
    # The reply waited for the visitor; the history shows it, and the widget confirms.
    await socket.send_json_to({"type": "seen", "ids": [hello["history"][1]["id"]]})
    await socket.send_json_to({"type": "ping"})
    await receive_until(socket, "pong")
    await database_sync_to_async(reply.refresh_from_db)()
    assert reply.delivery_status == DeliveryStatus.DELIVERED
    await socket.disconnect()


async def test_an_internal_note_written_while_the_visitor_is_connected_never_reaches_them(desk):
    socket, _hello = await open_widget(signed_path())
    await send_message(socket, "client-msg-0004", "你好")
    ticket = await database_sync_to_async(Ticket.objects.get)()

    await database_sync_to_async(ticket_add_note)(ticket=ticket, author=desk.agent, body="内部备注")

    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_a_visitor_cannot_mark_another_visitors_reply_delivered(desk):
    socket, _hello = await open_widget(signed_path(user="u-owner"))
    await send_message(socket, "client-msg-0005", "你好")
    await socket.disconnect()
    ticket = await database_sync_to_async(Ticket.objects.get)()
    reply = await database_sync_to_async(ticket_reply)(
        ticket=ticket, author=desk.agent, body="您好"
    )

    other, _hello = await open_widget(signed_path(user="u-other"))
    await other.send_json_to({"type": "seen", "ids": [reply.pk]})
    await other.send_json_to({"type": "ping"})
    await receive_until(other, "pong")

    await database_sync_to_async(reply.refresh_from_db)()
    assert reply.delivery_status == DeliveryStatus.SENT
    await other.disconnect()


async def test_an_anonymous_visitor_chats_under_their_visitor_id(desk):
    socket, _hello = await open_widget(anonymous_path(visitor="a" * 32))

    await send_message(socket, "client-msg-0006", "How much is shipping?")

    ticket = await database_sync_to_async(Ticket.objects.get)()
    identity = await database_sync_to_async(ContactIdentity.objects.get)(
        customer_id=ticket.customer_id
    )
    assert (identity.kind, identity.value) == ("app_user", "visitor:" + "a" * 32)
    await socket.disconnect()


async def test_the_bot_answer_reaches_the_widget(desk):
    from tests.kb.factories import make_article

    await database_sync_to_async(make_article)(
        title="退款多久到账",
        questions=("退款什么时候到账", "钱什么时候退回来"),
        body="退款审核通过后原路退回，一般1-3个工作日到账。",
    )
    socket, _hello = await open_widget(signed_path())

    await socket.send_json_to(
        {"type": "message", "id": "client-msg-0007", "text": "退款什么时候到账？"}
    )

    answer = await receive_answer(socket)
    assert answer["message"]["from"] == "bot"
    assert "1-3个工作日" in answer["message"]["text"]
    await socket.disconnect()


ANONYMOUS_ID = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"


async def chat_anonymously(text: str) -> None:
    socket, _hello = await open_widget(anonymous_path(visitor=ANONYMOUS_ID))
    await send_message(socket, "client-msg-0101", text)
    await socket.disconnect()


async def test_an_anonymous_visitor_who_signs_in_keeps_the_conversation(desk):
    await chat_anonymously("草莓坏了，还没登录")

    socket, hello = await open_widget(signed_path(user="u1001") + f"&previous={ANONYMOUS_ID}")

    assert [item["text"] for item in hello["history"]] == ["草莓坏了，还没登录"]
    ticket = await database_sync_to_async(Ticket.objects.select_related("customer").get)()
    owner = await database_sync_to_async(ContactIdentity.objects.get)(
        kind="app_user", value="u1001"
    )
    assert ticket.customer_id == owner.customer_id
    audit = await database_sync_to_async(AuditEntry.objects.get)(action="tickets_adopted")
    assert audit.data["tickets"] == [ticket.pk]
    # The next message threads into the same conversation.
    ack = await send_message(socket, "client-msg-0102", "我登录了")
    assert ack["ticket_number"] == ticket.number
    await socket.disconnect()

    # Whoever uses this browser anonymously afterwards does not see the signed-in history.
    again, hello = await open_widget(anonymous_path(visitor=ANONYMOUS_ID))
    assert hello["history"] == []
    await again.disconnect()


async def test_only_a_signed_visitor_on_a_site_with_anonymous_chat_takes_a_conversation_over(desk):
    await chat_anonymously("匿名的问题")
    # An anonymous visitor naming another anonymous id takes nothing.
    other = "f" * 32
    socket, hello = await open_widget(anonymous_path(visitor=other) + f"&previous={ANONYMOUS_ID}")
    assert hello["history"] == []
    await socket.disconnect()
    # Nor does a malformed id.
    socket, hello = await open_widget(signed_path(user="u2002") + "&previous=../../etc")
    assert hello["history"] == []
    await socket.disconnect()

    ticket = await database_sync_to_async(Ticket.objects.select_related("customer").get)()
    identity = await database_sync_to_async(ContactIdentity.objects.get)(customer=ticket.customer)
    assert identity.value == f"visitor:{ANONYMOUS_ID}"
    assert not await database_sync_to_async(AuditEntry.objects.exists)()


# --- refusals ---------------------------------------------------------------------------


async def test_a_wrong_signature_is_refused_and_nothing_is_stored(desk):
    socket = widget(signed_path(signature="0" * 64))
    connected, _code = await socket.connect()
    assert connected  # accepted only to say why

    error = await socket.receive_json_from(timeout=5)
    closed = await socket.receive_output(timeout=5)

    assert (error["type"], error["code"]) == ("error", "bad_signature")
    assert closed == {"type": "websocket.close", "code": 4401}
    assert await database_sync_to_async(InboundRecord.objects.count)() == 0


async def test_a_signature_for_another_user_is_refused(desk):
    good = signed_path(user="u1001")
    forged = good.replace("user=u1001", "user=u1002")

    socket = widget(forged)
    await socket.connect()
    error = await socket.receive_json_from(timeout=5)

    assert error["code"] == "bad_signature"
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_an_expired_signature_is_refused(desk):
    socket = widget(signed_path(expires=int(time.time()) - 5))
    await socket.connect()

    error = await socket.receive_json_from(timeout=5)

    assert error["code"] == "expired"
    assert error["message"] == "This chat session has expired; please reload the page."
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_a_page_of_another_origin_is_refused_before_the_socket_opens(desk):
    connected, code = await widget(signed_path(), origin="https://evil.example").connect()

    assert (connected, code) == (False, 4403)


async def test_a_missing_origin_is_refused(desk):
    from channels.testing import WebsocketCommunicator

    from kefu.asgi import application

    connected, code = await WebsocketCommunicator(application, signed_path()).connect()

    assert (connected, code) == (False, 4403)


async def test_an_unknown_site_is_refused(desk):
    connected, code = await widget(signed_path(site_key="no-such-site")).connect()

    assert (connected, code) == (False, 4404)


async def test_a_site_without_anonymous_chat_asks_visitors_to_sign_in():
    await database_sync_to_async(make_site)(allows_anonymous=False)

    socket = widget(anonymous_path(visitor="b" * 32))
    await socket.connect()
    error = await socket.receive_json_from(timeout=5)

    assert error["code"] == "sign_in"
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_a_malformed_visitor_id_is_refused(desk):
    socket = widget(anonymous_path(visitor="short"))
    await socket.connect()

    assert (await socket.receive_json_from(timeout=5))["code"] == "bad_visitor"


# --- bad frames and limits --------------------------------------------------------------


async def test_bad_frames_get_error_frames_and_the_socket_keeps_working(desk, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 20
    socket, _hello = await open_widget(signed_path())

    answers = []
    for frame in (
        "not json",
        "[1, 2]",
        '{"type": "dance"}',
        '{"type": "message", "id": "x", "text": "hi"}',
        '{"type": "message", "id": "client-msg-0008", "text": "   "}',
        '{"type": "message", "id": "client-msg-0009", "text": "' + "长" * 21 + '"}',
        '{"type": "seen", "ids": "all"}',
        "x" * 5000,
    ):
        await socket.send_to(text_data=frame)
        answers.append((await socket.receive_json_from(timeout=5))["code"])
    await socket.send_to(bytes_data=b"\x00\x01")
    answers.append((await socket.receive_json_from(timeout=5))["code"])

    assert answers == [
        "bad_frame",
        "bad_frame",
        "unknown_type",
        "bad_message",
        "bad_message",
        "too_long",
        "bad_frame",
        "too_long",
        "bad_frame",
    ]
    assert await database_sync_to_async(Message.objects.count)() == 0
    ack = await send_message(socket, "client-msg-0010", "现在可以了")
    assert ack["id"] is not None
    await socket.disconnect()


async def test_messages_beyond_the_rate_limit_are_refused_and_not_stored(desk, settings):
    settings.CHAT_MESSAGES_PER_MINUTE = 1
    settings.CHAT_MESSAGE_BURST = 3
    socket, _hello = await open_widget(signed_path())

    answers = []
    for number in range(5):
        await socket.send_json_to(
            {"type": "message", "id": f"client-rate-{number:04}", "text": f"第{number}条"}
        )
        answers.append(await receive_until_any(socket, {"ack", "error"}))

    assert [answer["type"] for answer in answers] == ["ack", "ack", "ack", "error", "error"]
    assert answers[3]["code"] == "rate_limited" and answers[3]["retry_after"] > 0
    assert answers[3]["client_id"] == "client-rate-0003"
    assert await database_sync_to_async(InboundRecord.objects.count)() == 3
    await socket.disconnect()


async def receive_until_any(socket, types: set[str]) -> dict:  # type: ignore[no-untyped-def]
    while True:
        event = await socket.receive_json_from(timeout=5)
        if event["type"] in types:
            return event


# --- typing -----------------------------------------------------------------------------


async def test_typing_shows_both_ways(desk):
    socket, _hello = await open_widget(signed_path())
    await send_message(socket, "client-msg-0011", "我想改地址")
    ticket = await database_sync_to_async(Ticket.objects.get)()
    cookie = await database_sync_to_async(session_cookie_for)(desk.agent.user)
    agent_socket = communicator("/ws/agent/", cookie)
    assert (await agent_socket.connect())[0]
    await agent_socket.send_json_to({"type": "ticket.watch", "number": ticket.number})
    await receive_until(agent_socket, "ticket.watching")

    await socket.send_json_to({"type": "typing", "typing": True})
    seen_by_agent = await receive_until(agent_socket, "chat.typing")
    await agent_socket.send_json_to(
        {"type": "ticket.typing", "number": ticket.number, "typing": True}
    )
    seen_by_visitor = await receive_until(socket, "typing")

    assert seen_by_agent == {
        "type": "chat.typing",
        "ticket": {"id": ticket.pk, "number": ticket.number},
        "typing": True,
    }
    assert seen_by_visitor == {"type": "typing", "typing": True}
    await socket.send_json_to({"type": "typing", "typing": False})
    assert (await receive_until(agent_socket, "chat.typing"))["typing"] is False
    await socket.disconnect()
    await agent_socket.disconnect()


async def test_an_agent_cannot_type_into_a_ticket_they_may_not_see(desk):
    socket, _hello = await open_widget(signed_path())
    await send_message(socket, "client-msg-0012", "你好")
    ticket = await database_sync_to_async(Ticket.objects.get)()
    other_team = await database_sync_to_async(TeamFactory)(name="Elsewhere")
    outsider = await database_sync_to_async(make_agent)(teams=[other_team])
    cookie = await database_sync_to_async(session_cookie_for)(outsider.user)
    agent_socket = communicator("/ws/agent/", cookie)
    await agent_socket.connect()

    await agent_socket.send_json_to(
        {"type": "ticket.typing", "number": ticket.number, "typing": True}
    )

    assert await agent_socket.receive_json_from(timeout=5) == {
        "type": "error",
        "error": "no such ticket",
    }
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()
    await agent_socket.disconnect()


# --- availability -----------------------------------------------------------------------


async def test_the_widget_is_online_when_an_agent_is_available_in_business_hours(desk):
    socket, hello = await open_widget(signed_path())

    assert (hello["online"], hello["notice"]) == (True, "")
    assert hello["labels"]["send"] == "Send"
    await socket.disconnect()


async def test_without_an_available_agent_the_widget_says_how_the_answer_will_come(desk):
    await database_sync_to_async(Agent.objects.filter(pk=desk.agent.pk).update)(is_available=False)

    socket, hello = await open_widget(signed_path())

    assert hello["online"] is False
    assert hello["notice"].startswith("No agent is free right now. We will answer within 1 minute.")
    assert "our answer will be here on this page when you come back" in hello["notice"]
    # The conversation is still a ticket.
    await send_message(socket, "client-msg-0013", "有人吗")
    assert await database_sync_to_async(Ticket.objects.filter(channel=Channel.CHAT).count)() == 1
    await socket.disconnect()


@pytest.mark.parametrize("status", [AgentStatus.OFFLINE, AgentStatus.BUSY, AgentStatus.AWAY])
async def test_an_agent_who_is_not_online_does_not_make_the_widget_online(desk, status):
    await database_sync_to_async(Agent.objects.filter(pk=desk.agent.pk).update)(status=status)

    socket, hello = await open_widget(signed_path())

    assert hello["online"] is False
    assert hello["notice"].startswith("No agent is free right now.")
    await socket.disconnect()


async def test_out_of_hours_the_widget_says_so():
    def closed_desk():  # type: ignore[no-untyped-def]
        # A calendar without any hours: never open.
        calendar = BusinessCalendar.objects.create(name="Never open", use_cn_holidays=False)
        team = TeamFactory(name="Night desk", is_default=True, calendar=calendar)
        make_agent(teams=[team])
        return make_site(team=team)

    await database_sync_to_async(closed_desk)()

    socket, hello = await open_widget(signed_path())

    assert hello["online"] is False
    assert hello["notice"].startswith("We are closed right now.")
    await socket.disconnect()
