"""Raw RFC 5322 bytes → `ParsedEmail`: the one entry point of inbound email parsing.

A pure function: no database, no settings, no network. It never raises — a mail that cannot
be read at all comes back with `errors` filled and a `refusal_reason`, so the ingest task can
mark the raw record failed with that reason instead of crashing, and every defect it worked
around is listed in `errors` so the ticket can show it. See docs/email.md.
"""

import hashlib
import mimetypes
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from email.message import Message
from html import escape

from channels_ingest.email.bounces import read_bounce
from channels_ingest.email.charsets import decode_text
from channels_ingest.email.flowed import unflow
from channels_ingest.email.headers import (
    ParameterisedValue,
    clean_text,
    decode_words,
    message_ids,
    parse_addresses,
    parse_date,
    parse_parameterised,
    unfold,
)
from channels_ingest.email.html import html_to_text, sanitise_html
from channels_ingest.email.loop_guard import auto_reason
from channels_ingest.email.parsed import Address, Attachment, ParsedEmail
from channels_ingest.email.quoting import split_quoted
from channels_ingest.email.threading import normalise_subject, reply_token, ticket_tag
from channels_ingest.email.transfer import decode_body, find_uuencoded
from channels_ingest.email.tree import (
    MAX_DEPTH,
    content_type,
    embedded_message,
    encoded_message_bytes,
    is_container,
    message_bytes,
    parse_headers,
    parse_tree,
    repaired_multipart,
    used_lenient_policy,
)

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
NO_ADDRESS = Address(name="", email="")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CID_URL = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)
_TEXT_TYPES = {"text/plain", "text/html"}
# Names for generated attachment files where mimetypes knows no extension.
_EXTENSIONS = {
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
}
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def parse_message(
    raw: bytes,
    *,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    own_addresses: Collection[str] = (),
    own_message_id_domains: Collection[str] = (),
) -> ParsedEmail:
    """Parse one raw inbound mail. Never raises.

    Attachments larger than `max_attachment_bytes` (decoded) are listed with size and
    checksums but without data, and noted in `errors`. `own_addresses` (mailboxes, or
    `@domain`) and `own_message_id_domains` identify our own mail for the loop guard.
    """
    if not raw.strip():
        return unreadable(reason="empty input")

    def parser() -> _Parser:
        return _Parser(
            raw=raw,
            max_attachment_bytes=max_attachment_bytes,
            own_addresses=own_addresses,
            own_message_id_domains=own_message_id_domains,
        )

    # The contract is "never raises": report instead of a 500. When the MIME structure
    # defeats the standard library (e.g. thousands of nested multiparts exhaust its
    # recursion), the headers alone still say who wrote and about what.
    try:
        return parser().parse()
    except Exception as error:
        failure = f"could not parse the MIME structure ({type(error).__name__}: {error})"
    try:
        return parser().parse(structure_failure=f"{failure}; the body is shown as raw text")
    except Exception as error:
        return unreadable(reason=f"could not parse: {type(error).__name__}: {error}")


def unreadable(*, reason: str) -> ParsedEmail:
    """The result for input that cannot be read as a mail at all."""
    return ParsedEmail(
        from_=NO_ADDRESS,
        to=(),
        cc=(),
        reply_to=(),
        subject="",
        subject_normalised="",
        ticket_tag="",
        reply_token="",
        date=None,
        message_id="",
        in_reply_to="",
        references=(),
        text="",
        new_text="",
        quoted_text="",
        html="",
        attachments=(),
        is_auto_generated=False,
        auto_reason="",
        is_bounce=False,
        bounced_message_id="",
        bounce_reason="",
        refusal_reason=clean_text(reason)[:500],
        errors=(clean_text(reason)[:500],),
    )


@dataclass
class _Section:
    """One stretch of body: a text and/or an HTML rendering of the same content."""

    plain: str | None = None
    html: str | None = None


@dataclass
class _Found:
    """An attachment while parsing; frozen into an `Attachment` at the end."""

    filename: str
    content_type: str
    data: bytes
    content_id: str
    disposition: str
    in_related: bool
    charset: str = ""


