"""Repairs to a damaged header block, made on the raw bytes before the MIME parser sees them.

The standard library ends the header block at the first line that is neither a header nor a
folded continuation, and reads everything after it as body. Two kinds of damage common in the
wild then lose the sender and the subject:

- a folded line that lost its leading whitespace (a gateway that rewraps long headers, a
  client that strips indentation): the headers after it, often From or Content-Type, end up
  in the body. When header lines follow it, the line is read as the continuation it was;
- text before the first header (a relay's log line, a stray blank line, a pasted note): the
  whole mail becomes body. When a recognisable header block follows it, it is skipped.

Both repairs only look at lines that are followed by well-known header names, so a body
without a header block, or a body that starts without the blank line, stays as it was.
"""

import re

# A header line: a field name (printable ASCII but no colon, no space), then a colon.
_HEADER = re.compile(rb"^([!-9;-~]+)[ \t]*:")
# Names seen in ordinary mail; a line that looks like "Name: value" counts as a header for
# the repairs only under one of these (or one of the prefixes), since "Note: …" may be body.
_KNOWN_NAMES = frozenset(
    {
        b"from",
        b"to",
        b"cc",
        b"bcc",
        b"subject",
        b"date",
        b"sender",
        b"reply-to",
        b"message-id",
        b"in-reply-to",
        b"references",
        b"received",
        b"return-path",
        b"delivered-to",
        b"mime-version",
        b"importance",
        b"priority",
        b"precedence",
        b"user-agent",
        b"organization",
        b"auto-submitted",
        b"authentication-results",
        b"disposition-notification-to",
    }
)
_KNOWN_PREFIXES = (b"x-", b"content-", b"list-", b"arc-", b"dkim-", b"thread-", b"resent-")
# Text before the first header: at most this many lines are skipped.
_MAX_LEADING_LINES = 10
# A line without leading whitespace is a lost fold only when a header follows within this
# many lines.
_MAX_LOST_FOLD_LINES = 3
_BLANK_LINE = re.compile(rb"\n\r?\n")
# Only the start of the mail is searched for the header block.
_SCAN_BYTES = 256 * 1024


def repaired_header_block(raw: bytes) -> tuple[bytes, tuple[str, ...]]:
    """`raw` with its header block repaired, and a note per repair; `raw` itself (the same
    object) and no notes when the header block needs none."""
    head = raw[:_SCAN_BYTES]
    # Only the lines up to the first blank line after any leading blank lines: the header
    # block, or as much as the repairs look at. Splitting the whole body would cost more
    # than parsing it.
    leading = len(head) - len(head.lstrip(b"\r\n"))
    blank = _BLANK_LINE.search(head, leading)
    lines = head[: blank.end() if blank else len(head)].splitlines(keepends=True)
    notes: list[str] = []
    start = _first_header_line(lines)
    if start is None:
        return raw, ()
    if start:
        skipped = b" ".join(line.strip() for line in lines[:start] if line.strip())
        shown = skipped.decode("utf-8", errors="replace")[:80]
        notes.append(
            f"text before the first header skipped: {shown!r}"
            if shown
            else "blank lines before the first header skipped"
        )
    repaired: list[bytes] = []
    index = start
    while index < len(lines):
        line = lines[index]
        if not line.strip(b"\r\n"):
            break  # the blank line: the header block ends here, as it should
        if _HEADER.match(line) or line[:1] in (b" ", b"\t") or index == start:
            repaired.append(line)
            index += 1
            continue
        if not _header_follows(lines, index):
            break  # the body starts without a blank line; the MIME parser notes that
        name = _last_header_name(repaired)
        notes.append(f"header line without leading whitespace read as part of {name}")
        repaired.append(b" " + line)
        index += 1
    if not notes:
        return raw, ()
    consumed = sum(len(line) for line in lines[:index])
    return b"".join(repaired) + raw[consumed:], tuple(notes)


def _first_header_line(lines: list[bytes]) -> int | None:
    """Index of the line the header block starts at: 0 for a well-formed mail (or one whose
    first line is not followed by a header block: nothing to repair), more when text comes
    before a recognisable header block; None when there is nothing to do at all."""
    if not lines:
        return None
    if _HEADER.match(lines[0]) or lines[0].startswith(b"From "):
        return 0
    for index in range(1, min(len(lines), _MAX_LEADING_LINES + 1)):
        if _HEADER.match(lines[index]):
            return index if _known_block_at(lines, index) else None
    return None


def _known_block_at(lines: list[bytes], start: int) -> bool:
    """At least two well-known header lines from `start` up to the blank line."""
    known = 0
    for line in lines[start:]:
        if not line.strip(b"\r\n"):
            break
        if _is_known_header(line):
            known += 1
            if known >= 2:
                return True
        elif not _HEADER.match(line) and line[:1] not in (b" ", b"\t"):
            break
    return False


def _header_follows(lines: list[bytes], index: int) -> bool:
    for line in lines[index + 1 : index + 1 + _MAX_LOST_FOLD_LINES]:
        if not line.strip(b"\r\n"):
            return False
        if _is_known_header(line):
            return True
    return False


def _is_known_header(line: bytes) -> bool:
    match = _HEADER.match(line)
    if match is None:
        return False
    name = match.group(1).lower()
    return name in _KNOWN_NAMES or name.startswith(_KNOWN_PREFIXES)


def _last_header_name(lines: list[bytes]) -> str:
    for line in reversed(lines):
        match = _HEADER.match(line)
        if match is not None:
            return match.group(1).decode("ascii", errors="replace")
    return "the header before it"
