"""Hand-written raw mail for the parser tests: header lines and a body, joined with CRLF."""

import base64


def mail(*headers: str | bytes, body: bytes | str = b"") -> bytes:
    """A raw message from header lines and a body; str is encoded as UTF-8 (raw 8-bit, as
    many mailers send it), bytes are kept as they are (for GBK headers and the like)."""
    lines = [line if isinstance(line, bytes) else line.encode("utf-8") for line in headers]
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    return b"\r\n".join(lines) + b"\r\n\r\n" + data


def encoded_word(text: str, charset: str, *, encoding: str = "B", label: str = "") -> str:
    """An RFC 2047 encoded word, built by hand so that the test controls the bytes; `label`
    is the charset name written into the word when it differs from the codec used."""
    data = text.encode(charset)
    name = label or charset
    if encoding == "B":
        return f"=?{name}?B?{base64.b64encode(data).decode('ascii')}?="
    quoted = "".join(
        chr(byte) if chr(byte).isascii() and chr(byte).isalnum() else f"={byte:02X}"
        for byte in data
    )
    return f"=?{name}?Q?{quoted}?="


def base64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")
