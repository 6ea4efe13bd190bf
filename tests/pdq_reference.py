"""An independent PDQ, written for the tests from the published algorithm (Meta's "PDQ and TMK+PDQF"
description and the reference code's steps), in plain numpy — no code shared with the ``pdqhash``
bindings evidencekit uses, which wrap Meta's C++:

1. luma = 0.299 R + 0.587 G + 0.114 B;
2. two passes of a box filter along rows then columns (Jarosz), window ⌈dimension / 128⌉, the
   window reaching ``full - half`` back and ``half - 1`` ahead (``half = (full + 2) // 2``) and
   shrinking at the edges;
3. 64 × 64 samples at the centres of the cells;
4. the 16 × 16 lowest non-constant DCT-II coefficients (rows and columns 1…16);
5. a bit per coefficient, set where it exceeds the median (the 128th smallest); bit ``16 i + j``
   for coefficient (i, j), and the hex form writes bit 255 first.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def _box(values: np.ndarray, full: int, axis: int) -> np.ndarray:
    half = (full + 2) // 2
    back, ahead = full - half, half - 1
    moved = np.moveaxis(values, axis, 0)
    n = moved.shape[0]
    sums = np.concatenate([np.zeros((1, *moved.shape[1:])), np.cumsum(moved, axis=0)])
    index = np.arange(n)
    low, high = np.clip(index - back, 0, n), np.clip(index + ahead + 1, 0, n)
    out = (sums[high] - sums[low]) / (high - low)[:, None]
    return np.moveaxis(out, 0, axis)


def pdq_hex(image: Image.Image) -> str:
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    rows, cols = luma.shape
    for _ in range(2):
        luma = _box(luma, (cols + 127) // 128, 1)
        luma = _box(luma, (rows + 127) // 128, 0)
    cells = luma[np.ix_(((np.arange(64) + 0.5) * rows / 64).astype(int), ((np.arange(64) + 0.5) * cols / 64).astype(int))]
    basis = np.sqrt(2 / 64) * np.cos(np.pi / 128 * np.arange(1, 17)[:, None] * (2 * np.arange(64)[None, :] + 1))
    coefficients = (basis @ cells @ basis.T).flatten()
    bits = coefficients > np.sort(coefficients)[127]
    return np.packbits(bits[::-1]).tobytes().hex()


def picture(seed: int, size: tuple[int, int], text: str = "") -> Image.Image:
    """A picture with structure (blocks of colour and a line of text), the same for the same seed."""
    rng = np.random.default_rng(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        draw.rectangle([x, y, x + int(rng.integers(5, width // 2 + 6)), y + int(rng.integers(5, height // 2 + 6))],
                       fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    if text:
        draw.text((10, 10), text, fill=(0, 0, 0))
    return image
