"""What kind of file a piece of evidence is, and a perceptual hash when it is a picture.

The media type comes from the bytes where Pillow recognises an image, else from the name.
The perceptual hash finds the same screenshot again after re-encoding or scaling; it says
nothing about integrity (a one-word change keeps the same hash), which is SHA-256's job.
"""

from __future__ import annotations

import mimetypes
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 200_000_000  # a long page stitched from tiles is tall, not a bomb


def describe(path: Path, name: str) -> tuple[str, str | None]:
    """Return (media type, perceptual hash or None) for the stored bytes at ``path``."""
    guessed = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                import imagehash  # numpy and scipy behind it cost a fifth of a second: only for pictures

                media_type = image.get_format_mimetype() or guessed
                return media_type, str(imagehash.phash(image))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return guessed, None
