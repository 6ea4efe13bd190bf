"""Screenshots that look the same, grouped so the report shows the picture once.

Why a perceptual hash: the same page captured twice, re-encoded or scaled, has other bytes and
another SHA-256 but the same look. PDQ (256 bits) decides where both pictures have one, pHash
(64 bits) for pictures added before PDQ was computed. Why we then compare pixels too: a perceptual hash also calls
two pictures "the same" when one word differs (design §4), so each grouped capture is said to
be pixel-identical or not, with the area where it differs — nothing is silently hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import imagehash
from PIL import ImageChops

from evidencekit._internal.media import pdq_distance
from evidencekit._internal.report.pictures import open_image
from evidencekit.models import ItemFile

MAX_DISTANCE = 6  # pHash bits: re-encoding, 1-px shifts, halving: 0; a different page: 26 and more
PDQ_MAX_DISTANCE = 24  # PDQ bits: the same share of the hash, on a hash four times as long


@dataclass(frozen=True)
class Member:
    """One capture in a group: which exhibit and file, and how it compares with the shown one."""

    label: str
    file: ItemFile
    same_bytes: bool = False
    same_pixels: bool = False
    differs_in: tuple[int, int, int, int] | None = None  # left, top, right, bottom in its pixels
    other_size: bool = False


@dataclass(frozen=True)
class Group:
    shown: Member
    others: tuple[Member, ...]

    @property
    def members(self) -> tuple[Member, ...]:
        return (self.shown, *self.others)


def distance(a: str, b: str) -> int:
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))


def alike(a: ItemFile, b: ItemFile, max_distance: int = MAX_DISTANCE) -> bool:
    """Look-alikes by PDQ where both have it, else by pHash (``max_distance`` in pHash's 64 bits)."""
    if a.pdq and b.pdq:
        return pdq_distance(a.pdq, b.pdq) <= max_distance * PDQ_MAX_DISTANCE // MAX_DISTANCE
    return a.phash is not None and b.phash is not None and distance(a.phash, b.phash) <= max_distance


def group(locker: Any, candidates: list[tuple[str, ItemFile]], max_distance: int = MAX_DISTANCE) -> list[Group]:
    """Groups of two or more look-alike pictures, in the order given; the first is the one shown."""
    buckets: list[list[tuple[str, ItemFile]]] = []
    for label, file in candidates:
        if file.phash is None and file.pdq is None:
            continue
        home = next((b for b in buckets if alike(b[0][1], file, max_distance)), None)
        if home is None:
            buckets.append([(label, file)])
        else:
            home.append((label, file))
    return [_compare(locker, bucket) for bucket in buckets if len(bucket) > 1]


def _compare(locker: Any, bucket: list[tuple[str, ItemFile]]) -> Group:
    (label, first), rest = bucket[0], bucket[1:]
    shown_image = None
    others = []
    for other_label, file in rest:
        if file.sha256 == first.sha256:
            others.append(Member(other_label, file, same_bytes=True, same_pixels=True))
            continue
        if shown_image is None:
            shown_image = open_image(locker, first)
        image = open_image(locker, file)
        if shown_image is None or image is None or image.size != shown_image.size:
            others.append(Member(other_label, file, other_size=True))
            continue
        box = ImageChops.difference(shown_image.convert("RGBA"), image.convert("RGBA")).getbbox()
        others.append(Member(other_label, file, same_pixels=box is None, differs_in=box))
    return Group(Member(label, first, same_bytes=True, same_pixels=True), tuple(others))
