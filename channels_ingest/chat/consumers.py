"""The chat widget's websocket: `/ws/chat/<site key>/?user=…&expires=…&signature=…` for a
signed-in shop user, `?visitor=<random id>` for an anonymous one (docs/chat.md).

The consumer checks the page's origin and the visitor's signature, joins the visitor's own
chat group and nothing else, and forwards only widget events from it. Every frame from the
browser is size- and rate-limited; a bad frame gets an error frame, never a crash.
"""

import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone, translation

from channels_ingest.chat import events
from channels_ingest.chat.identity import (
    Visitor,
    VisitorRefused,
    origin_allowed,
    visitor_anonymous,
    visitor_anonymous_verify,
    visitor_verify,
)
from channels_ingest.chat.limits import TokenBucket, new_conversation_admit, socket_client_address
from channels_ingest.chat.selectors import (
    chat_availability,
    chat_site_active,
    conversation_for,
    conversation_history,
)
from channels_ingest.chat.services import (
    chat_message_receive,
    chat_messages_seen,
    chat_survey_rate,
    chat_visitor_signed_in,
    chat_visitor_typing,
)
from channels_ingest.chat.texts import widget_language
from channels_ingest.models import ChatSite
from kefu import realtime
from kefu.consumers import EventForwardingMixin
from kefu.json_input import json_loads

logger = logging.getLogger("kefu.ingest")

CLOSE_REFUSED_IDENTITY = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_UNKNOWN_SITE = 4404

CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Events of the visitor's group that reach the widget; anything else is dropped.
WIDGET_EVENTS = {"message", "typing"}
# Frames of any kind per second per socket (typing, acknowledgements, pings), and the burst.
FRAMES_PER_SECOND = 2.0
FRAME_BURST = 30
# "Typing" is passed on at most this often while the visitor keeps typing.
TYPING_EVERY_SECONDS = 2.0


