"""Raw RFC 5322 bytes → `ParsedEmail`: the one entry point of inbound email parsing.

A pure function: no database, no settings, no network. It never raises — a mail that cannot
be read at all comes back with `errors` filled and a `refusal_reason`, so the ingest task can
mark the raw record failed with that reason instead of crashing, and every defect it worked
around is listed in `errors` so the ticket can show it. See docs/email.md.
"""

from collections.abc import Collection
from dataclasses import dataclass
from email.message import Message

from channels_ingest.email.attachments import freeze_attachments
from channels_ingest.email.body import BodyWalker, is_message
from channels_ingest.email.bounces import read_bounce
from channels_ingest.email.header_block import repaired_header_block
from channels_ingest.email.headers import (
    clean_text,
    decode_words,
    message_ids,
    parse_addresses,
    parse_date,
)
from channels_ingest.email.loop_guard import auto_reason
from channels_ingest.email.parsed import Address, ParsedEmail
from channels_ingest.email.quoting import split_quoted
from channels_ingest.email.threading import normalise_subject, reply_token, ticket_tag
from channels_ingest.email.tree import (
    MAX_DEPTH,
    parse_headers,
    parse_tree,
    used_lenient_policy,
)

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
NO_ADDRESS = Address(name="", email="")


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


@dataclass(kw_only=True)
class _Parser(BodyWalker):
    max_attachment_bytes: int
    own_addresses: Collection[str]
    own_message_id_domains: Collection[str]

    # --- the whole message ---------------------------------------------------------------

    def parse(self, *, structure_failure: str = "") -> ParsedEmail:
        raw, repairs = repaired_header_block(self.raw)
        message = parse_headers(raw) if structure_failure else parse_tree(raw)
        self.note(*repairs, structure_failure)
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
            if not any((s.plain or s.html or "").strip() for s in sections):
                sections = self.forwarded_text() or self.attached_text() or sections
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
        attachments = freeze_attachments(
            self.found,
            html=html,
            max_attachment_bytes=self.max_attachment_bytes,
            note=self.note,
        )
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
        if depth < MAX_DEPTH and isinstance(payload, list) and not is_message(part):
            for index, child in enumerate(payload, start=1):
                if isinstance(child, Message):
                    self.collect_defects(child, path=f"{path}.{index}", depth=depth + 1)


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""
