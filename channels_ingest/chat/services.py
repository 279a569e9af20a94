"""Writes of the chat channel: take a visitor's message in, confirm what the widget showed,
and tell the other side who is typing."""

import logging
from dataclasses import dataclass
from typing import Any

from channels_ingest.chat import events
from channels_ingest.chat.identity import Visitor, VisitorRefused, visitor_anonymous
from channels_ingest.chat.selectors import message_for_visitor
from channels_ingest.models import ChatSite, InboundState
from channels_ingest.pipeline.receive import inbound_receive
from kefu import realtime
from tickets.delivery import Outbound
from tickets.models import Channel, DeliveryStatus, Direction, IdentityKind, Message, Ticket
from tickets.services.customers import customer_tickets_adopt
from tickets.services.delivery import message_delivery_update

logger = logging.getLogger("kefu.ingest")

# Acknowledgements the widget may send in one frame; more are ignored.
MAX_SEEN_PER_FRAME = 50


@dataclass(frozen=True)
class ChatReceipt:
    message: Message | None  # None while queued for a retry, or when refused
    ticket: Ticket | None
    is_duplicate: bool  # the same client message id was taken in before
    is_queued: bool  # stored; processing failed unexpectedly and a worker will retry
    refused: str  # why a stored frame cannot become a message ("" when it did)


def chat_provider_id(*, site: ChatSite, visitor: Visitor, client_id: str) -> str:
    """The idempotency key of a widget message: the client's id, scoped to the site and the
    visitor so that nobody can suppress another visitor's message by reusing its id."""
    return f"{site.key}/{visitor.address}/{client_id}"


def chat_message_receive(
    *, site: ChatSite, visitor: Visitor, frame: dict[str, Any], origin: str
) -> ChatReceipt:
    """Store a visitor's message frame as received, then take it into a ticket.

    The frame is stored before the widget is answered; the same client message id again
    (a resend after a reconnect) changes nothing and returns the first message. Other open
    widgets of the same visitor (a second tab) are shown the message too.
    """
    client_id = str(frame["id"])
    provider_id = chat_provider_id(site=site, visitor=visitor, client_id=client_id)
    receipt = inbound_receive(
        channel=Channel.CHAT.value,
        provider_id=provider_id,
        payload={
            "frame": frame,
            "site": site.key,
            "origin": origin,
            "address": visitor.address,
            "signed": visitor.is_signed,
            "name": visitor.name,
        },
        source=site.key,
        answered=True,  # the widget's acknowledgement names the ticket
    )
    if receipt.queued:
        return ChatReceipt(None, None, is_duplicate=False, is_queued=True, refused="")
    if receipt.record.state == InboundState.FAILED:
        return ChatReceipt(
            None,
            None,
            is_duplicate=not receipt.created,
            is_queued=False,
            refused=receipt.record.error,
        )
    result = receipt.result
    if result is not None:
        if receipt.created and result.created:
            realtime.publish_on_commit(
                [realtime.chat_group(visitor.address)],
                events.message_event(result.message, client_id=client_id),
            )
        return ChatReceipt(
            result.message,
            result.ticket,
            is_duplicate=not (receipt.created and result.created),
            is_queued=False,
            refused="",
        )
    message = (
        Message.objects.select_related("ticket")
        .filter(channel=Channel.CHAT, provider_id=provider_id)
        .first()
    )
    return ChatReceipt(
        message,
        message.ticket if message else None,
        is_duplicate=True,
        is_queued=False,
        refused="",
    )


def chat_visitor_signed_in(*, site: ChatSite, visitor: Visitor, previous_visitor_id: str) -> int:
    """A signed-in visitor whose widget was anonymous on this browser before (it sends the
    anonymous id it kept, once): the anonymous conversation becomes theirs. Returns how many
    tickets moved; a malformed id, or a site without anonymous chat, moves nothing."""
    if not visitor.is_signed or not site.allows_anonymous:
        return 0
    try:
        anonymous = visitor_anonymous(visitor_id=previous_visitor_id, name="")
    except VisitorRefused:
        return 0
    moved = customer_tickets_adopt(
        channel=Channel.CHAT,
        from_identity=(IdentityKind.APP_USER, anonymous.address),
        to_identity=(IdentityKind.APP_USER, visitor.address),
        name=visitor.name,
    )
    if moved:
        logger.info(
            "chat site %s: %d anonymous ticket(s) joined a signed-in visitor", site.key, len(moved)
        )
    return len(moved)


def chat_messages_seen(*, address: str, message_ids: list[int]) -> int:
    """The visitor's widget has shown these replies: mark them delivered (once each, even
    when two tabs confirm at the same time). Ids of other visitors' messages are ignored.
    Returns how many changed."""
    candidates = list(
        Message.objects.filter(
            pk__in=message_ids[:MAX_SEEN_PER_FRAME],
            channel=Channel.CHAT,
            direction=Direction.OUT,
            delivery_status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENT],
            ticket__customer__identities__kind=IdentityKind.APP_USER,
            ticket__customer__identities__value=address,
        ).select_related("ticket")
    )
    changed = 0
    for message in candidates:
        # Compare-and-set: only the confirmation that moves the status records the event.
        won = Message.objects.filter(pk=message.pk, delivery_status=message.delivery_status).update(
            delivery_status=DeliveryStatus.DELIVERED
        )
        if won:
            message_delivery_update(
                message=message,
                status=DeliveryStatus.DELIVERED,
                reference=message.delivery_ref,
                error="",
            )
            changed += 1
    return changed


def chat_visitor_typing(*, ticket_id: int, number: str, is_typing: bool) -> None:
    """Show (or stop showing) "the customer is typing" on the ticket's page. Not stored."""
    realtime.publish(
        [realtime.ticket_group(ticket_id)],
        events.visitor_typing(ticket_id=ticket_id, number=number, is_typing=is_typing),
    )


def chat_reply_push(*, outbound: Outbound) -> None:
    """Push one outbound message to the visitor's open widgets. A visitor with no widget open
    hears nothing now and finds the message in the history when they come back."""
    message = None
    if outbound.reference.startswith("kefu-") and outbound.reference[5:].isdigit():
        message = message_for_visitor(message_id=int(outbound.reference[5:]))
    event = (
        events.message_event(message)
        if message is not None
        else events.outbound_event(text=outbound.body, is_reply=outbound.kind == "reply")
    )
    realtime.publish([realtime.chat_group(outbound.to)], event)


def chat_survey_rate(*, address: str, message_id: int, score: int) -> str:
    """The visitor `address` tapped `score` under the survey invitation `message_id`: ""
    when the answer is stored, else the error code for the widget (the invitation is not
    theirs, it was answered or has closed, or the score is off the scale)."""
    from feedback.services.surveys import SurveyRefused, survey_answer_chat

    try:
        survey_answer_chat(address=address, message_id=message_id, score=score)
    except SurveyRefused as refused:
        return f"survey_{refused.code}"
    return ""
