"""Who a chat visitor is (a user id signed by the shop, or an anonymous visitor id), and
which pages may open the widget.

The shop's server signs `"{site key}|{user id}|{expires}"` (UTF-8) with the site's secret,
HMAC-SHA256, hex digest; `expires` is a Unix time in seconds. On a site that requires signed
visitors, it also signs each anonymous visitor id it hands out: `"{site key}|visitor:{id}"`.
The two messages cannot be mistaken for each other: a user id may not start with `visitor:`
and a visitor id holds no `|`. See docs/chat.md.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

# Anonymous visitors are customers keyed by this prefix plus their random id; a signed user
# id may not take it, so an anonymous visitor can never speak for a shop account.
VISITOR_PREFIX = "visitor:"
VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAX_USER_ID_LENGTH = 100


class VisitorRefused(Exception):
    """The claimed identity is not proven; `code` is what the widget is told."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Visitor:
    address: str  # the app-user identity the conversation is keyed by
    name: str
    is_signed: bool


def signature_message(*, site_key: str, user_id: str, expires: int) -> bytes:
    return f"{site_key}|{user_id}|{expires}".encode()


def sign_visitor(*, secret: str, site_key: str, user_id: str, expires: int) -> str:
    """What the shop's server computes (here for the demo page and the tests)."""
    message = signature_message(site_key=site_key, user_id=user_id, expires=expires)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def visitor_verify(
    *,
    secret: str,
    site_key: str,
    user_id: str,
    expires: str,
    signature: str,
    name: str,
    now: float,
    max_ahead_seconds: int,
) -> Visitor:
    """A signed visitor, or VisitorRefused. The expiry must be in the future but not further
    ahead than `max_ahead_seconds`, so a leaked signature stops working within that time."""
    if not user_id or len(user_id) > MAX_USER_ID_LENGTH or user_id != user_id.strip():
        raise VisitorRefused("bad_user", "malformed user id")
    if user_id.startswith(VISITOR_PREFIX):
        raise VisitorRefused("bad_user", "user ids may not start with the visitor prefix")
    if not expires.isdigit() or len(expires) > 12:
        raise VisitorRefused("bad_signature", "malformed expiry")
    expires_at = int(expires)
    if not re.fullmatch(r"[0-9a-f]{64}", signature.lower()):
        raise VisitorRefused("bad_signature", "malformed signature")
    expected = sign_visitor(secret=secret, site_key=site_key, user_id=user_id, expires=expires_at)
    # Checked before the expiry, so that "expired" is only ever said about a real signature.
    if not hmac.compare_digest(expected, signature.lower()):
        raise VisitorRefused("bad_signature", "signature does not match")
    if expires_at <= now:
        raise VisitorRefused("expired", "signature expired")
    if expires_at > now + max_ahead_seconds:
        raise VisitorRefused("bad_signature", "expiry too far ahead")
    return Visitor(address=user_id, name=name[:200], is_signed=True)


def visitor_anonymous(*, visitor_id: str, name: str) -> Visitor:
    if not VISITOR_ID.fullmatch(visitor_id):
        raise VisitorRefused("bad_visitor", "malformed visitor id")
    return Visitor(address=VISITOR_PREFIX + visitor_id, name=name[:200], is_signed=False)


def sign_anonymous_visitor(*, secret: str, site_key: str, visitor_id: str) -> str:
    """What the shop's server computes for an anonymous visitor id it hands to the widget."""
    message = f"{site_key}|{VISITOR_PREFIX}{visitor_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def visitor_anonymous_verify(
    *, secret: str, site_key: str, visitor_id: str, signature: str, name: str
) -> Visitor:
    """An anonymous visitor whose id the shop signed, or VisitorRefused. Still anonymous (the
    shop vouches for the id, not for a person), so `is_signed` stays false."""
    visitor = visitor_anonymous(visitor_id=visitor_id, name=name)
    expected = sign_anonymous_visitor(secret=secret, site_key=site_key, visitor_id=visitor_id)
    if not hmac.compare_digest(expected, signature.lower()):
        raise VisitorRefused("bad_signature", "visitor id not signed by the shop")
    return visitor


def origin_allowed(*, origin: str, allowed: set[str]) -> bool:
    """Whether the page's Origin header is one of the site's (exact scheme, host and port)."""
    return bool(origin) and origin.strip().rstrip("/").lower() in allowed
