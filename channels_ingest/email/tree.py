"""The MIME tree as the standard library parses it, with the repairs it does not make itself.

`email.message_from_bytes(raw, policy=default)` splits the tree (a `default` policy that reuses
parsed header objects, see `POLICY`); this module answers the questions the parser and the
corpus benchmark both ask of it: what a part's content type is (even when its header is
broken), what message an attached message/rfc822 holds (also when the sender base64-encoded
it, which the standard library leaves as an undecoded body), and which leaf parts there are,
numbered the way Apache mime4j numbers them (1, 1_2, 1_2_1, …).
"""

import email
import email.policy
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.headerregistry import BaseHeader
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any, cast

from channels_ingest.email.transfer import decode_transfer, raw_payload, transfer_encoding


class _ReusingPolicy(email.policy.EmailPolicy):
    """The `default` policy, except that a header value fetched again (`part.get(...)`,
    and the parser's own `get_content_type()`/`get_boundary()` calls while it splits the
    tree) is not parsed again: the header object built for the same name and value is
    reused. Building one is most of the cost of parsing ordinary mail, and the same values
    ("text/plain; charset=gbk", "base64", a multipart's Content-Type) are fetched several
    times per mail and recur from mail to mail. Header objects are immutable and depend on
    nothing but the name and the value, so what a caller gets is the same as before.
    """

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if hasattr(value, "name"):
            return value
        key = (name, value)
        found = _HEADERS.get(key)
        if found is None:
            found = super().header_fetch_parse(name, value)
            if len(value) <= _HEADER_CACHE_MAX_VALUE:
                if len(_HEADERS) >= _HEADER_CACHE_SIZE:
                    _HEADERS.clear()
                _HEADERS[key] = found
        return found


_HEADERS: dict[tuple[str, str], BaseHeader] = {}
_HEADER_CACHE_SIZE = 512  # per process; cleared when full (values recur within minutes)
_HEADER_CACHE_MAX_VALUE = 1000  # characters; longer values are parsed every time

# `email.policy.default` with the header reuse above; everything else is the same.
POLICY = _ReusingPolicy()
# Serialising an attached message back to bytes: no refolding of long headers and no
# ">From " mangling, so well-formed mail comes out as it went in.
_SERIALISE_POLICY = email.policy.default.clone(refold_source="none", max_line_length=0)
# A message nested deeper than this is treated as an opaque attachment: real mail nests a
# handful of levels; hostile mail nests thousands to exhaust the stack.
MAX_DEPTH = 40


def parse_tree(raw: bytes) -> Message:
    """The parsed message; with the compat32 policy when the default one raises.

    The default policy parses structured headers while it splits the tree, and some
    malformed Content-Type values make that raise (an IndexError deep in
    `_header_value_parser`). compat32 treats headers as plain strings and gets through;
    `used_lenient_policy` tells the caller so it can note it.
    """
    try:
        return email.message_from_bytes(raw, policy=POLICY)
    except RecursionError:
        raise
    except Exception:
        return email.message_from_bytes(raw, policy=email.policy.compat32)


def used_lenient_policy(message: Message) -> bool:
    return message.policy is email.policy.compat32


def parse_headers(raw: bytes) -> Message:
    """Only the top-level headers; the body stays one undecoded payload."""
    try:
        return BytesParser(policy=POLICY).parsebytes(raw, headersonly=True)
    except Exception:
        return BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)


def content_type(part: Message) -> str:
    """Lower-case "type/subtype"; text/plain (or message/rfc822 inside a digest) when the
    header is missing or unreadable, as RFC 2045 says.

    Read from the raw header rather than `get_content_type()`, which builds and parses a
    new header object on every call — a third of all parsing time on ordinary mail.
    """
    raw = next((value for name, value in part.raw_items() if name.lower() == "content-type"), None)
    if raw is None:
        return part.get_default_type()
    value = str(raw).split(";", 1)[0]
    value = "".join(value.split()).strip("\"'").lower()
    if value.count("/") != 1 or value.startswith("/") or value.endswith("/"):
        return "text/plain"
    return value


def is_container(part: Message) -> bool:
    return isinstance(part.get_payload(), list)


def embedded_message(part: Message) -> Message | None:
    """The message inside a message/rfc822 (or message/global) part, or None.

    RFC 2046 forbids encoding message/rfc822, yet Outlook and some gateways base64 it. The
    standard library then parses the base64 text itself as a headerless message; decode and
    parse again instead.
    """
    decoded = encoded_message_bytes(part)
    if decoded is not None:
        return parse_tree(decoded)
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    if isinstance(payload, str | bytes) and payload:
        return parse_tree(raw_payload(part))
    return None