class ChatConsumer(EventForwardingMixin, AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.visitor: Visitor | None = None
        self.site: ChatSite | None = None
        self.ticket_id: int | None = None
        self.ticket_number = ""
        self.typing_sent_at = 0.0
        self.is_typing_shown = False
        # Whether this socket's new conversation has been counted against the limits.
        self.is_admitted = False
        self.address = socket_client_address(self.scope)
        params = parse_qs(self.scope.get("query_string", b"").decode("utf-8", "replace"))

        def param(name: str) -> str:
            return params.get(name, [""])[0]

        self.language = widget_language(param("lang"))
        key = str(self.scope["url_route"]["kwargs"].get("site_key", ""))
        self.origin = _header(self.scope, b"origin")
        site = await database_sync_to_async(chat_site_active)(key)
        if site is None:
            logger.warning("chat refused: unknown or inactive site %r", key[:40])
            await self.close(code=CLOSE_UNKNOWN_SITE)
            return
        if not origin_allowed(origin=self.origin, allowed=site.origins()):
            logger.warning("chat refused: origin %r not allowed for site %s", self.origin, key)
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        try:
            visitor = _visitor(site, param)
        except VisitorRefused as refused:
            logger.warning("chat refused on site %s: %s", key, refused)
            # Accepted only to say why, so the widget can tell the visitor and stop retrying.
            await self.accept()
            with translation.override(self.language):
                await self._send(events.error(refused.code))
            await self.close(code=CLOSE_REFUSED_IDENTITY)
            return
        self.site, self.visitor = site, visitor
        if visitor.is_signed and param("previous"):
            await database_sync_to_async(chat_visitor_signed_in)(
                site=site, visitor=visitor, previous_visitor_id=param("previous")
            )
        self.messages = TokenBucket(
            rate=settings.CHAT_MESSAGES_PER_MINUTE / 60.0, capacity=settings.CHAT_MESSAGE_BURST
        )
        self.frames = TokenBucket(rate=FRAMES_PER_SECOND, capacity=FRAME_BURST)
        self.max_chars = settings.CHAT_MAX_MESSAGE_CHARS
        # Room for JSON escapes (\uXXXX is six characters for one) and the other keys.
        self.max_frame = self.max_chars * 6 + 1024
        # Joined before the history is read: a reply published in between is then received
        # twice at worst (the widget drops the repeat by id), never lost.
        await self.join(realtime.chat_group(visitor.address))
        await self.accept()
        await self._send(await database_sync_to_async(self._hello)())

    def _hello(self) -> dict[str, Any]:
        assert self.site is not None and self.visitor is not None
        now = timezone.now()
        ticket = conversation_for(address=self.visitor.address, now=now)
        history = (
            conversation_history(ticket=ticket, limit=settings.CHAT_HISTORY_SIZE)
            if ticket is not None
            else []
        )
        if ticket is not None and ticket.is_open:
            self.ticket_id, self.ticket_number = ticket.pk, ticket.number
        with translation.override(self.language):
            return events.hello(
                availability=chat_availability(site=self.site, now=now),
                history=history,
                ticket_number=ticket.number if ticket is not None else "",
                max_chars=self.max_chars,
            )

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.is_typing_shown and self.ticket_id is not None:
            await sync_to_async(chat_visitor_typing)(
                ticket_id=self.ticket_id, number=self.ticket_number, is_typing=False
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.visitor is None:
            return
        try:
            with translation.override(self.language):
                await self._receive(text_data)
        except Exception:
            logger.exception("chat frame failed on site %s", self.site.key if self.site else "?")
            with translation.override(self.language):
                await self._send(events.error("server_error"))

    async def _receive(self, text_data: str | None) -> None:
        if text_data is None:
            await self._refuse("bad_frame")
            return
        if len(text_data) > self.max_frame:
            await self._refuse("too_long")
            return
        try:
            frame = json_loads(text_data)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self._refuse("bad_frame")
            return
        if not self.frames.take():
            await self._refuse("rate_limited")
            return
        kind = frame.get("type")
        if kind == "message":
            await self._message(frame)
        elif kind == "typing":
            await self._typing(frame.get("typing") is True)
        elif kind == "seen":
            await self._seen(frame.get("ids"))
        elif kind == "rate":
            await self._rate(frame)
        elif kind == "ping":
            await self._send({"type": "pong"})
        else:
            await self._refuse("unknown_type")

    async def _message(self, frame: dict[str, Any]) -> None:
        assert self.site is not None and self.visitor is not None
        client_id, text = frame.get("id"), frame.get("text")
        echo = {"client_id": client_id} if isinstance(client_id, str) else {}
        if not isinstance(client_id, str) or not CLIENT_MESSAGE_ID.fullmatch(client_id):
            await self._refuse("bad_message", **echo)
            return
        if not isinstance(text, str) or not text.strip():
            await self._refuse("bad_message", **echo)
            return
        if len(text) > self.max_chars:
            await self._refuse("too_long", **echo)
            return
        if not self.messages.take():
            wait = round(self.messages.wait_seconds(), 1)
            await self._refuse("rate_limited", retry_after=wait, **echo)
            return
        if not await self._admit_new_conversation(**echo):
            return
        receipt = await database_sync_to_async(chat_message_receive)(
            site=self.site,
            visitor=self.visitor,
            frame={"type": "message", "id": client_id, "text": text},
            origin=self.origin,
        )
        if receipt.refused:
            await self._refuse("refused", **echo)
            return
        if receipt.ticket is not None:
            self.ticket_id = receipt.ticket.pk
            self.ticket_number = receipt.ticket.number
        self.is_typing_shown = False
        await self._send(
            events.ack(
                client_id=client_id,
                message_id=receipt.message.pk if receipt.message else None,
                ticket_number=self.ticket_number,
                duplicate=receipt.is_duplicate,
            )
        )

    async def _admit_new_conversation(self, **echo: Any) -> bool:
        """An anonymous visitor's first message opens a ticket: count it against the limits
        of new anonymous conversations, once per socket. Sockets cost nothing until then,
        so opening hundreds of them with made-up visitor ids opens no ticket."""
        assert self.site is not None and self.visitor is not None
        if self.visitor.is_signed or self.ticket_id is not None or self.is_admitted:
            return True
        admission = await sync_to_async(new_conversation_admit)(
            site_key=self.site.key, address=self.address
        )
        if not admission.is_allowed:
            logger.warning(
                "chat site %s: new anonymous conversation from %s refused by the limits",
                self.site.key,
                self.address or "an unknown address",
            )
            await self._send(events.error("busy", retry_after=admission.retry_after, **echo))
            return False
        self.is_admitted = True
        return True

    async def _typing(self, is_typing: bool) -> None:
        if self.ticket_id is None:
            return  # no conversation yet: nobody is watching
        now = time.monotonic()
        if is_typing and self.is_typing_shown and now - self.typing_sent_at < TYPING_EVERY_SECONDS:
            return
        if not is_typing and not self.is_typing_shown:
            return
        self.typing_sent_at, self.is_typing_shown = now, is_typing
        await sync_to_async(chat_visitor_typing)(
            ticket_id=self.ticket_id, number=self.ticket_number, is_typing=is_typing
        )

    async def _seen(self, ids: Any) -> None:
        assert self.visitor is not None
        if not isinstance(ids, list):
            await self._refuse("bad_frame")
            return
        wanted = [item for item in ids if isinstance(item, int) and not isinstance(item, bool)]
        if wanted:
            await database_sync_to_async(chat_messages_seen)(
                address=self.visitor.address, message_ids=wanted
            )

    async def _rate(self, frame: dict[str, Any]) -> None:
        """A score tapped under a survey invitation (docs/feedback.md)."""
        assert self.visitor is not None
        message_id, score = frame.get("id"), frame.get("score")
        if not isinstance(message_id, int) or not isinstance(score, int):
            await self._refuse("bad_frame")
            return
        if isinstance(message_id, bool) or isinstance(score, bool):
            await self._refuse("bad_frame")
            return
        code = await database_sync_to_async(chat_survey_rate)(
            address=self.visitor.address, message_id=message_id, score=score
        )
        if code:
            await self._refuse(code, id=message_id)
            return
        await self._send(events.rated(message_id=message_id, score=score))

    async def _refuse(self, code: str, **extra: Any) -> None:
        """Answer a frame that cannot be taken with an error frame; the socket stays open."""
        log = logger.info if code == "rate_limited" else logger.warning
        log("chat frame refused on site %s: %s", self.site.key if self.site else "?", code)
        await self._send(events.error(code, **extra))

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, ensure_ascii=False))

    async def forward(self, event: dict[str, Any], *, text: str | None = None) -> None:
        # Widgets get their events re-encoded without escaping Chinese (`_send`).
        if event.get("type") in WIDGET_EVENTS:
            await self._send(event)


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _visitor(site: ChatSite, param: Any) -> Visitor:
    name = param("name")
    if param("user"):
        return visitor_verify(
            secret=site.secret,
            site_key=site.key,
            user_id=param("user"),
            expires=param("expires"),
            signature=param("signature"),
            name=name,
            now=time.time(),
            max_ahead_seconds=settings.CHAT_SIGNATURE_MAX_SECONDS,
        )
    if not site.allows_anonymous:
        raise VisitorRefused("sign_in", "anonymous visitors are not allowed on this site")
    if site.anonymous_requires_signature:
        return visitor_anonymous_verify(
            secret=site.secret,
            site_key=site.key,
            visitor_id=param("visitor"),
            signature=param("signature"),
            name=name,
        )
    return visitor_anonymous(visitor_id=param("visitor"), name=name)
