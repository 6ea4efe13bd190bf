"""What kind of file a piece of evidence is, and its perceptual hashes when it is a picture.

The media type comes from the bytes where Pillow recognises an image, else from the name.
The perceptual hashes find the same picture again after re-encoding or scaling; they say
nothing about integrity (a one-word change keeps the same hash), which is SHA-256's job.

Two of them, for two audiences: pHash (64 bits) groups look-alike screenshots in the report;
PDQ (256 bits, Meta's open algorithm) is what hash-matching services such as StopNCII and
ThreatExchange compare, so a recipient can match a picture by hash without being sent it.
"""

from __future__ import annotations

import mimetypes
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 200_000_000  # a long page stitched from tiles is tall, not a bomb
PDQ_MAX_PIXELS = 4_000_000  # PDQ works on a 64 × 64 reduction: a long page is box-scaled to this first (time, memory)
#: What reading a picture from outside may raise: not a picture, damaged, or a decompression bomb.
NOT_A_PICTURE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
                 Image.DecompressionBombWarning)


@contextmanager
def bombs_refused() -> Iterator[None]:
    """Pictures come from outside: inside this block Pillow's decompression-bomb warning is an
    error (one of ``NOT_A_PICTURE``), so a bomb is refused instead of decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


@dataclass(frozen=True)
class Described:
    media_type: str
    phash: str | None = None
    pdq: str | None = None  # 64 hex digits, bit 255 first (the form ThreatExchange and StopNCII write)


def describe(source: Path | BinaryIO, name: str) -> Described:
    """The media type and, for a picture, its pHash and PDQ, from the bytes of ``source``: a file, or
    a stored blob opened through the locker's one reader (``BlobStore.open``)."""
    guessed = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    try:
        with bombs_refused(), Image.open(source) as image:
            import imagehash  # numpy and scipy behind it cost a fifth of a second: only for pictures

            media_type = image.get_format_mimetype() or guessed
            return Described(media_type, str(imagehash.phash(image)), pdq(image))
    except NOT_A_PICTURE:
        return Described(guessed)


def pdq(image: Image.Image) -> str:
    """The PDQ hash of a picture in hex (Meta's reference code, through the ``pdqhash`` bindings)."""
    import numpy
    import pdqhash

    rgb = image.convert("RGB")
    if rgb.width * rgb.height > PDQ_MAX_PIXELS:
        scale = (PDQ_MAX_PIXELS / (rgb.width * rgb.height)) ** 0.5
        rgb = rgb.resize((max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale))), Image.Resampling.BOX)
    bits, _quality = pdqhash.compute(numpy.ascontiguousarray(numpy.asarray(rgb, dtype=numpy.uint8)))
    return numpy.packbits(bits.astype(numpy.uint8)).tobytes().hex()


def pdq_distance(a: str, b: str) -> int:
    """How many of the 256 bits differ: PDQ's own measure (ThreatExchange matches at 31 or less)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
