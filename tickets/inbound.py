"""The normalised shape every channel hands to intake."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Identity:
    kind: str  # an IdentityKind value
    value: str  # raw; intake normalises it


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # a Channel value
    provider_id: str  # the provider's id of this message, unique per channel
    identities: list[Identity]
    text: str
    name: str = ""
    subject: str = ""
    sent_at: datetime | None = None
    thread_ticket_number: str = ""  # a hint such as a ticket tag, when the channel has one
    extra: dict[str, str] = field(default_factory=dict)
