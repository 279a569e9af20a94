"""Normalisation of contact identities, so one person is one customer on every channel."""

from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from tickets.models import IdentityKind

DEFAULT_PHONE_REGION = "CN"


def normalise_phone(raw: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164, China as the default region. `+86 138-0013-8000`, `13800138000` and
    `008613800138000` all give `+8613800138000`. Raises ValidationError when not a number."""
    value, problem = _e164(raw.strip(), region)
    if problem == "parse":
        raise ValidationError(_("Not a phone number: %(value)s"), params={"value": raw})
    if problem == "impossible":
        raise ValidationError(_("Not a possible phone number: %(value)s"), params={"value": raw})
    return value


# One message is normalised by the API, by intake and by the promise of its ticket: parsing
# is the dear part, and the answer never changes.
@lru_cache(maxsize=8192)
def _e164(text: str, region: str) -> tuple[str, str]:
    """(E.164, "") or ("", the problem: "parse" or "impossible")."""
    # "00" is the international prefix dialled from China; phonenumbers only strips it when it
    # knows the caller's region, which we do not, so turn it into "+" first.
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return "", "parse"
    if not phonenumbers.is_possible_number(number):
        return "", "impossible"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


def normalise_email(raw: str) -> str:
    value = raw.strip().lower()
    validate_email(value)
    return value


def normalise_identity(kind: str, raw: str) -> str:
    if kind == IdentityKind.PHONE:
        return normalise_phone(raw)
    if kind == IdentityKind.EMAIL:
        return normalise_email(raw)
    value = raw.strip()
    if not value:
        raise ValidationError(_("Empty identity"))
    return value


def mask_phone(value: str) -> str:
    """Keep the country code, the carrier prefix and the last four digits:
    `+8613800138000` → `+86138****8000`."""
    if len(value) <= 8:
        return "*" * max(len(value) - 4, 4) + value[-4:] if len(value) > 4 else "****"
    head = value[:6] if value.startswith("+86") else value[:4]
    return head + "*" * (len(value) - len(head) - 4) + value[-4:]


def mask_email(value: str) -> str:
    local, _sep, domain = value.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_identity(kind: str, value: str) -> str:
    if kind == IdentityKind.PHONE:
        return mask_phone(value)
    if kind == IdentityKind.EMAIL:
        return mask_email(value)
    return value
