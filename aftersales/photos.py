"""Photos customers send with an after-sales case: read whatever a phone takes (JPEG,
PNG, HEIC, WebP), refuse anything that is not one, and keep only a re-encoded JPEG of at
most 2048 px on the long side (tickets.images, which drops the EXIF block with the place the
photo was taken and the camera's details)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from tickets.images import ImageRefused, ReencodedImage, image_reencode

PHOTOS_MAX = 6
LONG_SIDE_MAX = 2048
# Case photos are what a phone takes: no GIFs.
_FORMATS = frozenset({"JPEG", "MPO", "PNG", "HEIF", "WEBP"})

PreparedPhoto = ReencodedImage


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
    try:
        return image_reencode(upload, long_side=LONG_SIDE_MAX, formats=_FORMATS)
    except ImageRefused as error:
        raise ValidationError(
            _("%(name)s is not a photo we can read: send a JPEG, PNG, HEIC or WebP image.")
            % {"name": name},
            code="photo_format",
        ) from error


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g}"
