"""Small pictures for the case page's item list: a JPEG data URL of at most 160×120 pixels.

Why in the host: the page must not receive whole screenshots (a full-page capture can be tens of
megabytes, and a reply at most 1 MiB) just to show a stamp-sized preview.
"""

from __future__ import annotations

import base64
import io
from typing import BinaryIO

from PIL import Image

from evidencekit._internal import media

SIZE = (160, 120)
MAX_PIXELS = 60_000_000  # beyond this a picture is not decoded for a preview (a decompression bomb)


def data_url(source: BinaryIO) -> str | None:
    """The preview of an open picture, or None when it is not one Pillow can read safely."""
    try:
        with media.bombs_refused(), Image.open(source) as picture:
            if picture.width * picture.height > MAX_PIXELS:
                return None
            picture.draft("RGB", (SIZE[0] * 2, SIZE[1] * 2))  # JPEGs decode at a fraction of their size
            small = picture.convert("RGB")
            small.thumbnail(SIZE)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=70)
    except media.NOT_A_PICTURE:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
