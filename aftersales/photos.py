"""Photos customers send with an after-sales case: read whatever a phone takes (JPEG,
PNG, HEIC, WebP), refuse anything that is not one, and keep only a re-encoded JPEG of at
most 2048 px on the long side. Re-encoding drops the EXIF block with it, and so the place
the photo was taken (GPS) and the camera's details."""

import hashlib
import io
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

pillow_heif.register_heif_opener()

PHOTOS_MAX = 6
LONG_SIDE_MAX = 2048
# What Pillow names the formats we take (MPO: a JPEG with a second frame, as some phones
# write; HEIF: HEIC).
_FORMATS = frozenset({"JPEG", "MPO", "PNG", "HEIF", "WEBP"})
# Refused before decoding: a small file may claim a huge canvas (a decompression bomb).
_PIXELS_MAX = 60_000_000


@dataclass(frozen=True)
class PreparedPhoto:
    data: bytes  # the JPEG to store
    width: int
    height: int
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def photo_prepare(upload: UploadedFile) -> PreparedPhoto:
    """The upload as the JPEG to keep; ValidationError (naming the file) when it is too
    large or does not decode as a JPEG, PNG, HEIC or WebP image."""
    name = upload.name or _("photo")
    limit = settings.AFTERSALES_PHOTO_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB.") % {"name": name, "mb": _mb(limit)},
            code="photo_size",
        )
    refused = ValidationError(
        _("%(name)s is not a photo we can read: send a JPEG, PNG, HEIC or WebP image.")
        % {"name": name},
        code="photo_format",
    )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            if image.format not in _FORMATS:
                raise refused
            if image.width * image.height > _PIXELS_MAX:
                raise refused
            image.load()
            upright = ImageOps.exif_transpose(image)
            clean = _flattened(upright)
    except ValidationError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise refused from error
    clean.thumbnail((LONG_SIDE_MAX, LONG_SIDE_MAX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A new image carries no metadata: nothing of the original's EXIF, XMP or comments.
    clean.save(out, format="JPEG", quality=85, optimize=True)
    data = out.getvalue()
    return PreparedPhoto(
        data=data,
        width=clean.width,
        height=clean.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _flattened(image: Image.Image) -> Image.Image:
    """The pixels alone, in RGB, on a fresh image (transparency on white)."""
    rgba = image.convert("RGBA")
    clean = Image.new("RGB", rgba.size, (255, 255, 255))
    clean.paste(rgba, mask=rgba.getchannel("A"))
    return clean


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g}"
