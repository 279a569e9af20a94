"""Pictures from outside (a customer's photo, an agent's screenshot), made safe to keep and
show: read whatever a phone takes (JPEG, PNG, HEIC, WebP, GIF), refuse anything that does not
decode as one of them, and keep only a re-encoded JPEG of bounded size. Re-encoding drops the
EXIF block with it, and so the place the photo was taken (GPS) and the camera's details; it
also means a file that merely claims to be an image (an SVG or HTML page with script) is
never kept.

Used by the core's attachments (tickets/files.py) and by after-sales' case photos
(aftersales/photos.py), which add their own limits and words on top.
"""

import hashlib
import io
from dataclasses import dataclass
from typing import IO

import pillow_heif
from PIL import Image, ImageOps

pillow_heif.register_heif_opener()

LONG_SIDE_MAX = 2048
# What Pillow names the formats we take (MPO: a JPEG with a second frame, as some phones
# write; HEIF: HEIC).
IMAGE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "HEIF", "WEBP", "GIF"})
# Refused before decoding: a small file may claim a huge canvas (a decompression bomb).
PIXELS_MAX = 60_000_000


class ImageRefused(ValueError):
    """The file is not an image we read (or is one too large to decode safely)."""


@dataclass(frozen=True)
class ReencodedImage:
    data: bytes  # the JPEG to store
    width: int
    height: int
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def image_reencode(
    source: IO[bytes], *, long_side: int = LONG_SIDE_MAX, formats: frozenset[str] = IMAGE_FORMATS
) -> ReencodedImage:
    """The image in `source` as a fresh JPEG (upright, transparency on white, at most
    `long_side` px on its long side, no metadata); ImageRefused when it does not decode as
    one of `formats`."""
    try:
        source.seek(0)
        with Image.open(source) as image:
            if image.format not in formats:
                raise ImageRefused(f"format {image.format}")
            if image.width * image.height > PIXELS_MAX:
                raise ImageRefused("too many pixels")
            image.load()
            upright = ImageOps.exif_transpose(image)
            clean = _flattened(upright)
    except ImageRefused:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ImageRefused(str(error)) from error
    clean.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A new image carries no metadata: nothing of the original's EXIF, XMP or comments.
    clean.save(out, format="JPEG", quality=85, optimize=True)
    data = out.getvalue()
    return ReencodedImage(
        data=data, width=clean.width, height=clean.height, sha256=hashlib.sha256(data).hexdigest()
    )


def _flattened(image: Image.Image) -> Image.Image:
    """The pixels alone, in RGB, on a fresh image (transparency on white)."""
    rgba = image.convert("RGBA")
    clean = Image.new("RGB", rgba.size, (255, 255, 255))
    clean.paste(rgba, mask=rgba.getchannel("A"))
    return clean
