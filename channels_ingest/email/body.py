"""The body of a parsed MIME tree: which parts are the text and the HTML, which are
attachments, and the repairs for bodies that hide their text (a broken multipart, text sent as
an attachment, a forward whose only content is the attached message)."""

import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message
from html import escape

from channels_ingest.email.charsets import decode_text
from channels_ingest.email.flowed import unflow
from channels_ingest.email.headers import (
    ParameterisedValue,
    clean_text,
    decode_words,
    parse_parameterised,
    unfold,
)
from channels_ingest.email.html import html_to_text, sanitise_html
from channels_ingest.email.transfer import decode_body, find_uuencoded, transfer_encoding
from channels_ingest.email.tree import (
    MAX_DEPTH,
    content_type,
    embedded_message,
    encoded_message_bytes,
    is_container,
    message_bytes,
    parse_tree,
    repaired_multipart,
)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_TEXT_TYPES = {"text/plain", "text/html"}
_UNENCODED = {"7bit", "8bit"}


@dataclass
class Section:
    """One stretch of body: a text and/or an HTML rendering of the same content."""

    plain: str | None = None
    html: str | None = None


@dataclass
class Found:
    """An attachment while parsing; frozen into an `Attachment` at the end."""

    filename: str
    content_type: str
    data: bytes
    content_id: str
    disposition: str
    in_related: bool
    charset: str = ""
    # Sent as it is (7bit or 8bit): text typed into the mail, not a file encoded for transport.
    is_unencoded: bool = False
    # An attached message (message/rfc822), parsed, and where it was.
    message: Message | None = None
    path: tuple[int, ...] = ()