@dataclass
class _Parser:
    raw: bytes
    max_attachment_bytes: int
    own_addresses: Collection[str]
    own_message_id_domains: Collection[str]
    notes: list[str] = field(default_factory=list)
    found: list[_Found] = field(default_factory=list)

    def note(self, *texts: str) -> None:
        for text in texts:
            if text and text not in self.notes:
                self.notes.append(clean_text(text))

    # --- the whole message ---------------------------------------------------------------

    def parse(self, *, structure_failure: str = "") -> ParsedEmail:
        message = parse_headers(self.raw) if structure_failure else parse_tree(self.raw)
        self.note(structure_failure)
        if used_lenient_policy(message):
            self.note("headers too malformed for the default email policy; parsed with compat32")
        headers: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            headers.setdefault(name.strip().lower(), []).append(str(value))
        if not headers:
            self.note("no mail headers found")
        self.collect_defects(message, path="1", depth=0)

        from_, to, cc, reply_to = self.addresses(headers)
        subject = self.subject(headers)
        date, date_note = parse_date(_first(headers, "date"))
        self.note(date_note)
        message_id = next(iter(message_ids(_first(headers, "message-id"))), "")
        in_reply_to = next(iter(message_ids(_first(headers, "in-reply-to"))), "")
        references = tuple(message_ids(" ".join(headers.get("references", []))))

        if structure_failure:
            sections = self.raw_text(message, where="message body")
        else:
            sections = self.walk(message, path=(1,), depth=0) or self.inline_text_fallback()
        text, html = self.assemble(sections)
        if not sections:
            self.note("no text or HTML body")
        elif not text.strip():
            self.note("empty body")
        split = split_quoted(text)

        recipients = [
            *(address.email for address in (*to, *cc)),
            *(
                item.strip().strip("<>")
                for name in ("delivered-to", "x-original-to")
                for item in headers.get(name, [])
            ),
        ]
        bounce = read_bounce(message=message, sender=from_, subject=subject, text=text)
        reason = auto_reason(
            headers=headers,
            sender=from_,
            message_id=message_id,
            own_addresses=self.own_addresses,
            own_message_id_domains=self.own_message_id_domains,
        )
        if not reason and bounce.is_report:
            reason = "delivery status notification"
        attachments = self.freeze_attachments(html)
        return ParsedEmail(
            from_=from_,
            to=tuple(to),
            cc=tuple(cc),
            reply_to=tuple(reply_to),
            subject=subject,
            subject_normalised=normalise_subject(subject),
            ticket_tag=ticket_tag(subject),
            reply_token=reply_token(recipients),
            date=date,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            text=text,
            new_text=split.new_text,
            quoted_text=split.quoted_text,
            html=html,
            attachments=attachments,
            is_auto_generated=bool(reason),
            auto_reason=clean_text(reason),
            is_bounce=bounce.is_failure,
            bounced_message_id=bounce.message_id,
            bounce_reason=clean_text(bounce.reason)[:500],
            refusal_reason="" if from_.email else "no sender address",
            errors=tuple(self.notes),
        )

    def addresses(
        self, headers: dict[str, list[str]]
    ) -> tuple[Address, list[Address], list[Address], list[Address]]:
        parsed: dict[str, list[Address]] = {}
        for name in ("from", "sender", "reply-to", "to", "cc", "return-path"):
            values = headers.get(name, [])
            if name in {"from", "sender", "return-path"}:
                values = values[:1]  # a second From is a defect, the first is what clients show
            mailboxes, notes = parse_addresses(values, where=f"{name.title()} header")
            parsed[name] = mailboxes
            self.note(*notes)
        from_ = next(iter(parsed["from"]), None)
        if from_ is None:
            for fallback in ("sender", "reply-to", "return-path"):
                if parsed[fallback]:
                    from_ = parsed[fallback][0]
                    self.note(f"no usable From header; sender taken from {fallback.title()}")
                    break
        return from_ or NO_ADDRESS, parsed["to"], parsed["cc"], parsed["reply-to"]

    def subject(self, headers: dict[str, list[str]]) -> str:
        decoded = decode_words(_first(headers, "subject"), where="Subject header")
        self.note(*decoded.notes)
        return clean_text(" ".join(decoded.text.split()))

    def collect_defects(self, part: Message, *, path: str, depth: int) -> None:
        for defect in getattr(part, "defects", []):
            detail = str(defect).strip()
            name = type(defect).__name__
            self.note(f"{name} in part {path}" + (f": {detail}" if detail else ""))
        payload = part.get_payload()
        if depth < MAX_DEPTH and isinstance(payload, list) and not _is_message(part):
            for index, child in enumerate(payload, start=1):
                if isinstance(child, Message):
                    self.collect_defects(child, path=f"{path}.{index}", depth=depth + 1)

    # --- the body --------------------------------------------------------------------------

    def walk(
        self, part: Message, *, path: tuple[int, ...], depth: int, in_related: bool = False
    ) -> list[_Section]:
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
            sections: list[_Section] = []
            for index, child in enumerate(children, start=1):
                sections += self.walk(
                    child, path=(*path, index), depth=depth + 1, in_related=in_related
                )
            return sections
        if kind.startswith("multipart/"):
            return self.walk_broken_multipart(part, kind=kind, path=path, depth=depth)
        if _is_message(part):
            self.attach_message(part, path=path, kind=kind)
            return []
        return self.leaf(part, kind=kind, path=path, in_related=in_related)

    def walk_broken_multipart(
        self, part: Message, *, kind: str, path: tuple[int, ...], depth: int
    ) -> list[_Section]:
        """A multipart the standard library could not split. Try the boundary the body really
        uses; failing that, show the body as text rather than drop the mail."""
        where = f"{kind} part {_dotted(path)}"
        repaired = repaired_multipart(part, kind=kind)
        if repaired is not None:
            self.note(f"{where}: declared boundary not found; split on the one the body uses")
            return self.walk(repaired, path=path, depth=depth + 1)
        self.note(f"{where}: no boundary found; its content is shown as plain text")
        return self.raw_text(part, where=where)

    def raw_text(self, part: Message, *, where: str) -> list[_Section]:
        body = decode_body(part)
        charset = self.parameterised(part, "content-type", where=where).params.get("charset", "")
        decoded = decode_text(body.data, declared=charset, where=where)
        self.note(decoded.note)
        text = clean_text(_normalise_newlines(decoded.text))
        return [_Section(plain=text)] if text.strip() else []

    def inline_text_fallback(self) -> list[_Section]:
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
                sections.append(_Section(html=text))
            else:
                sections.append(_Section(plain=text))
        return sections

    def walk_alternative(
        self, children: list[Message], *, path: tuple[int, ...], depth: int
    ) -> list[_Section]:
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
        return [_Section(plain=plain, html=html)]

    def walk_related(
        self, part: Message, children: list[Message], *, path: tuple[int, ...], depth: int
    ) -> list[_Section]:
        """The root part is the body; the others are resources it points to with cid:."""
        where = f"multipart/related part {_dotted(path)}"
        start = self.parameterised(part, "content-type", where=where).params.get("start", "")
        start = start.strip().strip("<>")
        root = 0
        if start:
            for index, child in enumerate(children):
                if _content_id(child) == start:
                    root = index
        sections: list[_Section] = []
        for index, child in enumerate(children):
            child_path = (*path, index + 1)
            if index == root:
                sections = self.walk(child, path=child_path, depth=depth + 1)
            else:
                self.walk_resource(child, path=child_path, depth=depth + 1)
        return sections

    def walk_resource(self, part: Message, *, path: tuple[int, ...], depth: int) -> None:
        if is_container(part) and not _is_message(part):
            for index, child in enumerate(part.get_payload(), start=1):
                if isinstance(child, Message):
                    self.walk_resource(child, path=(*path, index), depth=depth + 1)
            return
        if _is_message(part):
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
    ) -> list[_Section]:
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
                _Found(
                    filename=filename,
                    content_type=kind,
                    data=body.data,
                    content_id=_content_id(part),
                    disposition=disposition.value,
                    in_related=in_related,
                    charset=content.params.get("charset", ""),
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
            return [_Section(html=clean_text(decoded.text))]
        data = self.extract_uuencoded(body.data, where=where)
        decoded = decode_text(data, declared=charset, where=where)
        self.note(decoded.note)
        text = _normalise_newlines(decoded.text)
        if content.params.get("format", "").lower() == "flowed":
            delete_space = content.params.get("delsp", "").lower() == "yes"
            text = unflow(text, delete_space=delete_space)
        return [_Section(plain=clean_text(text))]

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
                _Found(
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
            _Found(
                filename=disposition.params.get("filename")
                or content.params.get("name")
                or filename,
                content_type=kind,
                data=data,
                content_id=_content_id(part),
                disposition=disposition.value or "attachment",
                in_related=False,
            )
        )

    def assemble(self, sections: list[_Section]) -> tuple[str, str]:
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

    def freeze_attachments(self, html: str) -> tuple[Attachment, ...]:
        referenced = {match.lower() for match in _CID_URL.findall(html)}
        attachments = []
        for index, found in enumerate(self.found, start=1):
            filename = _safe_filename(found.filename) or _generated_name(
                index=index, content_type=found.content_type
            )
            size = len(found.data)
            refused = ""
            if size > self.max_attachment_bytes:
                refused = f"{size} bytes over the {self.max_attachment_bytes} limit"
                self.note(f"attachment {filename} refused: {refused}")
            is_inline = bool(found.content_id) and (
                found.content_id.lower() in referenced
                or (found.in_related and found.disposition != "attachment")
            )
            attachments.append(
                Attachment(
                    filename=filename,
                    content_type=found.content_type,
                    size=size,
                    md5=hashlib.md5(found.data, usedforsecurity=False).hexdigest(),
                    sha256=hashlib.sha256(found.data).hexdigest(),
                    content_id=found.content_id,
                    is_inline=is_inline,
                    data=None if refused else found.data,
                    refused_reason=refused,
                )
            )
        return tuple(attachments)


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _is_message(part: Message) -> bool:
    return content_type(part).startswith("message/")


def _dotted(path: tuple[int, ...]) -> str:
    return ".".join(str(index) for index in path)


def _content_id(part: Message) -> str:
    raw = next((str(v) for k, v in part.raw_items() if k.lower() == "content-id"), "")
    return clean_text(unfold(raw).strip().strip("<>").strip())


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _safe_filename(name: str) -> str:
    """A name fit for a download header and a file system: no directories (senders' paths
    like C:\\Users\\… or /home/… leak in, and ../ must never reach storage), no control or
    reserved characters, at most 200 characters with the extension kept."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip().strip(".")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (
            f"{stem[: 199 - len(extension)]}.{extension}" if dot and len(extension) < 10 else name
        )[:200]
    return name


def _generated_name(*, index: int, content_type: str) -> str:
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(
        content_type, strict=False
    )
    extension = extension or ".bin"
    return f"attachment-{index}{extension}"
