"""`python manage.py parse_email FILE...`: what the parser makes of raw mail, as JSON Lines.

For inspecting a mail that came out wrong on a ticket, and for running whole corpora through
the parser. One line per file, in the order given; a file that cannot be read or parsed still
gets its line, with `errors` saying why, so the output lines up with the arguments.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from channels_ingest.email import DEFAULT_MAX_ATTACHMENT_BYTES, ParsedEmail, parse_message
from channels_ingest.email.parse import unreadable
from channels_ingest.email.parsed import Address


class Command(BaseCommand):
    help = "Parse raw email files and print one JSON object per file (JSON Lines)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="raw RFC 5322 messages")
        parser.add_argument(
            "--max-attachment-bytes",
            type=int,
            default=DEFAULT_MAX_ATTACHMENT_BYTES,
            help="attachments larger than this are refused (default: %(default)s)",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="also print threading keys, folding, loop-guard and bounce fields",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in options["files"]:
            try:
                raw = Path(name).read_bytes()
            except OSError as error:
                parsed = unreadable(reason=f"cannot read {name}: {error.strerror or error}")
            else:
                parsed = parse_message(raw, max_attachment_bytes=options["max_attachment_bytes"])
            self.stdout.write(json.dumps(as_json(parsed, full=options["full"]), ensure_ascii=False))


def as_json(parsed: ParsedEmail, *, full: bool = False) -> dict[str, Any]:
    """The normalised result as the CLI prints it (the issue's field list; more with full)."""
    result: dict[str, Any] = {
        "from": _address(parsed.from_),
        "to": [_address(item) for item in parsed.to],
        "cc": [_address(item) for item in parsed.cc],
        "reply_to": [_address(item) for item in parsed.reply_to],
        "subject": parsed.subject,
        "date": parsed.date.isoformat() if parsed.date else None,
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": list(parsed.references),
        "text": parsed.text,
        "html": parsed.html,
        "attachments": [
            {
                "filename": item.filename,
                "content_type": item.content_type,
                "size": item.size,
                "md5": item.md5,
                "content_id": item.content_id,
            }
            for item in parsed.attachments
        ],
        "errors": list(parsed.errors),
    }
    if full:
        result.update(
            {
                "subject_normalised": parsed.subject_normalised,
                "ticket_tag": parsed.ticket_tag,
                "reply_token": parsed.reply_token,
                "new_text": parsed.new_text,
                "quoted_text": parsed.quoted_text,
                "is_auto_generated": parsed.is_auto_generated,
                "auto_reason": parsed.auto_reason,
                "is_bounce": parsed.is_bounce,
                "bounced_message_id": parsed.bounced_message_id,
                "bounce_reason": parsed.bounce_reason,
                "refusal_reason": parsed.refusal_reason,
            }
        )
        for item, shown in zip(parsed.attachments, result["attachments"], strict=True):
            shown.update(
                {
                    "sha256": item.sha256,
                    "is_inline": item.is_inline,
                    "refused_reason": item.refused_reason,
                }
            )
    return result


def _address(address: Address) -> dict[str, str]:
    return {"name": address.name, "email": address.email}
