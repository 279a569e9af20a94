"""Delivery failure reports: is this mail a bounce, and of which of our messages?

A bounce marks our outbound message failed instead of opening a ticket. Two shapes arrive:
standard DSNs (RFC 3464: multipart/report with a message/delivery-status part and, usually,
the original message or its headers), and the free-text notices of older or Chinese
providers ("系统退信", "Undelivered Mail Returned to Sender") from a mailer daemon. For the
second kind the original Message-ID is fished from the quoted headers in the text.
"""

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser

from channels_ingest.email.headers import message_ids, parse_parameterised, unfold
from channels_ingest.email.parsed import Address
from channels_ingest.email.transfer import decode_body
from channels_ingest.email.tree import (
    MAX_DEPTH,
    content_type,
    embedded_message,
    is_container,
    repaired_multipart,
)

_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon"}
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status notification|failure|has failed)|returned mail|"
    r"failure notice|mail delivery (?:failed|system)|could not be delivered|"
    r"退信|无法投递|未能送达|投递失败|发送失败|無法傳遞|傳送失敗",
    re.IGNORECASE,
)
_QUOTED_MESSAGE_ID = re.compile(r"^\s*>?\s*message-id\s*:\s*(<[^<>\s]+>)", re.I | re.M)
_STATUS_PARTS = {"message/delivery-status", "message/global-delivery-status"}
_ORIGINAL_PARTS = {"message/rfc822", "message/global", "text/rfc822-headers"}
_ORIGINAL_HEADER_PARTS = {"text/rfc822-headers", "message/global-headers"}


@dataclass(frozen=True)
class Bounce:
    is_report: bool  # a delivery report of any kind (also "delayed" or "delivered")
    is_failure: bool  # delivery failed for good: mark our message failed
    message_id: str  # the Message-ID of the message it reports on, when found
    reason: str  # "5.1.1 smtp; 550 user unknown", or the report's action


NOT_A_BOUNCE = Bounce(is_report=False, is_failure=False, message_id="", reason="")


def read_bounce(*, message: Message, sender: Address, subject: str, text: str) -> Bounce:
    status_blocks: list[Message] = []
    original_ids: list[str] = []
    _collect(message, status_blocks, original_ids, depth=0)
    is_dsn = bool(status_blocks) or (
        content_type(message) == "multipart/report" and _report_type(message) == "delivery-status"
    )
    local_part = sender.email.rsplit("@", 1)[0].lower()
    looks_like_notice = local_part in _DAEMONS and bool(_BOUNCE_SUBJECT.search(subject))
    if not is_dsn and not looks_like_notice:
        return NOT_A_BOUNCE
    message_id = original_ids[0] if original_ids else ""
    if not message_id:
        quoted = _QUOTED_MESSAGE_ID.search(text)
        message_id = message_ids(quoted.group(1))[0] if quoted else ""
    if not is_dsn:
        return Bounce(is_report=True, is_failure=True, message_id=message_id, reason=subject)
    actions, reasons = _recipient_outcomes(status_blocks)
    # Per RFC 3464 a report may cover several recipients; one failed recipient is a failure.
    is_failure = "failed" in actions or not actions
    reason = "; ".join(reasons) or ", ".join(sorted(actions))
    return Bounce(is_report=True, is_failure=is_failure, message_id=message_id, reason=reason)


def _collect(part: Message, blocks: list[Message], ids: list[str], *, depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    kind = content_type(part)
    if kind in _STATUS_PARTS:
        payload = part.get_payload()
        if isinstance(payload, list):
            blocks.extend(item for item in payload if isinstance(item, Message))
        else:
            # Unparsed (e.g. base64-encoded) status: parse its field blocks ourselves.
            data = decode_body(part).data.replace(b"\r\n", b"\n")
            for chunk in data.split(b"\n\n"):
                blocks.append(BytesHeaderParser().parsebytes(chunk))
        return
    if kind in _ORIGINAL_HEADER_PARTS:
        headers = BytesHeaderParser().parsebytes(decode_body(part).data)
        ids.extend(message_ids(str(headers.get("message-id", ""))))
        return
    if kind in _ORIGINAL_PARTS:
        inner = embedded_message(part)
        if inner is not None:
            ids.extend(_header_ids(inner, "message-id"))
        return
    if kind.startswith("multipart/"):
        if not is_container(part):
            repaired = repaired_multipart(part, kind=kind)
            if repaired is not None:
                _collect(repaired, blocks, ids, depth=depth + 1)
            return
        for child in part.get_payload():
            if isinstance(child, Message):
                _collect(child, blocks, ids, depth=depth + 1)


def _report_type(message: Message) -> str:
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == "content-type"), "")
    return parse_parameterised(raw, where="Content-Type").params.get("report-type", "").lower()


def _header_ids(message: Message, name: str) -> list[str]:
    found: list[str] = []
    for key, value in message.raw_items():
        if key.lower() == name:
            found.extend(message_ids(value))
    return found


def _recipient_outcomes(blocks: list[Message]) -> tuple[set[str], list[str]]:
    actions: set[str] = set()
    reasons: list[str] = []
    for block in blocks:
        fields = {key.lower(): unfold(str(value)).strip() for key, value in block.raw_items()}
        action = fields.get("action", "").lower()
        if not action:
            continue  # the per-message block (Reporting-MTA), not a recipient
        actions.add(action)
        if action == "failed":
            detail = " ".join(
                filter(None, [fields.get("status", ""), fields.get("diagnostic-code", "")])
            )
            recipient = fields.get("final-recipient", "").split(";")[-1].strip()
            reasons.append(f"{recipient}: {detail}" if recipient else detail)
    return actions, reasons
