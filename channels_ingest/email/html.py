"""HTML mail: sanitised for display (nh3), and turned into readable text (stdlib html.parser).

The text version is what triage reads and what an agent sees when a mail came without a
text/plain alternative, so it keeps the shape a reader relies on: paragraphs, line breaks,
list bullets, table rows, and links written as "text (url)". Scripts, styles and the head are
dropped. The HTML version keeps `cid:` URLs so the ticket page can serve inline images from
the stored attachments; everything executable goes.
"""

import re
from html.parser import HTMLParser

import nh3

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup",
    "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u",
    "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "*": {"title", "lang", "dir", "align"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign", "width"},
    "th": {"colspan", "rowspan", "valign", "width"},
    "col": {"span", "width"},
    "table": {"width", "border", "cellpadding", "cellspacing"},
    "font": {"color", "size"},
    "ol": {"start", "type"},
}
# No `style`: CSS can exfiltrate (url() fetches) and overlay the agent's page. No `data:`:
# a data: URL in a link is a script vector. `cid:` stays for inline images.
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


def sanitise_html(html: str) -> str:
    """HTML safe to put into an agent's page: no script, style, event handlers or forms."""
    if not html.strip():
        return ""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head", "noscript", "template"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_BLOCK = {
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody",
    "tfoot", "thead", "tr", "ul",
}  # fmt: skip
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre"}
_SKIP = {"script", "style", "head", "title", "noscript", "template", "xml"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"}


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.blank_pending = False
        self.skip_depth = 0
        self.pre_depth = 0
        self.quote_depth = 0
        self.lists: list[list[int]] = []  # per open list: [is_ordered, next number]
        self.links: list[str] = []  # hrefs of the open <a> elements
        self.link_text: list[list[str]] = []
        self.cells_in_row = 0

    # --- line building ---
    def write(self, text: str) -> None:
        if self.link_text:
            self.link_text[-1].append(text)
        self.line.append(text)

    def break_line(self, *, paragraph: bool = False) -> None:
        text = "".join(self.line)
        if self.pre_depth == 0:
            text = " ".join(text.split())
        else:
            text = text.rstrip()
        if text:
            if self.blank_pending and self.lines:
                self.lines.append("")
            prefix = "> " * self.quote_depth
            self.lines.append(prefix + text)
            self.blank_pending = False
        self.line = []
        if paragraph:
            self.blank_pending = True

    # --- parser callbacks ---
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        attributes = {name: value or "" for name, value in attrs}
        if tag == "br":
            self.break_line()
        elif tag in _BLOCK:
            self.break_line(paragraph=tag in _PARAGRAPH)
        if tag == "pre":
            self.pre_depth += 1
        elif tag == "blockquote":
            self.quote_depth += 1
        elif tag in {"ul", "ol"}:
            start = attributes.get("start", "1")
            self.lists.append([tag == "ol", int(start) if start.isdigit() else 1])
        elif tag == "li":
            if self.lists and self.lists[-1][0]:
                self.write(f"{self.lists[-1][1]}. ")
                self.lists[-1][1] += 1
            else:
                self.write("- ")
        elif tag in {"td", "th"}:
            if self.cells_in_row:
                self.write("  ")
            self.cells_in_row += 1
        elif tag == "tr":
            self.cells_in_row = 0
        elif tag == "a":
            self.links.append(attributes.get("href", "").strip())
            self.link_text.append([])
        elif tag == "img":
            alt = " ".join(attributes.get("alt", "").split())
            if alt:
                self.write(f"[{alt}]")
        elif tag == "hr":
            self.lines.append("----")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag == "a" and self.links:
            href = self.links.pop()
            text = " ".join("".join(self.link_text.pop()).split())
            if _worth_showing(href, text):
                self.write(f" ({href})" if text else href)
        if tag in _BLOCK:
            self.break_line(paragraph=tag in _PARAGRAPH)
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag in {"ul", "ol"} and self.lists:
            self.lists.pop()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            first, *rest = data.split("\n")
            self.write(first)
            for line in rest:
                self.break_line()
                self.write(line)
            return
        self.write(data)

    def text(self) -> str:
        self.break_line()
        return "\n".join(self.lines)


def _worth_showing(href: str, text: str) -> bool:
    """Show a link's URL unless it adds nothing: the same as its text, a mailto: of the
    address shown, an in-page anchor or a script."""
    if not href or href.startswith("#") or href.lower().startswith(("javascript:", "cid:")):
        return False
    bare = re.sub(r"^(mailto:|tel:)", "", href, flags=re.IGNORECASE)
    return bare.rstrip("/") != text.rstrip("/") and href.rstrip("/") != text.rstrip("/")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body."""
    writer = _TextWriter()
    try:
        writer.feed(html)
        writer.close()
    except (AssertionError, ValueError):  # html.parser's reaction to some broken markup
        return " ".join(re.sub(r"<[^>]*>", " ", html).split())
    return writer.text()
