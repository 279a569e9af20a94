"""What `parse_message` returns: plain frozen values, no Django, no database."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Address:
    name: str  # display name, decoded; empty when the header had none
    email: str  # as written, not lower-cased (intake normalises identities)


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded, path parts removed; generated ("part-1.2.bin") when absent
    content_type: str  # lower-case "type/subtype"
    size: int  # decoded bytes, also when refused
    md5: str  # hex, of the decoded bytes
    sha256: str
    content_id: str  # without angle brackets; empty when none
    is_inline: bool  # shown inside the HTML (a cid: image) rather than listed under it
    data: bytes | None  # None when refused
    refused_reason: str  # empty when kept


@dataclass(frozen=True)
class ParsedEmail:
    from_: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    subject_normalised: str  # reply/forward prefixes and our ticket tag removed
    ticket_tag: str  # the ticket number inside "[K#…]" in the subject, or ""
    reply_token: str  # TOKEN of a reply+TOKEN@ recipient, or ""
    date: datetime | None  # aware
    message_id: str  # without angle brackets
    in_reply_to: str
    references: tuple[str, ...]  # oldest first, as in the header
    text: str  # the whole plain text (from text/plain, else from the HTML)
    new_text: str  # what the sender wrote this time
    quoted_text: str  # quoted replies and forwarded history, shown folded
    html: str  # sanitised; cid: URLs kept so inline images can be served
    attachments: tuple[Attachment, ...]
    is_auto_generated: bool  # never acknowledge automatically
    auto_reason: str
    is_bounce: bool  # a delivery failure report
    bounced_message_id: str  # the Message-ID of our mail that failed, when found
    bounce_reason: str  # the DSN's status and diagnostic, when given
    refusal_reason: str  # why this cannot become a ticket (no sender, empty input); else ""
    errors: tuple[str, ...]  # defects and notes, each one line, for the ticket and the log

    @property
    def thread_message_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, most recent first: In-Reply-To, then References
        from the newest back. Intake looks each up among our outbound messages."""
        ordered = [self.in_reply_to, *reversed(self.references)]
        return tuple(item for item in dict.fromkeys(ordered) if item)
