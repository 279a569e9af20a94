"""Header values to text: RFC 2047 encoded words, RFC 2231 parameters, raw 8-bit bytes.

We read headers raw (`Message.raw_items()`) and decode them here instead of through the
standard library's header objects, because those turn raw GBK bytes in a Subject or a filename
into replacement characters and drop encoded words in a charset they do not know. Chinese
mailers do both every day: Foxmail and older Outlook write `filename="=?GBK?B?...?="` inside a
quoted parameter, and some gateways pass 8-bit headers through untouched.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime
from urllib.parse import unquote_to_bytes

from channels_ingest.email.charsets import decode_text
from channels_ingest.email.parsed import Address

# Tolerant on purpose: the charset may carry an RFC 2231 language (`utf-8*zh`), the encoded
# text may contain spaces or `?` that RFC 2047 forbids; only the `?=` terminator ends it, and a
# word never crosses a line.
_ENCODED_WORD = re.compile(
    r"=\?(?P<charset>[^?\s*]+)(?:\*[^?\s]*)?\?(?P<encoding>[bBqQ])\?(?P<text>[^\r\n]*?)\?="
)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_MESSAGE_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")
_QUOTED_PAIR = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Decoded:
    text: str
    notes: tuple[str, ...]


def unfold(value: str) -> str:
    return _FOLD.sub("", value).replace("\r", "").replace("\n", "")


def raw_to_bytes(value: str) -> bytes:
    """A raw header string back to its bytes (8-bit bytes come as surrogate escapes)."""
    return value.encode("utf-8", errors="surrogateescape")


def decode_8bit(value: str, *, where: str) -> Decoded:
    """Text of a header that may contain raw 8-bit bytes and no encoded words."""
    if value.isascii():
        return Decoded(text=value, notes=())
    decoded = decode_text(raw_to_bytes(value), where=where)
    return Decoded(text=decoded.text, notes=(decoded.note,) if decoded.note else ())


def decode_words(value: str, *, where: str) -> Decoded:
    """Decode RFC 2047 encoded words anywhere in `value`; raw 8-bit runs are decoded too.

    Whitespace between two encoded words is dropped (RFC 2047 §6.2). Adjacent words in the
    same charset are joined as bytes before decoding, because encoders split a long UTF-8 or
    GBK subject at byte counts, often in the middle of a character. A word that cannot be
    decoded is kept as written, with a note, rather than lost.
    """
    value = unfold(value)
    notes: list[str] = []
    pieces: list[str] = []
    pending_charset = ""
    pending = bytearray()
    position = 0

    def flush() -> None:
        nonlocal pending_charset
        if pending_charset:
            decoded = decode_text(bytes(pending), declared=pending_charset, where=where)
            pieces.append(decoded.text)
            if decoded.note:
                notes.append(decoded.note)
        pending.clear()
        pending_charset = ""

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (pending_charset and between.isspace()):
            flush()
            plain = decode_8bit(between, where=where)
            pieces.append(plain.text)
            notes.extend(plain.notes)
        position = match.end()
        data = _word_bytes(match.group("encoding"), match.group("text"))
        if data is None:
            flush()
            pieces.append(match.group(0))
            notes.append(f"undecodable encoded word in {where}: {match.group(0)[:60]}")
            continue
        charset = match.group("charset").lower()
        if pending_charset and charset != pending_charset:
            flush()
        pending_charset = charset
        pending.extend(data)
    flush()
    rest = decode_8bit(value[position:], where=where)
    pieces.append(rest.text)
    notes.extend(rest.notes)
    return Decoded(text="".join(pieces), notes=tuple(dict.fromkeys(notes)))


def _word_bytes(encoding: str, text: str) -> bytes | None:
    if encoding in "bB":
        clean = re.sub(r"[^A-Za-z0-9+/]", "", text.split("=", 1)[0])
        if len(clean) % 4 == 1:
            return None
        try:
            return base64.b64decode(clean + "=" * (-len(clean) % 4))
        except (binascii.Error, ValueError):
            return None
    raw = raw_to_bytes(text.replace("_", " "))
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def clean_text(value: str) -> str:
    """Text safe to store and print: no NUL (PostgreSQL refuses it) or lone surrogates."""
    value = value.replace("\x00", "")
    if value.isascii():
        return value
    return value.encode("utf-8", errors="replace").decode("utf-8")


# --- addresses -------------------------------------------------------------------------------


def parse_addresses(values: list[str], *, where: str) -> tuple[list[Address], list[str]]:
    """Addresses of address headers, names decoded; groups and empty entries dropped.

    Addresses are split on the raw value, before decoding, so that a decoded display name
    holding a comma ("张三, 客服部") does not split one address in two.
    """
    if not values:  # most mail has no Sender, Reply-To, Cc or Return-Path
        return [], []
    notes: list[str] = []
    mailboxes: list[Address] = []
    # getaddresses does not know encoded words; make each one a quoted string so that the
    # `?`, `=` and specials inside it cannot derail the address grammar.
    prepared = [_quote_encoded_words(unfold(value)) for value in values]
    try:
        pairs = getaddresses(prepared)
    except Exception as error:  # the address parser has raised on hostile input before
        return [], [f"unparseable {where}: {error}"]
    for name, address in pairs:
        address = clean_text(decode_8bit(address, where=where).text.strip().strip("<>"))
        if "@" not in address:
            if address or name:
                notes.append(f"{where} holds something that is not an address: {address!r}")
            continue
        decoded = decode_words(name, where=where)
        notes.extend(decoded.notes)
        mailboxes.append(Address(name=clean_text(decoded.text.strip()), email=address))
    return mailboxes, notes


def _quote_encoded_words(value: str) -> str:
    def quote(match: re.Match[str]) -> str:
        start = match.start()
        inside_quotes = value.count('"', 0, start) % 2 == 1
        return match.group(0) if inside_quotes else f'"{match.group(0)}"'

    return _ENCODED_WORD.sub(quote, value)


# --- identifiers and dates --------------------------------------------------------------------


def message_ids(value: str) -> list[str]:
    """Message-IDs in a Message-ID, In-Reply-To or References value, without angle brackets.

    Some mailers write ids without brackets; then every whitespace-separated token with an @
    counts.
    """
    value = unfold(value)
    found = _MESSAGE_ID.findall(value)
    if not found:
        found = [token.strip("<>,;") for token in value.split() if "@" in token]
    return [clean_text(item) for item in dict.fromkeys(found) if item]


def parse_date(value: str) -> tuple[datetime | None, str]:
    """(aware datetime, note). A date without a zone (or `-0000`) is taken as UTC."""
    value = unfold(value).strip()
    if not value:
        return None, ""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        shown = decode_8bit(value, where="Date header").text
        return None, f"unparseable Date header: {clean_text(shown)[:80]}"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed, ""


# --- parameters (Content-Type, Content-Disposition) ------------------------------------------


@dataclass(frozen=True)
class ParameterisedValue:
    value: str  # the main value, lower-case: "text/plain", "attachment"
    params: dict[str, str]  # names lower-case, values decoded
    notes: tuple[str, ...]


_PARAM = re.compile(
    r"""\s*(?P<name>[^=;\s]+)\s*=\s*(?P<value>"(?:[^"\\]|\\.)*"?|[^;]*)""", re.DOTALL
)
_SECTION = re.compile(r"^(?P<name>[^*]+)\*(?P<index>\d+)?(?P<extended>\*)?$")


