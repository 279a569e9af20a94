"""The normalised shape every channel hands to intake."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Identity:
    kind: str  # an IdentityKind value
    value: str  # raw; intake normalises it


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    size: int
    md5: str
    sha256: str
    content_id: str = ""
    is_inline: bool = False
    data: bytes | None = None  # None when the channel refused it (too large)
    refused_reason: str = ""


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # a Channel value
    provider_id: str  # the provider's id of this message, unique per channel
    identities: list[Identity]
    text: str
    name: str = ""
    subject: str = ""
    sent_at: datetime | None = None
    html: str = ""  # already sanitised by the channel
    quoted_text: str = ""  # quoted or forwarded history, shown folded
    attachments: list[InboundAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)  # shown on the ticket
    # Thread hints, strongest first: a per-ticket reply token, the message ids this one
    # answers (email In-Reply-To/References), a ticket number (e.g. a subject tag).
    reply_token: str = ""
    thread_message_ids: tuple[str, ...] = ()
    thread_ticket_number: str = ""
    # The number the sender was already given (queued intake,
    # tickets.services.promise.ticket_promise): the message goes into that ticket, which opens
    # under it if it does not exist yet.
    promised_ticket_number: str = ""
    email_message_id: str = ""
    # The team the channel itself answers with (a chat site's team): a new ticket goes there
    # instead of where routing rules would send its category.
    team_id: int | None = None
    # A ticket an agent opens by hand (a phone call, a customer at a store counter): always a
    # new ticket, never threaded into an open one (tickets.services.manual).
    opens_ticket: bool = False