@dataclass(kw_only=True)
class BodyWalker:
    """Walks a MIME tree into sections of body and found attachments, noting every defect."""

    raw: bytes
    notes: list[str] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)

    def note(self, *texts: str) -> None:
        for text in texts:
            if text and text not in self.notes:
                self.notes.append(clean_text(text))

    # --- the body --------------------------------------------------------------------------

    def walk(
        self, part: Message, *, path: tuple[int, ...], depth: int, in_related: bool = False
    ) -> list[Section]:
        kind = content_type(part)
        if depth > MAX_DEPTH:
            # Only hostile mail nests this deep; serialising it would exhaust the stack.
            self.note(f"part {_dotted(path)} nested over {MAX_DEPTH} levels deep; not shown")
            return []
        if kind.startswith("multipart/") and is_container(part):
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if not children:
                return []
            if kind == "multipart/alternative":
                return self.walk_alternative(children, path=path, depth=depth)
            if kind == "multipart/related":
                return self.walk_related(part, children, path=path, depth=depth)
            sections: list[Section] = []
            for index, child in enumerate(children, start=1):
                sections += self.walk(
                    child, path=(*path, index), depth=depth + 1, in_related=in_related
                )
            return sections
        if kind.startswith("multipart/"):
            return self.walk_broken_multipart(part, kind=kind, path=path, depth=depth)
        if is_message(part):
            self.attach_message(part, path=path, kind=kind)
            return []
        return self.leaf(part, kind=kind, path=path, in_related=in_related)

    def walk_broken_multipart(
        self, part: Message, *, kind: str, path: tuple[int, ...], depth: int
    ) -> list[Section]:
        """A multipart the standard library could not split. Try the boundary the body really
        uses; failing that, show the body as text rather than drop the mail."""
        where = f"{kind} part {_dotted(path)}"
        repaired = repaired_multipart(part, kind=kind)
        if repaired is not None:
            self.note(f"{where}: declared boundary not found; split on the one the body uses")
            return self.walk(repaired, path=path, depth=depth + 1)
        self.note(f"{where}: no boundary found; its content is shown as plain text")
        return self.raw_text(part, where=where)

    def raw_text(self, part: Message, *, where: str) -> list[Section]:
        body = decode_body(part)
        charset = self.parameterised(part, "content-type", where=where).params.get("charset", "")
        decoded = decode_text(body.data, declared=charset, where=where)
        self.note(decoded.note)
        text = clean_text(_normalise_newlines(decoded.text))
        return [Section(plain=text)] if text.strip() else []

    def inline_text_fallback(self) -> list[Section]:
        """No body text, but text parts marked inline that carry a filename: mail readers show
        those in the body (old mailers send the body that way), so do we. They stay listed as
        attachments too."""
        sections = []
        for found in self.found:
            if found.disposition == "attachment" or found.content_type not in _TEXT_TYPES:
                continue
            decoded = decode_text(found.data, declared=found.charset, where=found.filename)
            text = clean_text(_normalise_newlines(decoded.text))
            if found.content_type == "text/html":
                sections.append(Section(html=text))
            else:
                sections.append(Section(plain=text))
        return sections

    def forwarded_text(self) -> list[Section]:
        """No body text, but an attached message (a forward as attachment, sent without a
        word): its text is the body. The message stays attached whole, so its own sender,
        subject and attachments are still there to open."""
        forwarded = next((found for found in self.found if found.message is not None), None)
        if forwarded is None or forwarded.message is None:
            return []
        inner = BodyWalker(raw=self.raw)
        sections = inner.walk(forwarded.message, path=(*forwarded.path, 1), depth=1)
        sections = sections or inner.inline_text_fallback()
        if not any((section.plain or section.html or "").strip() for section in sections):
            return []
        self.note(*inner.notes)
        self.note(f"empty body; the text of the attached message {forwarded.filename!r} is shown")
        return sections

    def attached_text(self) -> list[Section]:
        """No body text, and the mail's only text part is marked as an attachment but sent
        unencoded: a mailer that attaches what the sender typed. It is the body, and stays
        listed as an attachment too. A base64 text file beside an empty body stays a file."""
        texts = [found for found in self.found if found.content_type in _TEXT_TYPES]
        if len(texts) != 1 or not texts[0].is_unencoded:
            return []
        only = texts[0]
        where = f"{only.content_type} attachment {only.filename or ''}".rstrip()
        decoded = decode_text(only.data, declared=only.charset, where=where)
        text = clean_text(_normalise_newlines(decoded.text))
        if not text.strip():
            return []
        self.note(decoded.note, f"the only text of the mail was sent as an attachment ({where})")
        if only.content_type == "text/html":
            return [Section(html=text)]
        return [Section(plain=text)]

    def walk_alternative(
        self, children: list[Message], *, path: tuple[int, ...], depth: int
    ) -> list[Section]:
        """Of several renderings, the last plain and the last HTML one win (RFC 2046 orders
        them from plainest to richest)."""
        plain: str | None = None
        html: str | None = None
        for index, child in enumerate(children, start=1):
            sections = self.walk(child, path=(*path, index), depth=depth + 1)
            # A blank text alternative beside a full HTML one is a mailer's placeholder.
            texts = [s.plain for s in sections if s.plain is not None and s.plain.strip()]
            htmls = [s.html for s in sections if s.html is not None]
            if texts:
                plain = "\n\n".join(texts)
            if htmls:
                html = "".join(htmls)
        if plain is None and html is None:
            return []
        return [Section(plain=plain, html=html)]

    def walk_related(
        self, part: Message, children: list[Message], *, path: tuple[int, ...], depth: int
    ) -> list[Section]:
        """The root part is the body; the others are resources it points to with cid:."""
        where = f"multipart/related part {_dotted(path)}"
        start = self.parameterised(part, "content-type", where=where).params.get("start", "")
        start = start.strip().strip("<>")
        root = 0
        if start:
            for index, child in enumerate(children):
                if _content_id(child) == start:
                    root = index
        sections: list[Section] = []
        for index, child in enumerate(children):
            child_path = (*path, index + 1)
            if index == root:
                sections = self.walk(child, path=child_path, depth=depth + 1)
            else:
                self.walk_resource(child, path=child_path, depth=depth + 1)
        return sections

    def walk_resource(self, part: Message, *, path: tuple[int, ...], depth: int) -> None:
        if is_container(part) and not is_message(part):
            for index, child in enumerate(part.get_payload(), start=1):
                if isinstance(child, Message):
                    self.walk_resource(child, path=(*path, index), depth=depth + 1)
            return
        if is_message(part):
            self.attach_message(part, path=path, kind=content_type(part))
            return
        self.leaf(part, kind=content_type(part), path=path, in_related=True, as_attachment=True)

    def leaf(
        self,
        part: Message,
        *,
        kind: str,
        path: tuple[int, ...],
        in_related: bool,
        as_attachment: bool = False,
    ) -> list[Section]:
        where = f"{kind} part {_dotted(path)}"
        content = self.parameterised(part, "content-type", where=where)
        disposition = self.parameterised(part, "content-disposition", where=where)
        filename = disposition.params.get("filename") or content.params.get("name") or ""
        body = decode_body(part)
        self.note(f"{where}: {body.note}" if body.note else "")
        is_body_text = (
            not as_attachment
            and kind in {"text/plain", "text/html"}
            and disposition.value != "attachment"
            and not filename
        )
        if not is_body_text:
            self.found.append(
                Found(
                    filename=filename,
                    content_type=kind,
                    data=body.data,
                    content_id=_content_id(part),
                    disposition=disposition.value,
                    in_related=in_related,
                    charset=content.params.get("charset", ""),
                    is_unencoded=transfer_encoding(part) in _UNENCODED,
                )
            )
            return []
        charset = content.params.get("charset", "")
        if kind == "text/html":
            if not charset:
                sniffed = _META_CHARSET.search(body.data[:4096])
                charset = sniffed.group(1).decode("ascii") if sniffed else ""
            decoded = decode_text(body.data, declared=charset, where=where)
            self.note(decoded.note)
            return [Section(html=clean_text(decoded.text))]
        data = self.extract_uuencoded(body.data, where=where)
        decoded = decode_text(data, declared=charset, where=where)
        self.note(decoded.note)
        text = _normalise_newlines(decoded.text)
        if content.params.get("format", "").lower() == "flowed":
            delete_space = content.params.get("delsp", "").lower() == "yes"
            text = unflow(text, delete_space=delete_space)
        return [Section(plain=clean_text(text))]

    def parameterised(self, part: Message, name: str, *, where: str) -> ParameterisedValue:
        raw = next((str(v) for k, v in part.raw_items() if k.lower() == name), "")
        parsed = parse_parameterised(raw, where=f"{where} {name}")
        self.note(*parsed.notes)
        return parsed

    def extract_uuencoded(self, data: bytes, *, where: str) -> bytes:
        """Old clients paste `begin 644 name … end` blocks into the text: make them files."""
        if b"begin " not in data:
            return data
        blocks = find_uuencoded(data)
        kept = bytearray()
        position = 0
        for block in blocks:
            kept += data[position : block.start]
            position = block.end
            self.note(f"{where}: uuencoded {block.filename}: {block.note}" if block.note else "")
            self.found.append(
                Found(
                    filename=block.filename,
                    content_type=mimetypes.guess_type(block.filename)[0]
                    or "application/octet-stream",
                    data=block.data,
                    content_id="",
                    disposition="attachment",
                    in_related=False,
                )
            )
        return bytes(kept + data[position:])

    def attach_message(self, part: Message, *, path: tuple[int, ...], kind: str) -> None:
        """An attached mail (a forward as attachment, the original inside a bounce) is kept
        whole as a message/rfc822 attachment, named after its subject."""
        inner: Message | None = None
        encoded = None
        if kind in {"message/rfc822", "message/global"}:
            encoded = encoded_message_bytes(part)
            inner = parse_tree(encoded) if encoded is not None else embedded_message(part)
        if inner is not None:
            linesep = "\r\n" if b"\r\n" in self.raw[:8192] else "\n"
            data = encoded if encoded is not None else message_bytes(inner, linesep=linesep)
            subject = decode_words(str(inner.get("subject", "") or ""), where="attached message")
            name = " ".join(subject.text.split())[:100] or f"message-{_dotted(path)}"
            filename = f"{name}.eml"
        else:
            payload = part.get_payload()
            if isinstance(payload, list):
                data = b"".join(message_bytes(m) for m in payload if isinstance(m, Message))
            else:
                data = decode_body(part).data
            filename = ""
        where = f"{kind} part {_dotted(path)}"
        disposition = self.parameterised(part, "content-disposition", where=where)
        content = self.parameterised(part, "content-type", where=where)
        self.found.append(
            Found(
                filename=disposition.params.get("filename")
                or content.params.get("name")
                or filename,
                content_type=kind,
                data=data,
                content_id=_content_id(part),
                disposition=disposition.value or "attachment",
                in_related=False,
                message=inner,
                path=path,
            )
        )

    def assemble(self, sections: list[Section]) -> tuple[str, str]:
        texts = []
        for section in sections:
            if section.plain is not None:
                texts.append(section.plain)
            elif section.html is not None:
                texts.append(html_to_text(section.html))
        text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
        html = ""
        if any(section.html is not None for section in sections):
            html = sanitise_html(
                "".join(
                    s.html if s.html is not None else f"<pre>{escape(s.plain or '')}</pre>"
                    for s in sections
                )
            )
        return text, html

    # --- attachments -----------------------------------------------------------------------


def is_message(part: Message) -> bool:
    return content_type(part).startswith("message/")


def _dotted(path: tuple[int, ...]) -> str:
    return ".".join(str(index) for index in path)


def _content_id(part: Message) -> str:
    raw = next((str(v) for k, v in part.raw_items() if k.lower() == "content-id"), "")
    return clean_text(unfold(raw).strip().strip("<>").strip())


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
