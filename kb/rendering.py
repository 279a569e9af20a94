"""Markdown of articles to safe HTML (for pages) and to plain text (for bot answers, snippets).

Article bodies are written by staff but imported from files too, and shown to customers: the
HTML that Markdown produces (which passes raw HTML through) is sanitised with nh3 to an allow
list, so a `<script>` or an `onerror=` in an imported article cannot run.
"""

import html
import re
from html.parser import HTMLParser

import markdown
import nh3

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "abbr": {"title"}}
_SPACE = re.compile(r"\s+")


def _to_html(body: str) -> str:
    return markdown.markdown(body or "", extensions=["extra", "sane_lists"], output_format="html")


def render_markdown(body: str) -> str:
    """Sanitised HTML for a Markdown body."""
    return nh3.clean(
        _to_html(body),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(body: str) -> str:
    """The words of a Markdown body without markup, on one line (for SMS and chat answers)."""
    text = nh3.clean(_to_html(body).replace("</p>", "</p> ").replace("<br", " <br"), tags=set())
    return _SPACE.sub(" ", html.unescape(text)).strip()


def snippet(text: str, terms: list[str], *, width: int = 120) -> str:
    """A window of `text` around the first of `terms` found, else its start."""
    lowered = text.lower()
    positions = [lowered.find(term) for term in terms if term and lowered.find(term) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    window = text[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return f"{prefix}{window}{suffix}"


class _TextRenderer(HTMLParser):
    """Sanitised article HTML to text that keeps its shape: paragraphs and headings apart,
    line breaks, bulleted (•) and numbered (1.) list items, links as "text (address)"."""

    _BLOCKS = frozenset({"p", "h2", "h3", "h4", "blockquote", "pre", "table", "tr", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [is_numbered, next number]
        self.href = ""
        self.link_text: list[str] = []

    def _newlines(self, count: int) -> None:
        text = "".join(self.out).rstrip(" ")
        have = len(text) - len(text.rstrip("\n"))
        self.out = [text + "\n" * max(0, count - have)] if text else []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self._newlines(1 if self.lists else 2)
        elif tag in ("ul", "ol"):
            self._newlines(1 if self.lists else 2)
            self.lists.append([1 if tag == "ol" else 0, 1])
        elif tag == "li":
            self._newlines(1)
            depth = max(len(self.lists) - 1, 0)
            numbered, number = self.lists[-1] if self.lists else [0, 1]
            marker = f"{number}. " if numbered else "• "
            if self.lists:
                self.lists[-1][1] += 1
            self.out.append("  " * depth + marker)
        elif tag == "br":
            self.out.append("\n")
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""
            self.link_text = []
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newlines(1 if self.lists else 2)
        elif tag in self._BLOCKS:
            self._newlines(1 if self.lists else 2)
        elif tag == "a" and self.href:
            shown = "".join(self.link_text).strip()
            if self.href not in (shown, f"mailto:{shown}"):
                self.out.append(f" ({self.href})")
            self.href = ""

    def handle_data(self, data: str) -> None:
        text = _SPACE.sub(" ", data)
        if not "".join(self.out).strip() or "".join(self.out).endswith("\n"):
            text = text.lstrip()
        self.out.append(text)
        if self.href:
            self.link_text.append(text)


def text_rendering(body: str) -> str:
    """A Markdown body as text that keeps its formatting where text can (paragraphs, line
    breaks, list markers, link addresses): what an agent inserts into a reply, and what an
    SMS or chat carries of it."""
    renderer = _TextRenderer()
    renderer.feed(render_markdown(body))
    renderer.close()
    lines = [line.rstrip() for line in "".join(renderer.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
