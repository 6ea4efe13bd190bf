"""Redaction's parts: boxes burned into pictures, masks in text, and the link a redaction keeps to
its original (read back by the report and the bundle verifier). Making the redacted item is
``evidencekit.redaction``.

Redaction: a new item derived from an original, with third parties hidden, the original kept.

Why a new item: evidence must never change, yet a bundle for an employer often must not show
bystanders' names or faces. So a redaction is an item of its own (kind ``redaction``) whose
record names the original's salted record digest: the custody log then proves the original
existed, unchanged, and when it was added — even when the bundle withholds it.

What can be redacted reliably: pictures (black boxes burned into the pixels, saved as a fresh
PNG with no metadata, then checked), plain text and our own transcripts (masked text). Anything
else — HTML, MHTML, HAR, e-mail sources, other apps' JSON — can hide text in encodings and
markup, so it is left out and the record says so. The record never holds the masked text
itself, nor the digests of the original files (a digest would let a guess be confirmed).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from evidencekit._internal import canonical
from evidencekit.errors import UserError
from evidencekit.i18n import t
from evidencekit.models import LogEntry

KIND = "redaction"
MASK = "█████"  # fixed length: the mark must not tell how long the hidden text was
MIN_MASK = 2
_BOX = re.compile(r"^(?:(?P<file>.+):)?\s*(?P<x>\d+)\s*,\s*(?P<y>\d+)\s*,\s*(?P<w>\d+)\s*,\s*(?P<h>\d+)\s*$")


@dataclass(frozen=True)
class Box:
    """A rectangle in a picture's pixels as shown (after EXIF rotation), optionally naming the file."""

    x: int
    y: int
    width: int
    height: int
    file: str | None = None

    @classmethod
    def parse(cls, text: str) -> Box:
        """``X,Y,W,H`` or ``FILE:X,Y,W,H``; anything else is one clear error."""
        match = _BOX.match(text.strip())
        if not match or int(match["w"]) < 1 or int(match["h"]) < 1:
            raise UserError("report.redact_bad_box", value=text)
        return cls(int(match["x"]), int(match["y"]), int(match["w"]), int(match["h"]), match["file"])

    @property
    def corners(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.width, self.y + self.height

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.width},{self.height}"


# -- pictures --------------------------------------------------------------------------------------

def _mode(image: Image.Image) -> str:
    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return "RGBA" if alpha else "RGB"


def burn(image: Image.Image, boxes: Sequence[Box]) -> Image.Image:
    """A fresh picture (no metadata carried over) with every box's pixels replaced by black."""
    mode = _mode(image)
    clean = Image.frombytes(mode, image.size, image.convert(mode).tobytes())
    black = (0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0)
    for box in boxes:
        clean.paste(black, box.corners)
    return clean


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def check_burned(original: Image.Image, redacted: bytes, boxes: Sequence[Box]) -> bool:
    """True if ``redacted`` is a PNG without metadata whose boxed pixels are all black and whose
    other pixels all equal the original's. Run on every redaction before it is stored; it does
    not trust :func:`burn` (it puts the original's pixels back into the boxes and compares)."""
    with Image.open(io.BytesIO(redacted)) as image:
        image.load()
        if image.format != "PNG" or image.size != original.size:
            return False
        if getattr(image, "text", None) or set(image.info) - {"dpi"} or len(image.getexif()):
            return False
        mode = _mode(original)
        if image.mode != mode:
            return False
        black = ((0, 0),) * 3 + (((255, 255),) if mode == "RGBA" else ())
        if any(image.crop(box.corners).getextrema() != black for box in boxes):
            return False
        source = original.convert(mode)
        restored = image.copy()
        for box in boxes:
            restored.paste(source.crop(box.corners), box.corners[:2])
        return restored.tobytes() == source.tobytes()


# -- text ------------------------------------------------------------------------------------------

def mask_patterns(masks: Sequence[str]) -> list[re.Pattern[str]]:
    found = []
    for mask in masks:
        text = mask.strip()
        if len(text) < MIN_MASK:
            raise UserError("report.redact_mask_short", mask=mask)
        found.append(re.compile(re.escape(text), re.IGNORECASE))
    return found


def mask_text(text: str, patterns: Sequence[re.Pattern[str]], counts: list[int]) -> str:
    """``text`` with every pattern replaced by the mark; ``counts[i]`` grows by pattern i's hits."""
    for i, pattern in enumerate(patterns):
        text, hits = pattern.subn(MASK, text)
        counts[i] += hits
    return text


def mask_json(value: Any, patterns: Sequence[re.Pattern[str]], counts: list[int]) -> Any:
    """Every string in a JSON value (keys too) masked."""
    if isinstance(value, str):
        return mask_text(value, patterns, counts)
    if isinstance(value, list):
        return [mask_json(v, patterns, counts) for v in value]
    if isinstance(value, dict):
        return {mask_text(k, patterns, counts): mask_json(v, patterns, counts) for k, v in value.items()}
    return value


# -- reading the link back (report and bundle verifier) --------------------------------------------

@dataclass(frozen=True)
class Link:
    """What a redaction says it was made from, and whether the custody log bears that out.

    ``status``: ``included`` (the original is here too), ``withheld`` (not here, but the log
    commits to exactly that record at ``committed``), ``not_logged`` (the log holds no such
    record: the claim does not hold).
    """

    redaction: str
    original: str
    record_sha256: str
    status: str
    committed: str | None

    @property
    def key(self) -> str:
        """The catalog key of the sentence (``report.redaction_withheld`` …), for a BundleCheck."""
        return f"report.redaction_{self.status}"

    def params(self) -> dict[str, str]:
        """The sentence's parameters: ``item``, ``original``, ``committed`` (UTC, to the second)."""
        committed = "-"
        if self.committed:
            committed = canonical.parse_time(self.committed).strftime("%Y-%m-%d %H:%M:%S UTC")
        return {"item": self.redaction, "original": self.original, "committed": committed}

    def message(self, lang: str | None = None) -> str:
        """``E-005: redaction of E-003 (original withheld, committed at 2026-03-01 10:44:42 UTC).``"""
        return t(self.key, lang, **self.params())


def origin(acquired: Mapping[str, Any]) -> tuple[str, str] | None:
    """(original label, its record digest) from a redaction record's ``acquired``, else None."""
    if not isinstance(acquired, Mapping) or acquired.get("method") != "redaction":
        return None
    source = acquired.get("derived_from")
    if not isinstance(source, Mapping):
        return None
    item, digest = source.get("item"), source.get("record_sha256")
    return (item, digest) if isinstance(item, str) and isinstance(digest, str) else None


def link(label: str, acquired: Mapping[str, Any], entries: Sequence[LogEntry],
         included: Mapping[str, str]) -> Link | None:
    """The link of redaction ``label``, judged against the verified custody log ``entries`` and
    the records at hand (``included``: item label → record digest). None if not a redaction."""
    found = origin(acquired)
    if found is None:
        return None
    original, digest = found
    added = next((e for e in entries if e.action == "item.add" and e.subject == original), None)
    if added is None or added.record_sha256 != digest:
        return Link(label, original, digest, "not_logged", None)
    status = "included" if included.get(original) == digest else "withheld"
    return Link(label, original, digest, status, added.time)
