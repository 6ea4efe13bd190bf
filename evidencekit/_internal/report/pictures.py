"""Pictures as the report embeds them: reduced, cut into page-sized strips, or blurred.

Why here and not in the browser: a report must load nothing from outside, so pictures travel
inside it as ``data:`` URIs; a tall screenshot must be cut into strips because Chromium does not
split one image across printed pages; and a sensitive picture is blurred *before* it is
embedded, so the clear picture never travels in a blurred report (a CSS blur would ship it).
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from evidencekit._internal import media  # noqa: F401 - sets Pillow's limit for tall screenshots
from evidencekit.models import ItemFile

WIDTH = 900  # pixels across the printed text column (A4, 2 px per mm): sharp, not heavy
STRIP = 600  # about half a printed page: strips fill pages instead of leaving gaps
BLUR_BOX = (480, 640)
QUALITY = 85


@dataclass(frozen=True)
class Picture:
    """One picture ready for the page: its strips (``data:`` URIs), original size, and whether
    what is shown is a blurred stand-in."""

    name: str
    sha256: str
    width: int
    height: int
    strips: tuple[str, ...]
    blurred: bool
    reduced: bool


def open_image(locker: Any, file: ItemFile) -> Image.Image | None:
    """The stored picture as shown to a person (EXIF rotation applied), or None if unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with locker.blobs.open(file.sha256) as blob:
                image = Image.open(io.BytesIO(blob.read()))
                image.load()
            turned = image.getexif().get(0x0112, 1) not in (None, 1)  # EXIF orientation
            return ImageOps.exif_transpose(image) if turned else image
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return None


def _flat(image: Image.Image) -> Image.Image:
    """RGB on white: transparency means nothing on paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        base = Image.new("RGB", rgba.size, "white")
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return image if image.mode == "RGB" else image.convert("RGB")


def _uri(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, subsampling=0)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def embed(locker: Any, file: ItemFile, blur: bool) -> Picture | None:
    """The picture reduced to the column width and cut in strips, or blurred beyond recognition."""
    image = open_image(locker, file)
    if image is None:
        return None
    width, height = image.size
    flat = _flat(image)
    if blur:
        return Picture(file.name, file.sha256, width, height, (_uri(_blurred(flat)),), True, True)
    reduced = width > WIDTH
    if reduced:
        flat = flat.resize((WIDTH, max(1, round(height * WIDTH / width))), Image.Resampling.LANCZOS)
    strips = tuple(_uri(flat.crop((0, top, flat.width, min(flat.height, top + STRIP))))
                   for top in range(0, flat.height, STRIP))
    return Picture(file.name, file.sha256, width, height, strips, False, reduced)


def _blurred(image: Image.Image) -> Image.Image:
    """Shapes and colours only: shrunk to a few dozen pixels, blown up again, then blurred."""
    shown = ImageOps.contain(image, BLUR_BOX)
    tiny = shown.resize((max(1, shown.width // 24), max(1, shown.height // 24)), Image.Resampling.BOX)
    return tiny.resize(shown.size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(12))