def encoded_message_bytes(part: Message) -> bytes | None:
    """The exact bytes of an attached message its sender transfer-encoded; None when it was
    sent as it is (then only re-serialising the parsed message gives its bytes)."""
    encoding = transfer_encoding(part)
    if encoding not in {"base64", "quoted-printable"}:
        return None
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    encoded = _headerless_body(inner) if isinstance(inner, Message) else raw_payload(part)
    return decode_transfer(encoded, encoding=encoding).data


def _headerless_body(inner: Message) -> bytes:
    if not list(inner.raw_items()):
        return raw_payload(inner)
    return message_bytes(inner)


def message_bytes(message: Message, *, linesep: str = "\n") -> bytes:
    """An (attached) message serialised back to bytes, lines ending in `linesep` (use the
    enclosing mail's, so that a well-formed attachment comes out byte for byte)."""
    buffer = io.BytesIO()
    # Parsed with the default policy, every part is an EmailMessage; the stubs only know
    # that BytesGenerator wants one.
    as_email = cast(EmailMessage, message)
    try:
        strict = _SERIALISE_POLICY.clone(linesep=linesep)
        BytesGenerator(buffer, mangle_from_=False, policy=strict).flatten(as_email)
    except Exception:
        # A generator error (an unencodable header, a broken boundary) must not lose the
        # attachment: fall back to the lenient compat32 serialiser, then to plain joining.
        buffer = io.BytesIO()
        lenient = email.policy.compat32.clone(linesep=linesep)
        try:
            BytesGenerator(buffer, mangle_from_=False, policy=lenient).flatten(as_email)
        except Exception:
            return _joined_bytes(message, linesep=linesep.encode("ascii"), depth=0)
    return buffer.getvalue()


def _joined_bytes(message: Message, *, linesep: bytes, depth: int) -> bytes:
    """Headers and bodies as they were parsed, joined without any policy: never fails."""
    lines = [
        f"{name}: {value}".encode(errors="surrogateescape") for name, value in message.raw_items()
    ]
    head = linesep.join(lines) + linesep + linesep
    payload = message.get_payload()
    if not isinstance(payload, list) or depth > MAX_DEPTH:
        return head + raw_payload(message)
    boundary = (message.get_boundary() or "").encode("ascii", errors="replace")
    parts = [
        b"--" + boundary + linesep + _joined_bytes(child, linesep=linesep, depth=depth + 1)
        for child in payload
        if isinstance(child, Message)
    ]
    return head + linesep.join([*parts, b"--" + boundary + b"--"]) + linesep


@dataclass(frozen=True)
class Leaf:
    path: tuple[int, ...]
    part: Message

    @property
    def name(self) -> str:
        """mime4j's name for the part: "1_2_1"."""
        return "_".join(str(index) for index in self.path)


def leaves(message: Message) -> Iterator[Leaf]:
    """Every leaf part, depth first, with mime4j's numbering: the root message's body is 1;
    a multipart's children are numbered from 1 under it; the body of an attached message is
    1 under the attachment."""
    yield from _leaves(message, (1,), 0)


def _leaves(part: Message, path: tuple[int, ...], depth: int) -> Iterator[Leaf]:
    if depth > MAX_DEPTH:
        yield Leaf(path=path, part=part)
        return
    kind = content_type(part)
    if kind in {"message/rfc822", "message/global"}:
        inner = embedded_message(part)
        if inner is not None:
            yield from _leaves(inner, (*path, 1), depth + 1)
            return
    payload = part.get_payload()
    if isinstance(payload, list) and kind.startswith("multipart/"):
        for index, child in enumerate(payload, start=1):
            yield from _leaves(child, (*path, index), depth + 1)
        return
    yield Leaf(path=path, part=part)


_DASH_LINE = re.compile(rb"^--([!-~][ -~]{0,198}?)\s*$", re.MULTILINE)


def repaired_multipart(part: Message, *, kind: str) -> Message | None:
    """A multipart whose declared boundary never occurs (a mailer that rewrote the body, a
    missing or mangled boundary parameter) parsed again with the boundary its body actually
    uses: the most frequent "--token" line. None when no token repeats or it does not help.
    """
    body = raw_payload(part)
    counts = Counter(match.group(1).removesuffix(b"--") for match in _DASH_LINE.finditer(body))
    candidates = [
        token for token, count in counts.most_common(3) if count >= 2 and b'"' not in token
    ]
    for token in candidates:
        kind_bytes = kind.encode("ascii", errors="replace")
        header = b'Content-Type: %s; boundary="%s"\r\n\r\n' % (kind_bytes, token)
        repaired = parse_tree(header + body)
        if is_container(repaired) and repaired.get_payload():
            return repaired
    return None
