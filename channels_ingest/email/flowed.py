"""text/plain; format=flowed (RFC 3676): join the soft-wrapped lines back into paragraphs.

Thunderbird, Apple Mail and many webmails wrap long lines at ~72 characters and mark each
wrap with a trailing space. Shown as sent, a Chinese paragraph would break mid-sentence on
the ticket page; quote detection also works better on whole lines.
"""

import re

_QUOTES = re.compile(r"^(>+)")


def unflow(text: str, *, delete_space: bool) -> str:
    """Join flowed lines. A line ending in a space continues on the next line of the same
    quote depth; the signature separator "-- " never flows; a leading space is stuffing."""
    out: list[str] = []
    current: str | None = None
    current_depth = -1
    for line in text.split("\n"):
        match = _QUOTES.match(line)
        depth = len(match.group(1)) if match else 0
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing (RFC 3676 4.4)
        if current is not None and depth != current_depth:
            out.append(_quoted(current, current_depth))
            current = None
        joined = content if current is None else current + content
        is_flowed = content.endswith(" ") and content != "-- "
        if is_flowed:
            current = joined[:-1] if delete_space else joined
            current_depth = depth
        else:
            out.append(_quoted(joined, depth))
            current = None
    if current is not None:
        out.append(_quoted(current, current_depth))
    return "\n".join(out)


def _quoted(text: str, depth: int) -> str:
    return f"{'>' * depth} {text}" if depth else text
