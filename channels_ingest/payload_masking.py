"""Raw inbound payloads as the admin shows them before anyone reveals one: the shape and the
plain identifiers stay (keys, numbers, provider ids, event names), phone numbers and email
addresses are masked as on the ticket page, and free text is replaced by its length."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tickets.identity import mask_identity, normalise_email, normalise_phone
from tickets.models import IdentityKind

# A bare identifier (an event name, a provider's id, a flag): ASCII, no spaces, short. Anything
# else (a message, an address, a name written in Chinese) may say who someone is.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:/\-]{0,64}")
_PHONE_LIKE = re.compile(r"\+?[\d\s\-().]{7,24}")


def payload_masked(value: object) -> object:
    """`value` (decoded JSON) with every string masked; the structure is kept."""
    if isinstance(value, dict):
        return {key: payload_masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [payload_masked(item) for item in value]
    if isinstance(value, str):
        return _string_masked(value)
    return value


def _string_masked(text: str) -> str:
    stripped = text.strip()
    if "@" in stripped and " " not in stripped:
        try:
            return mask_identity(IdentityKind.EMAIL, normalise_email(stripped))
        except ValidationError:
            pass
    if _PHONE_LIKE.fullmatch(stripped) and sum(char.isdigit() for char in stripped) >= 7:
        try:
            return mask_identity(IdentityKind.PHONE, normalise_phone(stripped))
        except ValidationError:
            pass
    if _IDENTIFIER.fullmatch(stripped) and "@" not in stripped:
        return text
    return _("(text hidden, %(count)d characters)") % {"count": len(text)}
