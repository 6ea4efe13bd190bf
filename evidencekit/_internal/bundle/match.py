"""Does a file someone holds match an item of a bundle? By SHA-256 (the same bytes), or by PDQ
(the same picture after re-encoding, scaling or a screenshot of it), with the distance.

Why: with a hash-only hand-over the recipient never receives an intimate picture, but a helpline
or the police may already hold a copy (reported to them, found on a seized device) and must know
whether it is the one in the case, without anyone sending it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from evidencekit._internal import canonical, media
from evidencekit._internal.bundle import layout

PDQ_THRESHOLD = 31  # bits of 256: ThreatExchange's and StopNCII's usual threshold for a PDQ match


@dataclass(frozen=True)
class Found:
    item: str
    name: str
    how: str  # "exact" (SHA-256) or "perceptual" (PDQ)
    held_back: bool
    distance: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "name": self.name, "match": self.how, "held_back": self.held_back,
                "pdq_distance": self.distance}


def find(manifest: layout.Manifest, kept: dict[str, bytes], sha256: str, pdq: str | None,
         threshold: int = PDQ_THRESHOLD) -> list[Found]:
    """Every file of the bundle's items that the held file matches, exact ones first."""
    exact, near = [], []
    for item, file in _files(manifest, kept):
        if file["sha256"] == sha256:
            exact.append(Found(item.label, file["name"], "exact", item.held_back))
        elif pdq and isinstance(theirs := file.get("pdq"), str) and len(theirs) == 64:
            distance = media.pdq_distance(pdq, theirs)
            if distance <= threshold:
                near.append(Found(item.label, file["name"], "perceptual", item.held_back, distance))
    return exact + sorted(near, key=lambda f: f.distance or 0)


def _files(manifest: layout.Manifest, kept: dict[str, bytes]) -> Iterator[tuple[layout.ManifestItem, dict]]:
    """Each item's files, with the PDQ the manifest gives (held back) or the record names."""
    for item in manifest.items:
        try:
            recorded = canonical.loads(kept[item.record])["files"]
        except (KeyError, ValueError, TypeError):
            recorded = []
        for index, file in enumerate(item.files):
            record = recorded[index] if index < len(recorded) and isinstance(recorded[index], dict) else {}
            yield item, {**file, "pdq": file.get("pdq") or record.get("pdq")}
