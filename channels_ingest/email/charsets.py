"""Bytes to text for every charset a Chinese retailer's mailbox meets, without ever raising.

Mail declares its charset, and is often wrong: Chinese mailers label GBK text `gb2312`, old
clients send raw GBK under `us-ascii` or none at all, Big5 arrives from Hong Kong and Taiwan
shops, ISO-2022-JP from Japanese suppliers (who also write Shift_JIS under that label), and
gateways stamp `iso-8859-1` on whatever passes through. `decode_text` honours the declaration
when the bytes fit it, widened to the superset real mailers actually use, and otherwise
guesses: UTF-8, then the declared charset's siblings, then Japanese or Chinese by what the
bytes read like, and, for undeclared 8-bit text that is none of these, the single-byte code
page charset-normalizer finds, with a note saying so.
"""

import codecs
import unicodedata
from dataclasses import dataclass

from charset_normalizer import from_bytes

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

# Single-byte code pages decode (nearly) any bytes, so "it decoded" proves nothing: UTF-8 or
# Chinese under such a label decodes into mojibake ("Ã©", "ÄúºÃ") without an error. Under
# these, bytes that read convincingly as UTF-8 or CJK text are taken as such.
_SINGLE_BYTE_PREFIXES = ("cp125", "latin", "iso8859", "koi8", "mac", "cp437", "cp850")
# Only under a Western European label are the 8-bit bytes sparse accents, which never pair up
# into common hanzi; Cyrillic, Greek or Central European text is all 8-bit letters, whose
# pairs often read as GBK (KOI8-R "Список" is valid, common GB2312), so under those labels
# only UTF-8 is recognised.
_WESTERN_CODECS = {"cp1252", "latin_1", "latin-1", "iso8859-1", "iso8859-15", "iso8859_15"}

# Where the declared codecs fail, the label's siblings come first: a Japanese mailer that
# writes "iso-2022-jp" (a 7-bit encoding) over 8-bit bytes sent Shift_JIS or EUC-JP.
_SIBLINGS: dict[str, tuple[str, ...]] = {
    "iso2022_jp": ("cp932", "euc_jp"),
    "iso2022_jp_ext": ("cp932", "euc_jp"),
    "iso2022_jp_2": ("cp932", "euc_jp"),
    "cp932": ("euc_jp",),
    "shift_jis": ("euc_jp",),
    "euc_jp": ("cp932",),
}

# Undeclared 8-bit text that is neither UTF-8 nor CJK: the code pages charset-normalizer may
# choose from, in order of preference when several read the bytes equally well (windows-1252
# first, as browsers assume for undeclared text).
_SINGLE_BYTE_CANDIDATES = ["cp1252", "cp1250", "cp1251", "koi8_r", "cp1253", "cp1254", "cp1257"]
# A reading messier than this (charset-normalizer's chaos ratio) is no reading.
_MAX_CHAOS = 0.2
# Japanese text is full of kana; Chinese text, whatever it is decoded as, has next to none.
_KANA_SHARE = 0.2
# Under a single-byte label, CJK bytes must read as at least this share of common characters.
_CJK_SHARE = 0.5
# The shares above are measured on this many characters at most: enough to tell, and a
# 30 MB body is not walked character by character in Python.
_SAMPLE_CHARS = 20_000

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
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if codec.startswith(_SINGLE_BYTE_PREFIXES) and not data.isascii():
            lie = _multibyte_reading(data, cjk=codec in _WESTERN_CODECS)
            if lie is not None:
                return Decoded(
                    text=lie[0],
                    charset=lie[1],
                    note=f"{where} declared charset {label} does not fit its bytes; "
                    f"decoded as {lie[1]}",
                )
        return Decoded(text=text, charset=codec, note="")
    if (not candidates or candidates[0] == "utf-8") and _is_truncated_utf8(data):
        # Cut off mid-character by a byte-counting truncation (subjects, previews): UTF-8
        # with one broken character at the end, not some other charset.
        return Decoded(
            text=data.decode("utf-8", errors="replace"),
            charset="utf-8",
            note=f"truncated UTF-8 in {where}; the last character is replaced",
        )
    guessed = _sibling_reading(data, candidates) or guess(data)
    if (not label or label in _ASCII_LABELS) and not _reads_as_cjk(guessed):
        # Undeclared 8-bit text: accented Latin ("número") is often valid GB18030 too, but
        # reads as rare hanzi there; a clean single-byte reading wins over that.
        guessed = _single_byte_reading(data) or guessed
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
    japanese = _japanese_reading(data)
    if japanese is not None:
        return japanese
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


