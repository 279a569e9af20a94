"""Content-Transfer-Encoding: a part's body as the bytes the sender meant, tolerating damage.

The standard library's `get_payload(decode=True)` gives up quietly on the quirks real mail has
(a trailing space after `base64`, a line of junk inside base64, `x-uuencode`), returning the
encoded text as if it were the content. These decoders take what can be read and report what
could not, so the parser can put a note on the ticket instead of an attachment full of base64.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from email.message import Message

_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/]+=*")
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_UU_BEGIN = re.compile(
    rb"^begin(?:-base64)? [0-7]{3,4} (?P<name>[^\r\n]+?)[ \t]*\r?$", re.MULTILINE
)
_UU_END = re.compile(rb"^(?:end|====)[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True)
class Body:
    data: bytes
    note: str  # what went wrong while decoding; empty when nothing did


def transfer_encoding(part: Message) -> str:
    """The part's Content-Transfer-Encoding, lower-case, without the stray spaces or quotes
    some mailers add; "7bit" when absent."""
    value = part.get("content-transfer-encoding")
    if value is None:
        return "7bit"
    return str(value).strip().strip("\"'").lower() or "7bit"


def raw_payload(part: Message) -> bytes:
    """The part's body exactly as it stood in the message (still transfer-encoded).

    Read from the stored payload, not through `get_payload()`: that decodes 8-bit text with
    the declared charset and replaces what does not fit, losing the bytes we need to guess
    the real charset. The parser stores 8-bit bytes as surrogate escapes; turning them back
    gives the original bytes.
    """
    payload = getattr(part, "_payload", None)  # the only way to the raw bytes
    if isinstance(payload, bytes):
        return payload
    if not isinstance(payload, str):
        return b""
    return payload.encode("utf-8", errors="surrogateescape")


def decode_body(part: Message) -> Body:
    """The decoded bytes of a leaf part."""
    raw = raw_payload(part)
    encoding = transfer_encoding(part)
    return decode_transfer(raw, encoding=encoding)


def decode_transfer(raw: bytes, *, encoding: str) -> Body:
    if encoding == "base64":
        return decode_base64(raw)
    if encoding == "quoted-printable":
        return Body(data=decode_quoted_printable(raw), note="")
    if encoding in {"x-uuencode", "uuencode", "x-uue", "uue"}:
        blocks = find_uuencoded(raw)
        if blocks:
            return Body(data=blocks[0].data, note=blocks[0].note)
        return Body(data=raw, note="uuencoded part has no begin line; kept as it was")
    if encoding in {"7bit", "8bit", "binary", ""}:
        return Body(data=raw, note="")
    return Body(data=raw, note=f"unknown transfer encoding {encoding}; kept as it was")


def decode_base64(raw: bytes) -> Body:
    """Base64 that survives junk characters, missing padding and a truncated last quantum.

    Characters outside the alphabet inside a line are dropped. Padding ends the data, as in
    every decoder; what follows is decoded only when it is more base64 lines (a second chunk
    glued on by a broken mailer), and otherwise ignored with a note. A line holding "--" ends
    the data too: it is a closing boundary mangled so that the MIME parser missed it
    ("XXXX--boundary--"), and would otherwise decode into junk at the end of the file.
    """
    compact = raw.translate(None, b" \t\r\n")
    data = compact.rstrip(b"=")
    if not data.translate(None, _ALPHABET) and len(compact) - len(data) <= 2 and len(data) % 4 != 1:
        # The common case, in C: a 30 MB attachment would take seconds line by line.
        return Body(data=binascii.a2b_base64(data + b"=" * (-len(data) % 4)), note="")
    chunks: list[list[bytes]] = [[]]
    notes: list[str] = []
    ended = False
    for line in raw.splitlines():
        line = line.strip()
        if not line:
            continue
        if b"--" in line:
            # Never base64: a closing boundary mangled so the MIME parser missed it.
            notes.append("text after the end of the base64 data ignored")
            break
        if ended:
            if not _BASE64_LINE.fullmatch(line):
                notes.append("text after the end of the base64 data ignored")
                break
            chunks.append([])
            ended = False
        chunks[-1].append(line)
        ended = b"=" in line
    out = bytearray()
    for chunk in chunks:
        clean = _BASE64_JUNK.sub(b"", b"".join(chunk).split(b"=", 1)[0])
        remainder = len(clean) % 4
        if remainder == 1:
            clean = clean[:-1]
            notes.append("base64 data ends in a stray character; dropped")
        elif remainder:
            clean += b"=" * (4 - remainder)
        try:
            out += base64.b64decode(clean)
        except (binascii.Error, ValueError) as error:
            notes.append(f"undecodable base64 ({error}); kept what could be read")
    return Body(data=bytes(out), note="; ".join(dict.fromkeys(notes)))


def decode_quoted_printable(raw: bytes) -> bytes:
    """Quoted-printable, with hard line breaks decoded as CRLF as RFC 2045 defines them
    (the standard library writes LF), so that a QP-encoded attachment keeps its checksum."""
    out = bytearray()
    for line in raw.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        has_break = len(body) != len(line)
        # Trailing whitespace is padding added in transport (rule 3), not content.
        body = body.rstrip(b" \t")
        if body.endswith(b"="):
            out += binascii.a2b_qp(body[:-1])
            continue
        out += binascii.a2b_qp(body)
        if has_break:
            out += b"\r\n"
    return bytes(out)


@dataclass(frozen=True)
class UuBlock:
    filename: str
    data: bytes
    start: int  # offsets of the whole block (begin … end) in the searched bytes
    end: int
    note: str


def find_uuencoded(raw: bytes) -> list[UuBlock]:
    """Every `begin 644 name … end` block in `raw`, decoded."""
    blocks: list[UuBlock] = []
    position = 0
    while True:
        match = _UU_BEGIN.search(raw, position)
        if match is None:
            return blocks
        is_base64 = match.group(0).startswith(b"begin-base64")
        body_start = match.end()
        end_match = _UU_END.search(raw, body_start)
        block_end = end_match.end() if end_match else len(raw)
        body = raw[body_start : end_match.start() if end_match else len(raw)]
        if is_base64:
            decoded = decode_base64(body)
            data, note = decoded.data, decoded.note
        else:
            data, note = _decode_uu_lines(body)
        if end_match is None:
            note = "; ".join(filter(None, [note, "uuencoded block has no end line"]))
        name = match.group("name").decode("utf-8", errors="replace")
        blocks.append(
            UuBlock(filename=name, data=data, start=match.start(), end=block_end, note=note)
        )
        position = block_end


def _decode_uu_lines(body: bytes) -> tuple[bytes, str]:
    out = bytearray()
    bad_lines = 0
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # Some encoders pad lines short or long; the length byte says how many bytes the
            # line carries, which is enough to recover them (the stdlib's uu module did this).
            count = ((line[0] - 32) & 63) * 4 // 3 + 3
            try:
                out += binascii.a2b_uu(line[:count])
            except binascii.Error:
                bad_lines += 1
    note = f"{bad_lines} undecodable uuencoded line(s) skipped" if bad_lines else ""
    return bytes(out), note
