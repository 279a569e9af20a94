"""Found attachments frozen into `Attachment` values: safe names, checksums, size limits."""

import hashlib
import mimetypes
import re
from collections.abc import Callable

from channels_ingest.email.body import Found
from channels_ingest.email.parsed import Attachment

_CID_URL = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)
# Names for generated attachment files where mimetypes knows no extension.
_EXTENSIONS = {
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
}
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def freeze_attachments(
    found_parts: list[Found],
    *,
    html: str,
    max_attachment_bytes: int,
    note: Callable[[str], None],
) -> tuple[Attachment, ...]:
    """The found parts as attachments, in order; parts over `max_attachment_bytes` keep their
    name, size and checksums but not their data, with a note."""
    referenced = {match.lower() for match in _CID_URL.findall(html)}
    attachments = []
    for index, found in enumerate(found_parts, start=1):
        filename = _safe_filename(found.filename) or _generated_name(
            index=index, content_type=found.content_type
        )
        size = len(found.data)
        refused = ""
        if size > max_attachment_bytes:
            refused = f"{size} bytes over the {max_attachment_bytes} limit"
            note(f"attachment {filename} refused: {refused}")
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