def _reads_as_cjk(guessed: tuple[str, str] | None) -> bool:
    """Whether a guess is multi-byte text that reads like its language: UTF-8 and Japanese
    are recognised by their own structure; Chinese by its share of common characters."""
    if guessed is None:
        return False
    text, codec = guessed
    if codec == "gb18030":
        return _common_share(text, codec, _GB_COMMON_LEADS, _GB_COMMON_TRAILS) >= _CJK_SHARE
    if codec == "big5hkscs":
        return _common_share(text, codec, _BIG5_COMMON_LEADS, _BIG5_COMMON_TRAILS) >= _CJK_SHARE
    return True


def _sibling_reading(data: bytes, candidates: tuple[str, ...]) -> tuple[str, str] | None:
    """The bytes read in a sibling of the declared charset (after UTF-8, which no other
    encoding imitates by chance)."""
    if not candidates:
        return None
    siblings = _SIBLINGS.get(candidates[0], ())
    if not siblings:
        return None
    as_utf8 = _try(data, "utf-8")
    if as_utf8 is not None:
        return as_utf8, "utf-8"
    for codec in siblings:
        text = _try(data, codec)
        if text is not None:
            return text, codec
    return None


def _japanese_reading(data: bytes) -> tuple[str, str] | None:
    """Shift_JIS or EUC-JP, when the bytes read as kana-rich Japanese in one of them.

    Shift_JIS bytes are mostly valid GBK too, and EUC-JP shares its kana rows with GB2312,
    so Japanese must be recognised before Chinese is guessed: by its kana, which Chinese text
    decoded either way does not produce."""
    for codec in ("cp932", "euc_jp"):
        text = _try(data, codec)
        if text is not None and _kana_share(text) >= _KANA_SHARE:
            return text, codec
    return None


def _multibyte_reading(data: bytes, *, cjk: bool) -> tuple[str, str] | None:
    """UTF-8 (or, with `cjk`, Japanese or Chinese) text under a single-byte label:
    (text, codec), or None when the bytes read no better than the label says."""
    as_utf8 = _try(data, "utf-8")
    if as_utf8 is not None:
        return as_utf8, "utf-8"
    if not cjk:
        return None
    japanese = _japanese_reading(data)
    if japanese is not None:
        return japanese
    for codec, leads, trails in (
        ("gb18030", _GB_COMMON_LEADS, _GB_COMMON_TRAILS),
        ("big5hkscs", _BIG5_COMMON_LEADS, _BIG5_COMMON_TRAILS),
    ):
        text = _try(data, codec)
        if text is None:
            continue
        wide = sum(1 for char in text[:_SAMPLE_CHARS] if ord(char) >= 0x80)
        if wide >= 2 and _common_share(text, codec, leads, trails) >= _CJK_SHARE:
            return text, codec
    return None


def _single_byte_reading(data: bytes) -> tuple[str, str] | None:
    """Undeclared 8-bit text in a single-byte code page, as charset-normalizer reads it;
    None when no reading is clean or the accented characters do not sit inside words.

    The code page is chosen on the start of the text (a single-byte code page reads any
    cut cleanly); the whole is then decoded with it."""
    sample = data[: _SAMPLE_CHARS * 4]
    best: tuple[float, int, str] | None = None
    for match in from_bytes(sample, cp_isolation=_SINGLE_BYTE_CANDIDATES):
        if match.chaos > _MAX_CHAOS:
            continue
        fits = [c for c in _SINGLE_BYTE_CANDIDATES if c in match.could_be_from_charset]
        if not fits:
            continue
        key = (round(match.chaos, 3), _SINGLE_BYTE_CANDIDATES.index(fits[0]), fits[0])
        if best is None or key < best:
            best = key
    if best is None:
        return None
    codec = best[2]
    text = _try(data, codec)
    if text is None or not _letters_in_words(text[: _SAMPLE_CHARS * 4]):
        return None
    return text, codec


def _letters_in_words(text: str) -> bool:
    """Every non-ASCII letter stands next to another letter: accented words, not a stray
    byte read as "ÿ" between spaces. Punctuation and symbols ("¿", "€", "«") may stand
    anywhere; charset-normalizer has already judged how messy the reading is."""
    for index, char in enumerate(text):
        if ord(char) < 0x80:
            continue
        if not char.isalpha():
            if unicodedata.category(char)[0] in "PS":
                continue
            return False
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if not (before.isalpha() or after.isalpha()):
            return False
    return True


def _kana_share(text: str) -> float:
    wide = [char for char in text[:_SAMPLE_CHARS] if ord(char) >= 0x80]
    kana = sum(1 for char in wide if "\u3040" <= char <= "\u30ff")
    return kana / len(wide) if wide else 0.0


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
    """Share of the non-ASCII characters of `text` (of its start, for a long text) that
    are common hanzi in `codec`."""
    total = common = 0
    for char in text[:_SAMPLE_CHARS]:
        if ord(char) < 0x80:
            continue
        total += 1
        encoded = char.encode(codec, errors="ignore")
        if len(encoded) == 2 and encoded[0] in leads and encoded[1] in trails:
            common += 1
    return common / total if total else 0.0
