"""Bitcoin difficulty and the checkpoint table shipped with evidencekit.

Why: a block header carried beside a proof is only as good as the work in it, and a header that
meets only its own easy target is mined in minutes. The table holds, for each 2016-block difficulty
period of the real chain, the period's ``nBits`` and the hash of its last block. A stored mainnet
header counts as linked to the real chain only if its ``nBits`` are its period's, it meets that
target, and (at a period's last height) its hash is the table's; forging one costs the real work of
a block of that time. Periods whose blocks are cheap to mine today, and heights after the table,
are not vouched for: there a header needs a source the reader trusts. Format, origin and refresh:
``docs/timestamps.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from evidencekit._internal.timestamps.model import Message

PERIOD = 2016
MAINNET_POW_LIMIT = 0x00000000FFFF0000000000000000000000000000000000000000000000000000
# The least expected work (hashes) per block for the table to vouch for a period: below it, one
# mining machine forges a header within about a day (the first periods, up to early 2014).
MIN_WORK = 2**64
TABLE = "bitcoin-checkpoints.txt"
_LINE = re.compile(r"([0-9]+) +([0-9a-f]{8}) +([0-9a-f]{64})")


def target_from_bits(bits: int) -> int:
    """The proof-of-work target encoded in a header's compact ``nBits`` (0 if malformed)."""
    exponent, mantissa = bits >> 24, bits & 0x007FFFFF
    if bits & 0x00800000 or mantissa == 0:
        return 0
    if exponent <= 3:
        return mantissa >> (8 * (3 - exponent))
    return mantissa << (8 * (exponent - 3))


def expected_work(target: int) -> int:
    """How many hashes it takes on average to meet ``target`` (Bitcoin Core's block proof)."""
    return (1 << 256) // (target + 1)


@dataclass(frozen=True)
class Period:
    """One difficulty period: its index, the ``nBits`` every block in it has, its last block's hash."""

    index: int
    bits: int
    last_hash: str

    @property
    def first_height(self) -> int:
        return self.index * PERIOD

    @property
    def last_height(self) -> int:
        return self.index * PERIOD + PERIOD - 1


def parse_table(text: str) -> list[Period]:
    """Lines of ``<last height> <nBits hex> <block hash>``, one per period from the first; ``#`` comments."""
    periods: list[Period] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"checkpoint table line {number}: expected height, nBits and hash")
        height, bits, block_hash = int(match[1]), int(match[2], 16), match[3]
        period = Period(len(periods), bits, block_hash)
        if height != period.last_height:
            raise ValueError(f"checkpoint table line {number}: height {height} is not {period.last_height}")
        periods.append(period)
    return periods


class Checkpoints:
    """A table of real difficulty periods, and what it says about a header claimed at a height."""

    def __init__(self, periods: Sequence[Period], *, min_work: int = MIN_WORK) -> None:
        self.periods = tuple(periods)
        self.min_work = min_work

    @property
    def last_height(self) -> int:
        return self.periods[-1].last_height if self.periods else -1

    def period_at(self, height: int) -> Period | None:
        index = height // PERIOD
        return self.periods[index] if 0 <= index < len(self.periods) else None

    def contradiction(self, height: int, bits: int, block_hash: str) -> Message | None:
        """Why a header with these ``nBits`` and hash cannot be block ``height`` of the real chain."""
        period = self.period_at(height)
        if period is None:
            return None
        if bits != period.bits:
            return Message("timestamps.header_not_period_bits",
                           {"height": height, "bits": f"{bits:08x}", "real": f"{period.bits:08x}",
                            "first": period.first_height, "last": period.last_height})
        if height == period.last_height and block_hash != period.last_hash:
            return Message("timestamps.header_not_checkpoint",
                           {"height": height, "block_hash": block_hash, "real": period.last_hash})
        return None

    def gap(self, height: int) -> Message | None:
        """Why the table cannot vouch for a header at ``height`` (too new, or too cheap), or None."""
        period = self.period_at(height)
        if period is None:
            return Message("timestamps.unconfirmed_after_table", {"height": height, "last": self.last_height})
        if expected_work(target_from_bits(period.bits)) < self.min_work:
            return Message("timestamps.unconfirmed_cheap_period",
                           {"first": period.first_height, "last": period.last_height})
        return None


@cache
def mainnet() -> Checkpoints:
    """The table that ships with evidencekit (read once)."""
    text = (resources.files("evidencekit") / "data" / TABLE).read_text(encoding="ascii")
    return Checkpoints(parse_table(text))
