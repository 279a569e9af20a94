"""Files people attach to messages (an agent's reply or note, a customer's upload on the
status page or in the chat widget): what is taken, and in what form it is kept.

Only two kinds are taken, recognised by their content and never by their name or the type
the browser claims: images (re-encoded as JPEG by tickets.images, so EXIF is gone and
nothing but pixels is kept) and PDFs. Anything else (an SVG, an HTML page, a script, an
image that does not decode) is refused with a message that says why; so is a file over
`KEFU_UPLOAD_MAX_BYTES` or more than `KEFU_UPLOAD_MAX_FILES` at once.
"""

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tickets.images import ImageRefused, image_reencode
from tickets.inbound import InboundAttachment

if TYPE_CHECKING:
    from tickets.models import Attachment

PDF_MAGIC = b"%PDF-"
IMAGE_TYPE = "image/jpeg"
PDF_TYPE = "application/pdf"
# The types an attachment is ever shown inline as (the rest are downloaded as octet-stream).
INLINE_TYPES = frozenset({IMAGE_TYPE, "image/png", "image/gif", "image/webp", PDF_TYPE})
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


@dataclass(frozen=True)
class PreparedFile:
    """An accepted file, as it will be stored."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data, usedforsecurity=False).hexdigest()

    def as_inbound(self) -> InboundAttachment:
        """The file as intake takes a customer's attachment."""
        return InboundAttachment(
            filename=self.filename,
            content_type=self.content_type,
            size=self.size,
            md5=self.md5,
            sha256=self.sha256,
            data=self.data,
        )


def file_kind(attachment: "Attachment") -> str:
    """How a page previews a stored file: "image" (a thumbnail), "pdf" (an icon) or "" (a
    download link)."""
    if not attachment.file or attachment.refused_reason:
        return ""
    if attachment.content_type.startswith("image/"):
        return "image"
    return "pdf" if attachment.content_type == PDF_TYPE else ""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def safe_filename(name: str, *, suffix: str) -> str:
    """A name fit to store and to put in a header: the last path part, no control or path
    characters, at most 100 characters, ending in `suffix`."""
    base = PurePosixPath(unicodedata.normalize("NFC", name or "").replace("\\", "/")).name
    stem = _UNSAFE_NAME.sub("_", PurePosixPath(base).stem).strip(" ._") or "file"
    return f"{stem[: 100 - len(suffix)]}{suffix}"


def file_prepare(*, name: str, size: int | None, source: IO[bytes]) -> PreparedFile:
    """One upload as it is kept, or ValidationError (naming the file, saying why)."""
    shown = name or _("file")
    limit = settings.KEFU_UPLOAD_MAX_BYTES
    if size is None or size > limit:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB.") % {"name": shown, "mb": _mb(limit)},
            code="file_size",
        )
    source.seek(0)
    head = source.read(len(PDF_MAGIC))
    if head == PDF_MAGIC:
        source.seek(0)
        data = source.read(limit + 1)
        if len(data) > limit:
            raise ValidationError(
                _("%(name)s is larger than %(mb)s MB.") % {"name": shown, "mb": _mb(limit)},
                code="file_size",
            )
        return PreparedFile(
            filename=safe_filename(name, suffix=".pdf"), content_type=PDF_TYPE, data=data
        )
    try:
        image = image_reencode(source)
    except ImageRefused as error:
        raise ValidationError(
            _("%(name)s cannot be attached: send a photo (JPEG, PNG, HEIC, WebP, GIF) or a PDF.")
            % {"name": shown},
            code="file_type",
        ) from error
    return PreparedFile(
        filename=safe_filename(name, suffix=".jpg"), content_type=IMAGE_TYPE, data=image.data
    )


def files_prepare(uploads: Sequence[object]) -> list[PreparedFile]:
    """Uploaded files (Django's UploadedFile) as kept; ValidationError with every refusal
    when any is refused, so nothing is half taken."""
    if len(uploads) > settings.KEFU_UPLOAD_MAX_FILES:
        raise ValidationError(
            _("Attach at most %(count)d files at once.")
            % {"count": settings.KEFU_UPLOAD_MAX_FILES},
            code="file_count",
        )
    prepared: list[PreparedFile] = []
    errors: list[ValidationError] = []
    for upload in uploads:
        try:
            prepared.append(
                file_prepare(
                    name=str(getattr(upload, "name", "") or ""),
                    size=getattr(upload, "size", None),
                    source=upload,  # type: ignore[arg-type]
                )
            )
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)
    return prepared
