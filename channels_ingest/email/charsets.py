"""Bytes to text for every charset a Chinese retailer's mailbox meets, without ever raising.

Mail declares its charset, and is often wrong: Chinese mailers label GBK text `gb2312`, old
clients send raw GBK under `us-ascii` or none at all, Big5 arrives from Hong Kong and Taiwan
shops, ISO-2022-JP from Japanese suppliers. `decode_text` honours the declaration when the bytes
fit it, widened to the superset real mailers actually use, and otherwise guesses in a fixed
order (UTF-8, then GB18030 or Big5 by which reads more like Chinese), with a note saying so.
"""

import codecs
from dataclasses import dataclass

# Declared name → the codecs to try, widest first. Mailers write GB2312 or GBK and mean
# "whatever Windows code page 936 produces", which is a subset of GB18030; decoding as GB2312
# would fail on the first character outside the 1980 set (e.g. 镕, 堃, or the euro sign).
_WIDER: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gb_2312": ("gb18030",),
    "gb_2312-80": ("gb18030",),
    "csgb2312": ("gb18030",),
    "euc-cn": ("gb18030",),
    "x-euc-cn": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "ms936": ("gb18030",),
    "windows-936": ("gb18030",),
    "chinese": ("gb18030",),
    "gb18030": ("gb18030",),
    # Big5 as sent by Hong Kong mailers carries HKSCS characters; Windows sends cp950, whose
    # few vendor extras big5hkscs lacks.
    "big5": ("big5hkscs", "cp950"),
    "big-5": ("big5hkscs", "cp950"),
    "x-big5": ("big5hkscs", "cp950"),
    "cn-big5": ("big5hkscs", "cp950"),
    "csbig5": ("big5hkscs", "cp950"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    # Japanese mailers put half-width katakana and NEC extras into "iso-2022-jp".
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"),
    "csiso2022jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"),
    "shift_jis": ("cp932", "shift_jis"),
    "x-sjis": ("cp932", "shift_jis"),
    # What browsers do too (WHATWG): Latin-1 labels are read as windows-1252, which adds
    # curly quotes and the euro sign; a byte windows-1252 leaves undefined falls back to Latin-1.
    "iso-8859-1": ("cp1252", "latin-1"),
    "iso8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "latin-1": ("cp1252", "latin-1"),
    "ks_c_5601-1987": ("cp949",),
    "euc-kr": ("cp949",),
    "utf8": ("utf-8",),
    "unicode-1-1-utf-8": ("utf-8",),
}

# Charsets that are ASCII-only: 8-bit bytes under them mean the label is wrong.
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "646", "us"}

# Common hanzi, by encoding: GB2312 level 1 (the 3,755 most used characters) is lead bytes
# 0xB0–0xD7 with a trail byte from 0xA1 (lower trail bytes are rare GBK extensions); Big5's
# "frequently used" block is lead bytes 0xA4–0xC6 with any trail byte.
_GB_COMMON_LEADS = range(0xB0, 0xD8)
_GB_COMMON_TRAILS = range(0xA1, 0xFF)
_BIG5_COMMON_LEADS = range(0xA4, 0xC7)
_BIG5_COMMON_TRAILS = range(0x40, 0xFF)


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # the codec that produced `text`
    note: str  # why the declaration was not followed; empty when it was


def codecs_for(declared: str) -> tuple[str, ...]:
    """The codecs to try for a declared charset name; empty when Python knows no such codec."""
    name = declared.strip().strip("\"'").lower()
    if name in _WIDER:
        return _WIDER[name]
    if name in _ASCII_LABELS:
        return ("ascii",)
    try:
        return (codecs.lookup(name).name,)
    except (LookupError, ValueError):
        return ()


def decode_text(data: bytes, *, declared: str = "", where: str = "text") -> Decoded:
    """Decode `data` declared as `declared` (may be empty). Never raises.

    `where` names the place in notes ("text/plain part 1.2", "Subject header").
    """
    if not data:
        return Decoded(text="", charset=declared.lower() or "ascii", note="")
    label = declared.strip().strip("\"'").lower()
    candidates = codecs_for(label) if label else ()
    for codec in candidates:
        try:
            return Decoded(text=data.decode(codec), charset=codec, note="")
        except (UnicodeDecodeError, LookupError):
            continue
    if (not candidates or candidates[0] == "utf-8") and _is_truncated_utf8(data):
        # Cut off mid-character by a byte-counting truncation (subjects, previews): UTF-8
        # with one broken character at the end, not some other charset.
        return Decoded(
            text=data.decode("utf-8", errors="replace"),
            charset="utf-8",
            note=f"truncated UTF-8 in {where}; the last character is replaced",
        )
    guessed = guess(data)
    if guessed is not None:
        text, codec = guessed
        if not label or (label in _ASCII_LABELS and codec == "utf-8"):
            # Undeclared 8-bit text and UTF-8 under an ASCII label are everyday; not a defect.
            return Decoded(text=text, charset=codec, note="")
        if candidates:
            note = f"{where} declared charset {label} does not fit its bytes; decoded as {codec}"
        else:
            note = f"unknown charset {label} in {where}; decoded as {codec}"
        return Decoded(text=text, charset=codec, note=note)
    reason = f"unknown charset {label}" if label and not candidates else "undecodable bytes"
    return Decoded(
        text=data.decode("utf-8", errors="replace"),
        charset="utf-8",
        note=f"{reason} in {where}; decoded as UTF-8 with replacement characters",
    )


def guess(data: bytes) -> tuple[str, str] | None:
    """(text, codec) for bytes of unknown charset, or None when nothing decodes them cleanly.

    UTF-8 first: its multi-byte patterns almost never occur by chance in other encodings.
    GB18030 and Big5 overlap so much that most Big5 bytes are also valid GBK, so when both
    decode, the one whose characters fall in its own common-hanzi block wins.
    """
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    as_gb = _try(data, "gb18030")
    as_big5 = _try(data, "big5hkscs")
    if as_gb is not None and as_big5 is not None:
        big5_share = _common_share(as_big5, "big5hkscs", _BIG5_COMMON_LEADS, _BIG5_COMMON_TRAILS)
        gb_share = _common_share(as_gb, "gb18030", _GB_COMMON_LEADS, _GB_COMMON_TRAILS)
        if big5_share > gb_share:
            return as_big5, "big5hkscs"
        return as_gb, "gb18030"
    if as_gb is not None:
        return as_gb, "gb18030"
    if as_big5 is not None:
        return as_big5, "big5hkscs"
    return None


def _is_truncated_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.reason == "unexpected end of data" and error.start >= len(data) - 3
    return False


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _common_share(text: str, codec: str, leads: range, trails: range) -> float:
    """Share of the non-ASCII characters of `text` that are common hanzi in `codec`."""
    total = common = 0
    for char in text:
        if ord(char) < 0x80:
            continue
        total += 1
        encoded = char.encode(codec, errors="ignore")
        if len(encoded) == 2 and encoded[0] in leads and encoded[1] in trails:
            common += 1
    return common / total if total else 0.0
