"""Markdown of articles to safe HTML (for pages) and to plain text (for bot answers, snippets).

Article bodies are written by staff but imported from files too, and shown to customers: the
HTML that Markdown produces (which passes raw HTML through) is sanitised with nh3 to an allow
list, so a `<script>` or an `onerror=` in an imported article cannot run.
"""

import html
import re

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
