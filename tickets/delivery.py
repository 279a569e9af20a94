"""Outbound delivery: the contract between the core and the channel backends.

The core never imports a channel. Each channel's backend is named by dotted path in
`settings.KEFU_DELIVERY_BACKENDS` (like EMAIL_BACKEND) and loaded here.
"""

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class OutboundFile:
    """A file that goes with an outbound message: email attaches it (`read()`), chat and the
    app carry its `url` (a signed link that opens it without signing in)."""

    filename: str
    content_type: str
    size: int
    url: str
    storage_name: str

    def read(self) -> bytes:
        from django.core.files.storage import default_storage

        with default_storage.open(self.storage_name, "rb") as handle:
            data: bytes = handle.read()
        return data


@dataclass(frozen=True)
class Outbound:
    channel: str
    to: str  # phone (E.164), email, or app user id, by channel
    body: str
    subject: str = ""
    ticket_number: str = ""
    reference: str = ""  # our id for this message, echoed in status callbacks
    kind: str = "reply"  # reply, code (a one-time code), notification, acknowledgement
    # Threading for channels that have it (email): our Message-ID for this message, the ids
    # it answers (oldest first, the last one is In-Reply-To), the ticket's reply token.
    message_id: str = ""
    thread_message_ids: tuple[str, ...] = ()
    reply_token: str = ""
    # Email: the reply as sanitised HTML too ("" for text only), and the files it carries.
    html: str = ""
    attachments: tuple[OutboundFile, ...] = ()


@dataclass(frozen=True)
class DeliveryResult:
    status: str  # a DeliveryStatus value: sent, delivered or failed
    provider_id: str = ""
    error: str = ""


class TransientDeliveryError(Exception):
    """The provider could not be reached or asked us to retry later."""


class DeliveryBackend(Protocol):
    """`send` is required. A backend may also have `accepts(to: str) -> bool`: whether it
    would carry a message to that address at all (an SMS number that opted out would not).
    Kefu asks before it chooses a channel for a message it writes first (a notice); a
    backend without the method accepts every address (`backend_accepts`). With it, a
    backend may have `accepts_many(addresses: list[str]) -> set[str]`, the ones it would
    carry, for a batch (`backends_asked`)."""

    def send(self, outbound: Outbound) -> DeliveryResult: ...


@cache
def backend_for(channel: str) -> DeliveryBackend:
    path = settings.KEFU_DELIVERY_BACKENDS.get(channel)
    if not path:
        raise LookupError(f"no delivery backend configured for channel {channel!r}")
    backend: DeliveryBackend = import_string(path)()
    return backend


# The backends' answers for a batch's addresses (`backends_asked`), by (channel, address).
_answers: ContextVar[dict[tuple[str, str], bool] | None] = ContextVar(
    "kefu_backend_answers", default=None
)


def backend_accepts(channel: str, to: str) -> bool:
    """Whether the channel's backend would carry a message to `to`: its `accepts(to)` when it
    has one, else True. False when no backend is configured for the channel. Inside
    `backends_asked`, the answer for an address it asked about."""
    answers = _answers.get()
    if answers is not None and (channel, to) in answers:
        return answers[(channel, to)]
    try:
        backend = backend_for(channel)
    except LookupError:
        return False
    accepts = getattr(backend, "accepts", None)
    return True if accepts is None else bool(accepts(to))


@contextmanager
def backends_asked(addresses: Mapping[str, Collection[str]]) -> Iterator[None]:
    """Within the block, `backend_accepts` answers for these addresses (by channel) from one
    question to each backend that can take a batch (`accepts_many`, e.g. one look at the SMS
    opt-out list for a batch of notices or survey invitations) instead of one per address.
    Other backends are asked as before, address by address."""
    answers = dict(_answers.get() or {})
    for channel, wanted in addresses.items():
        left = sorted({to for to in wanted if to and (channel, to) not in answers})
        if not left:
            continue
        try:
            backend = backend_for(channel)
        except LookupError:
            continue  # `backend_accepts` says no itself
        accepts_many = getattr(backend, "accepts_many", None)
        if accepts_many is None:
            continue
        accepted = accepts_many(left)
        answers.update(((channel, to), to in accepted) for to in left)
    token = _answers.set(answers)
    try:
        yield
    finally:
        _answers.reset(token)
