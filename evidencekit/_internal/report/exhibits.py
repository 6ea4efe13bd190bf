"""The exhibit list: each included item numbered ("Bilag 1", "Exhibit 1") with its facts.

Why numbers of their own: a complaint cites "Bilag 3", and the numbers must run 1, 2, 3 in the
document handed over even when items are withheld; the stable item label (E-007) stays beside
each number so the report, the bundle and the locker can be matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evidencekit._internal import redact
from evidencekit._internal.report import stamps
from evidencekit._internal.timeline import taken_at
from evidencekit.models import Item, LogEntry


@dataclass(frozen=True)
class Exhibit:
    """One row of the exhibit list; words are added by the template in the reader's language."""

    number: int
    item: Item
    added: LogEntry | None  # the custody-log entry that added the item
    proofs: tuple[stamps.Proof, ...]  # the timestamp that speaks for it, one per kind
    link: redact.Link | None  # for a redaction: what it was made from

    @property
    def label(self) -> str:
        return self.item.label

    @property
    def kind(self) -> str:
        return self.item.kind

    @property
    def acquired(self) -> dict[str, Any]:
        return self.item.acquired

    @property
    def acquired_at(self) -> str:
        """When the evidence was taken: a capture's start, else when it entered the locker."""
        return taken_at(self.item)

    @property
    def url(self) -> str | None:
        return self.acquired.get("final_url") or self.acquired.get("requested_url")

    @property
    def title(self) -> str | None:
        return self.acquired.get("title")

    @property
    def format(self) -> str | None:
        return self.acquired.get("format") if self.acquired.get("method") == "import" else None


def number(items: Sequence[Item], entries: Sequence[LogEntry], proofs: Sequence[stamps.Proof]) -> list[Exhibit]:
    """Exhibits 1…n for the included items, in item order."""
    added = stamps.added_at(entries)
    included = {i.label: i.record_sha256 for i in items}
    ordered = sorted(items, key=lambda i: i.number)
    return [
        Exhibit(n, item, added.get(item.label), tuple(stamps.covering(added.get(item.label), proofs)),
                redact.link(item.label, item.acquired, entries, included))
        for n, item in enumerate(ordered, start=1)
    ]
