"""Pictures as the report embeds them: reduced, cut into page-sized strips, or blurred.

Why here and not in the browser: a report must load nothing from outside, so pictures travel
inside it as ``data:`` URIs; a tall screenshot must be cut into strips because Chromium does not
split one image across printed pages; and a sensitive picture is blurred *before* it is
embedded, so the clear picture never travels in a blurred report (a CSS blur would ship it).
"""

from __future__ import annotations

import base64
import io
from math import ceil
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageChops, ImageFilter, ImageOps

from evidencekit._internal import media  # also sets Pillow's limit for tall screenshots
from evidencekit.models import ItemFile

WIDTH = 900  # pixels across the printed text column (A4, 2 px per mm): sharp, not heavy
STRIP = 600  # about half a printed page: strips fill pages instead of leaving gaps
BLUR_BOX = (480, 640)
QUALITY = 85
# A web page is printed on landscape pages (265 mm, 751 pt across), cut so that at most READABLE
# of its CSS pixels span the column: text of 12 px, the smallest most sites use for reading,
# prints at 9.4 pt. A slice is TALL times as high as wide, so it fits one page with its caption.
READABLE = 960
TALL = 0.6
SPARSE = 0.01  # page edges where fewer rows than this hold anything (a top bar) are left out
OVERVIEW = 640  # pixels high: the whole page at a glance, before the readable slices


@dataclass(frozen=True)
class Slice:
    """One piece of a page picture and where it was cut from, in the stored picture's pixels."""

    uri: str
    left: int
    top: int
    right: int
    bottom: int
    share: float  # of the printed column's width: the last column of a page may be narrower


@dataclass(frozen=True)
class Picture:
    """One picture ready for the page: its strips (``data:`` URIs), original size, and whether
    what is shown is a blurred stand-in; a web page's picture comes as one reduced overview
    (its only strip) and readable ``slices``."""

    name: str
    sha256: str
    width: int
    height: int
    strips: tuple[str, ...]
    blurred: bool
    reduced: bool
    slices: tuple[Slice, ...] = ()

    @property
    def cut_across(self) -> bool:
        """Whether a slice leaves out part of the page's width (cut into columns, or margins and a
        bar's ends left out), so its caption must say which part across it shows."""
        return any(piece.left > 0 or piece.right < self.width for piece in self.slices)


def open_image(locker: Any, file: ItemFile) -> Image.Image | None:
    """The stored picture as shown to a person (EXIF rotation applied), or None if unreadable."""
    with locker.blobs.open(file.sha256) as blob:
        return decode(blob.read())


def decode(data: bytes) -> Image.Image | None:
    """Picture bytes as shown to a person (EXIF rotation applied), or None if unreadable."""
    try:
        with media.bombs_refused():
            image = Image.open(io.BytesIO(data))
            image.load()
            turned = image.getexif().get(0x0112, 1) not in (None, 1)  # EXIF orientation
            return ImageOps.exif_transpose(image) if turned else image
    except media.NOT_A_PICTURE:
        return None


def flatten(image: Image.Image) -> Image.Image:
    """RGB on white: transparency means nothing on paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        base = Image.new("RGB", rgba.size, "white")
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return image if image.mode == "RGB" else image.convert("RGB")


def data_uri(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, subsampling=0)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def embed(locker: Any, file: ItemFile, blur: bool, css_scale: float | None = None) -> Picture | None:
    """The picture reduced to the column width and cut in strips, or blurred beyond recognition.

    ``css_scale`` (picture pixels per CSS pixel) marks a web page's picture: it is cut into
    slices that print at a readable scale instead of being shrunk to the column."""
    image = open_image(locker, file)
    if image is None:
        return None
    width, height = image.size
    flat = flatten(image)
    if blur:
        return Picture(file.name, file.sha256, width, height, (data_uri(blurred(flat)),), True, True)
    if css_scale is not None:
        overview, pieces = _slices(flat, css_scale)
        return Picture(file.name, file.sha256, width, height, (overview,), False, True, pieces)
    reduced = width > WIDTH
    if reduced:
        flat = flat.resize((WIDTH, max(1, round(height * WIDTH / width))), Image.Resampling.LANCZOS)
    strips = tuple(data_uri(flat.crop((0, top, flat.width, min(flat.height, top + STRIP))))
                   for top in range(0, flat.height, STRIP))
    return Picture(file.name, file.sha256, width, height, strips, False, reduced)


def blurred(image: Image.Image) -> Image.Image:
    """Shapes and colours only: shrunk to a few dozen pixels, blown up again, then blurred."""
    shown = ImageOps.contain(image, BLUR_BOX)
    tiny = shown.resize((max(1, shown.width // 24), max(1, shown.height // 24)), Image.Resampling.BOX)
    return tiny.resize(shown.size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(12))


def _slices(image: Image.Image, css_scale: float) -> tuple[str, tuple[Slice, ...]]:
    """An overview of the whole page, then the page in readable slices, row by row, left to right.

    Left and right, what only a few rows reach (margins, a top bar's ends) is left out of the
    slices, and so is a slice with nothing on it; the overview shows the whole picture and every
    slice keeps its position, so none of this hides anything."""
    left, right = _content_span(image)
    columns = max(1, ceil((right - left) / (READABLE * css_scale)))
    across = ceil((right - left) / columns)
    down = max(1, round(across * TALL))
    cut = []
    for top in range(0, image.height, down):
        for column in range(columns):
            box = (left + column * across, top, min(right, left + (column + 1) * across), min(image.height, top + down))
            piece = image.crop(box)
            corner = Image.new("RGB", piece.size, piece.getpixel((0, 0)))
            if ImageChops.difference(piece, corner).getbbox() is None:
                continue
            shown = piece if across <= WIDTH else piece.resize(
                (max(1, piece.width * WIDTH // across), max(1, piece.height * WIDTH // across)), Image.Resampling.LANCZOS)
            cut.append(Slice(data_uri(shown), *box, share=round(100 * (box[2] - box[0]) / across, 2)))
    overview = ImageOps.contain(image, (image.width, min(image.height, OVERVIEW)), Image.Resampling.LANCZOS)
    return data_uri(overview), tuple(cut)


def _content_span(image: Image.Image) -> tuple[int, int]:
    """Left and right edge of what at least ``SPARSE`` of the rows hold: a pixel counts when it
    differs from its row's first pixel (each band of a page has its own background)."""
    edge = image.crop((0, 0, 1, image.height)).resize(image.size, Image.Resampling.NEAREST)
    marked = ImageChops.difference(image, edge).convert("L").point(lambda v: 255 if v > 8 else 0)
    share = marked.resize((image.width, 1), Image.Resampling.BOX).tobytes()  # one byte (L) per column
    held = [x for x, value in enumerate(share) if value > 255 * SPARSE]
    return (held[0], held[-1] + 1) if held else (0, image.width)
