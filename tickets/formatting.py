"""An agent's reply as each channel carries it. The reply box holds text whose shape is
its formatting (what a knowledge-base answer keeps when inserted: paragraphs, line breaks,
"• " and "1. " list items, link addresses): SMS and chat send that text as it is; email
sends it as text and as HTML built from the same shape, sanitised with nh3."""

import html
import re

import nh3

_BULLET = re.compile(r"^\s*[•\-*·]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)、]\s*(.*)$")
_URL = re.compile(r"https?://[^\s<>\"'（）()，。]+")
_TAGS = {"p", "br", "ul", "ol", "li", "a", "strong"}


def _inline(line: str) -> str:
    """One line, escaped, with its web addresses as links."""
    out, last = [], 0
    for match in _URL.finditer(line):
        out.append(html.escape(line[last : match.start()]))
        address = html.escape(match.group(0))
        out.append(f'<a href="{address}">{address}</a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


def reply_html(text: str) -> str:
    """The HTML part of an email reply: each block (lines between blank lines) a paragraph
    with its line breaks, or a list when every line of it is a list item."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    parts: list[str] = []
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        # A list may follow its lead-in line in the same block ("Do this:" then "1. …").
        for start in range(len(lines)):
            tail = lines[start:]
            bullets = [_BULLET.match(line) for line in tail]
            numbers = [_NUMBERED.match(line) for line in tail]
            if all(bullets) or all(numbers):
                break
        else:
            start, bullets, numbers = len(lines), [], []
        if start:
            lead = lines[:start]
            parts.append("<p>" + "<br>".join(_inline(line.strip()) for line in lead) + "</p>")
        if bullets and all(bullets):
            items = "".join(f"<li>{_inline(m.group(1))}</li>" for m in bullets if m)
            parts.append(f"<ul>{items}</ul>")
        elif numbers and all(numbers):
            items = "".join(f"<li>{_inline(m.group(1))}</li>" for m in numbers if m)
            parts.append(f"<ol>{items}</ol>")
    return nh3.clean(
        "".join(parts),
        tags=_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    )
