"""Limits of the chat widget: a per-socket token bucket (kept in the consumer, one per
connection), and the shared budget of new anonymous conversations per client address and
per site, counted in the cache so that every web process shares it."""

import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_ratelimit.core import get_usage

from kefu.client_ip import client_address


class TokenBucket:
    """`rate` tokens per second up to `capacity`; each allowed action takes one."""

    def __init__(
        self, *, rate: float, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1)
        self.clock = clock
        self.tokens = float(self.capacity)
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait_seconds(self) -> float:
        """How long until the next action would be allowed."""
        return 0.0 if self.tokens >= 1 or self.rate <= 0 else (1 - self.tokens) / self.rate


def socket_client_address(scope: Mapping[str, Any]) -> str:
    """The address of the client behind a socket: the peer the ASGI server saw, or, when
    that is a trusted proxy, the client its X-Forwarded-For names (kefu/client_ip.py)."""
    client = scope.get("client")
    forwarded = b",".join(
        value for name, value in scope.get("headers", ()) if name.lower() == b"x-forwarded-for"
    )
    return client_address(
        peer=str(client[0]) if client else "",
        forwarded_for=forwarded.decode("latin-1"),
    )


def _address_key(address: str) -> str:
    # One IPv6 subscriber usually holds a whole /64: counting single addresses would let
    # them start as many conversations as they like.
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


@dataclass(frozen=True)
class Admission:
    is_allowed: bool
    retry_after: int  # seconds until the budget that refused is renewed; 0 when allowed


def _take(*, group: str, value: str, per_minute: int) -> Admission:
    if per_minute <= 0:
        return Admission(is_allowed=True, retry_after=0)
    usage = get_usage(
        None,
        group=group,
        key=lambda _group, _request: value,
        rate=f"{per_minute}/m",
        increment=True,
    )
    # None: the shared limiter is switched off (RATELIMIT_ENABLE).
    if usage is None or not usage["should_limit"]:
        return Admission(is_allowed=True, retry_after=0)
    return Admission(is_allowed=False, retry_after=max(1, min(60, int(usage["time_left"]))))


def new_conversation_admit(*, site_key: str, address: str) -> Admission:
    """Count one new anonymous conversation against the client address's budget, then the
    site's, and say whether it may start. A refused attempt still counts against the
    address, so a flood from one address does not eat the site's budget."""
    admission = _take(
        group="chat.new.address",
        value=_address_key(address),
        per_minute=settings.CHAT_NEW_CONVERSATIONS_PER_ADDRESS,
    )
    if not admission.is_allowed:
        return admission
    return _take(
        group="chat.new.site", value=site_key, per_minute=settings.CHAT_NEW_CONVERSATIONS_PER_SITE
    )


def upload_admit(*, visitor_address: str, client_address: str) -> Admission:
    """Count one file upload against the visitor's budget and their client address's (a
    visitor id is free to make up, an address is not)."""
    admission = _take(
        group="chat.upload.visitor",
        value=visitor_address,
        per_minute=settings.CHAT_UPLOADS_PER_MINUTE,
    )
    if not admission.is_allowed:
        return admission
    return _take(
        group="chat.upload.address",
        value=_address_key(client_address),
        per_minute=settings.CHAT_UPLOADS_PER_MINUTE * 3,
    )
