"""What the pipeline asks of a channel: how a stored payload of it is taken in, and whether
its edges may answer before that happens."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from channels_ingest.models import InboundRecord
from tickets.services.intake import IntakeResult


class Refused(Exception):
    """A stored payload that can never become a message; the reason is kept on the record."""


@dataclass(frozen=True)
class ChannelAdapter:
    # Normalise a stored payload and take it into the core, inside the caller's transaction.
    # Returns the intake result, or None for a payload handled without a message (an SMS
    # opt-out, a bounce, a call event that opens nothing). Raises Refused, or the core's
    # ValidationError, for one that can never become a message. Safe to run again: intake is
    # idempotent on (channel, provider id).
    process: Callable[[InboundRecord], IntakeResult | None]
    # The edges only tell their sender that the payload is stored, so in queued mode the door
    # answers as soon as it is and the doorbell's drain takes it in (app, SMS). Otherwise the
    # payload is taken in before the door returns, whatever the mode.
    may_queue: bool = False
    # The ticket number promised to the sender before the payload is stored, in queued mode
    # (ADR 0003). Raises the core's ValidationError when the payload names no usable identity.
    promise: Callable[[InboundRecord], str] | None = None
    # Stored and committed on its own before it is processed, in a second transaction: the
    # order the IMAP poller's crash safety is written in (docs/email.md), which lets that
    # transaction skip waiting for the disk when nobody is told the result (ADR 0004), and a
    # failed parse never has to send the mail's bytes to the database again. Other channels
    # store and take in in one transaction: one commit.
    stores_first: bool = False
    # Take in together, inside the caller's transaction, those of a batch of stored payloads
    # (a drain's, oldest first) that can be: the results by record pk. The rest are left
    # untouched and taken in one by one with `process`, which must decide them the same.
    process_many: Callable[[Sequence[InboundRecord]], dict[int, IntakeResult]] | None = None