def parse_parameterised(raw: str, *, where: str) -> ParameterisedValue:
    """Split `type/subtype; a=1; b*=utf-8''%E4%BD%A0` into the value and decoded parameters.

    Handles RFC 2231 (charset, language, continuations `name*0*=`/`name*1=`), encoded words
    inside quoted values (not allowed, sent anyway), and raw 8-bit values.
    """
    text = unfold(raw)
    head, _, rest = text.partition(";")
    notes: list[str] = []
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for match in _PARAM.finditer(rest):
        name = match.group("name").strip().lower()
        value = match.group("value").strip()
        if value.startswith('"'):
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1] if value.endswith('"') else value[1:])
        section = _SECTION.match(name)
        if section:
            index = int(section.group("index") or 0)
            sections.setdefault(section.group("name"), {})[index] = (
                value,
                bool(section.group("extended")) or section.group("index") is None,
            )
        else:
            plain.setdefault(name, value)
    params: dict[str, str] = {}
    for name, value in plain.items():
        decoded = decode_words(value, where=where)
        params[name] = clean_text(decoded.text)
        notes.extend(decoded.notes)
    for name, parts in sections.items():
        decoded_value, more = _join_rfc2231(parts, where=where)
        notes.extend(more)
        # An RFC 2231 value wins over the plain one: mailers send both, the plain one
        # squeezed into ASCII for old readers.
        params[name] = clean_text(decoded_value)
    return ParameterisedValue(
        value=head.strip().strip("\"'").lower(), params=params, notes=tuple(notes)
    )


def _join_rfc2231(parts: dict[int, tuple[str, bool]], *, where: str) -> tuple[str, list[str]]:
    charset = ""
    data = bytearray()
    for position, index in enumerate(sorted(parts)):
        value, extended = parts[index]
        if position == 0 and extended and value.count("'") >= 2:
            charset, _language, value = value.split("'", 2)
        if extended:
            data += unquote_to_bytes(raw_to_bytes(value))
        else:
            data += raw_to_bytes(value)
    decoded = decode_text(bytes(data), declared=charset, where=where)
    text = decoded.text
    notes = [decoded.note] if decoded.note else []
    if "=?" in text:
        words = decode_words(text, where=where)
        text = words.text
        notes.extend(words.notes)
    return text, notes
