"""Payloads of the chat widget's socket, and the visitor-typing event for agents.

Only public messages are ever built into a widget payload: the builders take a Message and
refuse anything but customer messages and replies, so a note cannot reach a visitor even by
mistake.
"""

from typing import Any

from channels_ingest.chat.selectors import Availability
from channels_ingest.chat.texts import availability_notice, error_text, widget_labels
from tickets.compose import attachment_link
from tickets.models import Channel, Direction, Message

# What a survey invitation's `Message.notice` starts with ("survey:csat", "survey:nps").
SURVEY_NOTICE = "survey:"


def _sender(message: Message) -> tuple[str, str]:
    if message.direction == Direction.IN:
        return "visitor", ""
    if message.is_bot or (message.is_automatic and message.author_id is None):
        return "bot", ""
    author = message.author
    name = (author.user.first_name or "") if author is not None else ""
    return "agent", name


def widget_message(message: Message, *, client_id: str = "") -> dict[str, Any]:
    if message.direction not in (Direction.IN, Direction.OUT):
        raise ValueError("only public messages are shown to visitors")
    sender, name = _sender(message)
    if not client_id and message.direction == Direction.IN and message.channel == Channel.CHAT:
        # The widget's own id is the last part of the provider id (see chat_provider_id): with
        # it, a reconnecting widget recognises its unacknowledged message in the history.
        client_id = (message.provider_id or "").rsplit("/", 1)[-1]
    payload = {
        "id": message.pk,
        "from": sender,
        "name": name,
        "text": message.body,
        "at": message.created_at.isoformat(),
        "client_id": client_id,
        "files": widget_files(message),
    }
    if message.direction == Direction.OUT and message.notice.startswith(SURVEY_NOTICE):
        # A survey invitation (feedback.services.surveys): the widget shows its scale inline
        # and sends the tapped score back on the socket ("rate").
        low, high = (0, 10) if message.notice == f"{SURVEY_NOTICE}nps" else (1, 5)
        payload["rate"] = {"min": low, "max": high}
    return payload


def widget_files(message: Message) -> list[dict[str, Any]]:
    """The message's kept files as the widget shows them: a photo inline, a PDF as a link;
    each opens by a signed link (tickets.compose.attachment_link) that needs no sign-in."""
    if message._state.adding:  # not stored: no files (a message built for a test or a replay)
        return []
    return [
        {
            "name": item.filename,
            "type": item.content_type,
            "size": item.size,
            "url": attachment_link(item),
        }
        for item in message.attachments.all()
        if item.file and not item.refused_reason
    ]


def message_event(message: Message, *, client_id: str = "") -> dict[str, Any]:
    return {"type": "message", "message": widget_message(message, client_id=client_id)}


def outbound_event(*, text: str, is_reply: bool) -> dict[str, Any]:
    """A message that is not one of Kefu's stored messages (a replay through the backend)."""
    return {
        "type": "message",
        "message": {
            "id": None,
            "from": "agent" if is_reply else "bot",
            "name": "",
            "text": text,
            "at": None,
            "client_id": "",
            "files": [],
        },
    }


def hello(
    *, availability: Availability, history: list[Message], ticket_number: str, max_chars: int
) -> dict[str, Any]:
    return {
        "type": "hello",
        "online": availability.is_online,
        "notice": availability_notice(availability),
        "labels": widget_labels(),
        "history": [widget_message(message) for message in history],
        "ticket_number": ticket_number or None,
        "max_chars": max_chars,
    }


def ack(
    *, client_id: str, message_id: int | None, ticket_number: str, duplicate: bool
) -> dict[str, Any]:
    return {
        "type": "ack",
        "client_id": client_id,
        "id": message_id,
        "ticket_number": ticket_number or None,
        "duplicate": duplicate,
    }


def rated(*, message_id: int, score: int) -> dict[str, Any]:
    return {"type": "rated", "id": message_id, "score": score}


def error(code: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": error_text(code), **extra}


def visitor_typing(*, ticket_id: int, number: str, is_typing: bool) -> dict[str, Any]:
    """For the agents watching the ticket page."""
    return {
        "type": "chat.typing",
        "ticket": {"id": ticket_id, "number": number},
        "typing": is_typing,
    }
