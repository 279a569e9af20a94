"""Split a mail's text into what the sender wrote now and the history it carries along.

Nothing is thrown away: the history is kept as `quoted_text` and shown folded, because a
forwarded complaint's history is often the only record of what happened before the customer
wrote to us. The cut is made at the first line that starts a history block — an attribution
("On … wrote:", "在 … 写道："), an Outlook/QQ/NetEase header block or separator, or a
"forwarded message" banner — or, failing those, at a run of `>` lines that lasts to the end.
Quoted lines interleaved with new text (an inline answer) are not cut.
"""

import re
from dataclasses import dataclass

_SEPARATORS = re.compile(
    r"""^\s*(?:
        -{2,}\s*(?:original\s+message|forwarded\s+message|replied\s+message|message\s+d'origine
                  |原始邮件|原始郵件|邮件原件|郵件原件|转发邮件|轉寄郵件|转发的邮件|回复的邮件)\s*-{2,}
      | -{5,}\s*(?:原始邮件|original\s+message)\s*-{5,}
      | begin\s+forwarded\s+message\s*:
      | 以下是转发的邮件\s*[:：]?
      | _{10,}\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Attribution lines. The distinctive shapes cut on their own (NetEase and QQ quote the history
# after them without `>`); a bare "… wrote:" only when quoted lines follow, so that "he
# wrote:" inside a sentence cannot cut the mail.
_ATTRIBUTION = re.compile(
    r"""(?:^\s*on\s.+\s(?:wrote|writes)\s*:\s*$
       |^\s*在\s*.+[写寫]道\s*[:：]?\s*$
       |^\s*\d{4}[-/年.].+(?:写道|寫道|wrote)\s*[:：]\s*$)""",
    re.IGNORECASE | re.VERBOSE,
)
_LOOSE_ATTRIBUTION = re.compile(r"^.*\S\s*(?:写道|寫道|wrote)\s*[:：]\s*$", re.IGNORECASE)
# An Outlook-style header block: "From:"/"发件人:" followed within a few lines by a sent
# date or a subject line.
_HEADER_FROM = re.compile(r"^\s*\**(?:from|发件人|寄件者|發件人)\s*\**\s*[:：]", re.IGNORECASE)
_HEADER_FOLLOW = re.compile(
    r"^\s*\**(?:sent|date|to|subject|发送时间|时间|日期|收件人|主题|寄件日期|傳送時間|主旨|收件者)"
    r"\s*\**\s*[:：]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Split:
    new_text: str
    quoted_text: str


def split_quoted(text: str) -> Split:
    lines = text.split("\n")
    cut = _first_history_line(lines)
    if cut is None:
        return Split(new_text=text.strip("\n"), quoted_text="")
    return Split(
        new_text="\n".join(lines[:cut]).rstrip(),
        quoted_text="\n".join(lines[cut:]).strip("\n"),
    )


def _first_history_line(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _SEPARATORS.match(line):
            return index
        if _HEADER_FROM.match(line) and any(
            _HEADER_FOLLOW.match(following) for following in lines[index + 1 : index + 4]
        ):
            return index
        if _ATTRIBUTION.match(line):
            return index
        if line.startswith("On ") and index + 1 < len(lines):
            # Gmail wraps a long attribution: "On Mon, 22 Nov 2026 … 张三 <" / "a@b.c> wrote:"
            if _ATTRIBUTION.match(f"{line} {lines[index + 1]}"):
                return index
        if _LOOSE_ATTRIBUTION.match(line) and _quote_or_history_follows(lines, index + 1):
            return index
    return _trailing_quote_start(lines)


def _quote_or_history_follows(lines: list[str], start: int) -> bool:
    """An attribution counts only when quoted text (or nothing but blank lines before a
    header block) comes after it: "He wrote:" inside a sentence must not cut the mail."""
    for line in lines[start:]:
        if not line.strip():
            continue
        return line.lstrip().startswith(">") or bool(_HEADER_FROM.match(line))
    return False


def _trailing_quote_start(lines: list[str]) -> int | None:
    """Start of the block of `>` lines (blank lines allowed) that runs to the end, if any."""
    start = None
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line.lstrip().startswith(">"):
            start = index
        elif line.strip():
            break
    return start
