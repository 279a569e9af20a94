"""From a stored raw email to a ticket: parse, route bounces and automatic mail, intake,
acknowledge."""

import hashlib
import logging
import re
from dataclasses import replace
from email.parser import BytesHeaderParser

from django.conf import settings
from django.utils.translation import gettext as _

from channels_ingest.email.parse import parse_message
from channels_ingest.email.parsed import ParsedEmail
from channels_ingest.email.tree import POLICY
from channels_ingest.models import InboundRecord
from channels_ingest.pipeline.adapter import Refused
from tickets.inbound import Identity, InboundAttachment, InboundMessage
from tickets.models import Channel, IdentityKind
from tickets.services.acknowledgement import ticket_acknowledge_opened
from tickets.services.delivery import message_mark_bounced
from tickets.services.intake import IntakeResult, intake_message

logger = logging.getLogger("kefu.ingest.email")


def provider_id_for(raw: bytes) -> str:
    """The key that makes a redelivered mail a no-op: its Message-ID, or a digest of the
    bytes for the rare mail without one."""
    # Only the header block: the parser would otherwise split the first 64 KB of the body
    # into lines for nothing.
    head = raw[:65536]
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=-1)
    if end >= 0:
        head = head[: end + 2]
    try:
        headers = BytesHeaderParser(policy=POLICY).parsebytes(head)
        raw_id = next((v for k, v in headers.raw_items() if k.lower() == "message-id"), None)
        if isinstance(raw_id, str) and _PLAIN_MESSAGE_ID.fullmatch(raw_id):
            # What the header object would give, without building it: for a plain
            # "<left@right>" its text is the value as written.
            message_id = raw_id.strip().strip("<>").strip()
        else:
            message_id = str(headers.get("Message-ID", "") or "").strip().strip("<>").strip()
    except Exception:  # a header block the parser cannot read still gets a stable key
        message_id = ""
    if message_id:
        return message_id[:255]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# A Message-ID of printable ASCII atom characters and dots around an @, on one line: the
# everyday shape, whose parsed header reads exactly as written.
_PLAIN_MESSAGE_ID = re.compile(
    r"<[A-Za-z0-9!#$%&'*+\-/^_`{|}~.]+@[A-Za-z0-9!#$%&'*+\-/^_`{|}~.]+>[ \t]*"
)


def parse(raw: bytes) -> ParsedEmail:
    return parse_message(
        raw,
        max_attachment_bytes=settings.MAX_ATTACHMENT_BYTES,
        own_addresses=[settings.DEFAULT_FROM_EMAIL],
        own_message_id_domains=[settings.KEFU_EMAIL_DOMAIN],
    )


def to_inbound(parsed: ParsedEmail, *, provider_id: str) -> InboundMessage:
    defects = list(parsed.errors)
    attachments = []
    for item in parsed.attachments:
        attachments.append(
            InboundAttachment(
                filename=item.filename,
                content_type=item.content_type,
                size=item.size,
                md5=item.md5,
                sha256=item.sha256,
                content_id=item.content_id,
                is_inline=item.is_inline,
                data=item.data,
                refused_reason=item.refused_reason,
            )
        )
    text = parsed.new_text or parsed.text
    if not text.strip():
        text = parsed.subject or _("(empty message)")
        if not parsed.attachments:
            defects.append(_("The email had no text."))
    return InboundMessage(
        channel=Channel.EMAIL,
        provider_id=provider_id,
        identities=[Identity(kind=IdentityKind.EMAIL, value=parsed.from_.email)],
        text=text,
        name=parsed.from_.name,
        subject=parsed.subject,
        sent_at=parsed.date,
        html=parsed.html,
        quoted_text=parsed.quoted_text,
        attachments=attachments,
        defects=defects,
        reply_token=parsed.reply_token,
        thread_message_ids=parsed.thread_message_ids,
        thread_ticket_number=parsed.ticket_tag,
        email_message_id=parsed.message_id,
    )


class EmailRefused(Refused):
    """The mail cannot become a ticket; the reason is kept on the inbound record."""


def email_process(record: InboundRecord) -> IntakeResult | None:
    """Take one stored email in. Returns the intake result, or None for a mail that is
    handled without a ticket (a bounce). Raises EmailRefused with the reason for one that
    cannot become a ticket."""
    raw = bytes(record.raw or b"")
    parsed = parse(raw)
    if parsed.is_bounce:
        bounced = message_mark_bounced(
            email_message_id=parsed.bounced_message_id, reason=parsed.bounce_reason
        )
        logger.info(
            "bounce %s for %s (%s)",
            record.provider_id,
            parsed.bounced_message_id or "unknown message",
            "matched" if bounced else "no match",
        )
        return None
    if parsed.refusal_reason:
        raise EmailRefused(parsed.refusal_reason)
    inbound = to_inbound(parsed, provider_id=record.provider_id)
    over_limit = record.payload.get("over_limit_bytes") if isinstance(record.payload, dict) else 0
    if over_limit:
        # The IMAP poller took only the headers of a mail too large to take in whole.
        note = _(
            "The email was %(size)d bytes, over the limit; only its headers were taken in. "
            "The whole email is still in the mailbox."
        ) % {"size": over_limit}
        inbound = replace(inbound, defects=[*inbound.defects, note])
    result = intake_message(inbound=inbound)
    if result.created and result.ticket_opened and not parsed.is_auto_generated:
        ticket_acknowledge_opened(ticket=result.ticket)
    return result
