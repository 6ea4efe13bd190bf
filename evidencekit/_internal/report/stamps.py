"""Which trusted timestamps cover which item, and the best each kind of proof can say.

Why: the locker stamps the custody-log head, not single items. A stamp on entry N covers every
item added at or before N (the chain commits to them), so an item's timestamp is the earliest
proof on an entry at or after the one that added it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evidencekit._internal.timestamps.model import OtsDetails, ProofResult, TsaDetails
from evidencekit.models import LogEntry

KINDS = ("rfc3161", "ots")
# Which proof speaks for an item when several cover it: a verified one, else the most advanced.
_RANK = {"verified": 0, "unconfirmed": 1, "pending": 2, "unverifiable": 3, "invalid": 4, "queued": 5}


@dataclass(frozen=True)
class Proof:
    """One proof on one log entry, with what it says once checked."""

    seq: int
    kind: str
    server: str
    result: ProofResult

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def time(self) -> str | None:
        """When the proof says the log existed: the TSA's time, or the Bitcoin block's time."""
        details = self.result.details
        if self.status != "verified":
            return None
        if isinstance(details, TsaDetails):
            return details.gen_time
        if isinstance(details, OtsDetails):
            return details.attested_time
        return None

    @property
    def block(self) -> int | None:
        details = self.result.details
        return details.block_height if isinstance(details, OtsDetails) else None

    @property
    def qualified(self) -> bool:
        """A qualified electronic time stamp (eIDAS): verified, and chained to a listed QTST."""
        details = self.result.details
        return self.status == "verified" and isinstance(details, TsaDetails) and bool(details.qualified)

    @property
    def authority(self) -> str:
        details = self.result.details
        if isinstance(details, TsaDetails) and details.tsa_name:
            return details.tsa_name
        return self.server


def proofs(results: Sequence[tuple[object, ProofResult]]) -> list[Proof]:
    """Proofs from ``Locker.verify_stamps`` (stamp row, result) pairs."""
    return [Proof(row.seq, row.kind, row.server, result) for row, result in results]  # type: ignore[attr-defined]


def added_at(entries: Sequence[LogEntry]) -> dict[str, LogEntry]:
    """The custody-log entry that added each item, by item label."""
    return {e.subject: e for e in entries if e.action == "item.add" and e.subject}


def covering(added: LogEntry | None, found: Sequence[Proof]) -> list[Proof]:
    """The proof that speaks for an item, one per kind (TSA first), or none of a kind."""
    if added is None:
        return []
    chosen = []
    for kind in KINDS:
        mine = [p for p in found if p.kind == kind and p.seq >= added.seq]
        if mine:
            chosen.append(min(mine, key=lambda p: (_RANK[p.status], p.seq)))
    return chosen
