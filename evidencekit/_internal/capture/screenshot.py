"""Full-page screenshots that are true to the page at any height.

Playwright paints the whole page in one call (CDP ``captureBeyondViewport`` with a clip), but a
single paint is bounded by the compositor's largest texture in many Chromium builds (16384 device
pixels with Playwright's headless shell and GPU rasterisation); past it the image repeats or goes
blank. Taller pages are therefore painted as clipped tiles in page coordinates, which keeps fixed
headers where the page has them, and stitched with pillow.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from evidencekit._internal.capture.settle import page_size


def _png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        return image.size


def full_page_png(page: Any, out: Path, *, max_height: int, tile_height: int,
                  scale: int) -> dict[str, Any]:
    """Write the whole page (up to ``max_height`` CSS px) as one PNG; return what was painted."""
    width, height = page_size(page)
    target = min(height, max_height)
    truncated = height > max_height
    tile_css = max(1, tile_height // scale)
    if target <= tile_css:
        clip = {"x": 0, "y": 0, "width": width, "height": target} if truncated else None
        data = page.screenshot(full_page=True, clip=clip, type="png")
        out.write_bytes(data)
        pixels = _png_size(data)
        tiles = 1
    else:
        pixels, tiles = _tiled(page, out, width=width, target=target, tile_css=tile_css)
    return {
        "page_width": width,
        "page_height": height,
        "captured_height": target,
        "truncated": truncated,
        "tiles": tiles,
        "image_width": pixels[0],
        "image_height": pixels[1],
    }


def _tiled(page: Any, out: Path, *, width: int, target: int,
           tile_css: int) -> tuple[tuple[int, int], int]:
    parts: list[Image.Image] = []
    try:
        for top in range(0, target, tile_css):
            clip = {"x": 0, "y": top, "width": width, "height": min(tile_css, target - top)}
            data = page.screenshot(full_page=True, clip=clip, type="png")
            part = Image.open(io.BytesIO(data))
            part.load()
            parts.append(part)
        canvas = Image.new(parts[0].mode, (max(p.width for p in parts), sum(p.height for p in parts)))
        offset = 0
        for part in parts:
            canvas.paste(part, (0, offset))
            offset += part.height
        canvas.save(out, format="PNG", compress_level=3)
        return canvas.size, len(parts)
    finally:
        for part in parts:
            part.close()
