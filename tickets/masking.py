"""Masking personal numbers that people write in free text: phone numbers, Chinese resident
ID numbers and bank-card numbers, for what agents see of messages and ticket subjects.

The stored text never changes (the answer bot, triage and the order lookup read it as
written); the agent pages and the events pushed to browsers show `mask_text` of it, and a
reveal (audited) shows the original. Contact identities are masked by `tickets.identity`.

Each kind is found by its own shape and check, so that order numbers, Kefu ticket numbers,
prices and dates stay readable:
- phone numbers by libphonenumber (China as the default region), only those that are valid
  and belong to a person (mobile, fixed line, VoIP, personal), not service hotlines (400/800);
  kept: the prefix and the first three digits of the number, and the last four
  (`138****5678`, `+86 138-****-5678`);
- resident ID numbers: 18 characters, a real date of birth and the ISO 7064 check character
  (`1101**********123X`);
- bank cards: 13 to 19 digits, alone or in groups, a card scheme's prefix and a valid Luhn
  check digit (`6222 **** **** 1234`);
and none of them where the text calls the number an order number.
"""

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import phonenumbers

from tickets.numbers import luhn_digit

MASK = "*"

# Full-width digits (and the full-width X of an ID number) are found like ASCII ones; the
# translation keeps every character in place, so spans found in the copy fit the original.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")

_PERSONAL_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
}

# Not part of a longer code: no ASCII letter or digit right before or after. Chinese text and
# punctuation around a number are fine (`电话13812345678谢谢`).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})\d{3}[\dXx](?![0-9A-Za-z])")
_CARD_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
# What a number after "订单号" / "order no." looks like (as `tickets.selectors` reads order
# numbers): such a number is the customer's order, never masked.
_ORDER_NUMBER = re.compile(
    r"(?:订单(?:编号|号码|号)?|order\s*(?:no\.?|number|#|id)?)\s*[:：#]?\s*"
    r"((?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{5,31}(?: \d{2,})*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # "phone", "id_number" or "bank_card"
    keep_head: int  # digits shown at the start
    keep_tail: int  # digits shown at the end


def _is_id_number(text: str) -> bool:
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= 2100:
        return False
    total = sum(int(char) * weight for char, weight in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17].upper()


def _is_card_scheme(digits: str) -> bool:
    """A prefix some card scheme issues: UnionPay 62, Visa 4, Mastercard 51–55 and
    2221–2720, American Express 34/37, JCB 35, Diners 30/36/38/39, Discover 6011/64/65."""
    two, four = int(digits[:2]), int(digits[:4])
    return (
        digits[0] == "4"
        or two in (34, 35, 36, 37, 38, 39, 30, 62, 64, 65)
        or 51 <= two <= 55
        or 2221 <= four <= 2720
        or digits.startswith("6011")
    )


def _is_card_number(digits: str) -> bool:
    return (
        13 <= len(digits) <= 19
        and _is_card_scheme(digits)
        and luhn_digit(digits[:-1]) == int(digits[-1])
    )


def sensitive_spans(text: str) -> list[Span]:
    """Where the personal numbers are in `text`, in order, not overlapping."""
    if not text:
        return []
    plain = text.translate(_FULL_WIDTH)
    found: list[Span] = []
    for match in _ID_NUMBER.finditer(plain):
        if _is_id_number(match.group(0)):
            found.append(Span(match.start(), match.end(), "id_number", 4, 4))
    for match in _CARD_NUMBER.finditer(plain):
        digits = re.sub(r"\D", "", match.group(0))
        if _is_card_number(digits):
            found.append(Span(match.start(), match.end(), "bank_card", 4, 4))
    for phone in phonenumbers.PhoneNumberMatcher(plain, "CN"):
        number = phone.number
        if phonenumbers.number_type(number) not in _PERSONAL_PHONE_TYPES:
            continue
        written = sum(char.isdigit() for char in phone.raw_string)
        national = len(phonenumbers.national_significant_number(number))
        # The country code or trunk prefix as written, then three digits of the number.
        found.append(Span(phone.start, phone.end, "phone", written - national + 3, 4))
    orders = [(m.start(1), m.end(1)) for m in _ORDER_NUMBER.finditer(plain)]
    spans: list[Span] = []
    # Longer first, so a card or an ID wins over a phone number found inside it.
    for span in sorted(found, key=lambda s: (s.start, -(s.end - s.start))):
        if spans and span.start < spans[-1].end:
            continue
        if any(start <= span.start and span.end <= end for start, end in orders):
            continue
        spans.append(span)
    return spans


def _mask_span(part: str, span: Span) -> str:
    plain = part.translate(_FULL_WIDTH)
    # The last character of an ID number may be an X; it counts as a digit there.
    counted = [char.isdigit() or (span.kind == "id_number" and char in "Xx") for char in plain]
    digits = sum(counted)
    out = []
    position = 0
    for char, is_digit in zip(part, counted, strict=True):
        if is_digit:
            hidden = span.keep_head <= position < digits - span.keep_tail
            out.append(MASK if hidden else char)
            position += 1
        else:
            out.append(char)
    return "".join(out)


# Where a text may be cut without cutting a number in two: before a Chinese character, a
# letter other than the X of an ID number, a line break or punctuation that no number
# contains (a phone number may contain spaces, dashes, dots, slashes and brackets).
_BOUNDARY = re.compile(r"[\u3400-\u9fff\n，。！？；：、,;!?A-WYZa-wyz]")
CUT_SLACK = 64


def safe_cut(text: str, at: int) -> int:
    """A position at or after `at` (by at most CUT_SLACK) where cutting `text` cuts no
    number, so that masking each side on its own masks what masking the whole would; `at`
    itself in a text with no such place nearby (a long run of digits and spaces)."""
    if at >= len(text):
        return len(text)
    match = _BOUNDARY.search(text, at, at + CUT_SLACK)
    return match.start() if match else at


def mask_text(text: str) -> str:
    """`text` with every personal number masked; the same text when there is none."""
    if len(text) <= _CHUNK_CHARS:
        return _mask_cached(text)
    # libphonenumber's matcher slows down more than linearly with the length of a text full
    # of digits (a megabyte of them: minutes); cut at safe places, it stays linear.
    parts = []
    start = 0
    while start < len(text):
        end = safe_cut(text, start + _CHUNK_CHARS)
        parts.append(_mask(text[start:end]))
        start = end
    return "".join(parts)


# Finding phone numbers costs libphonenumber about 0.2 ms per run of digits; a timeline's
# page is drawn again on every change of the ticket, and its texts rarely change.
_CHUNK_CHARS = 4096


@lru_cache(maxsize=2048)
def _mask_cached(text: str) -> str:
    return _mask(text)


def _mask(text: str) -> str:
    spans = sensitive_spans(text)
    if not spans:
        return text
    parts = []
    position = 0
    for span in spans:
        parts.append(text[position : span.start])
        parts.append(_mask_span(text[span.start : span.end], span))
        position = span.end
    parts.append(text[position:])
    return "".join(parts)
