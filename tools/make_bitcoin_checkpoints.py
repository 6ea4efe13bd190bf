"""Write evidencekit/data/bitcoin-checkpoints.txt from an Electrum ``checkpoints.json``.

Electrum (MIT licence) ships one entry per 2016-block period: the hash of the period's last block
and the target computed at that period's end, i.e. the target of the *next* period (the first
period has Bitcoin's minimum difficulty). This turns those facts into evidencekit's table: one line
per period with its last height, its own nBits and that last block's hash. Every line is checked
before anything is written: the hash meets the period's target and the target is exactly
representable as nBits. Usage::

    python tools/make_bitcoin_checkpoints.py checkpoints.json "Electrum 4.3.4 (Debian python3-electrum)" \
        > evidencekit/data/bitcoin-checkpoints.txt
"""

from __future__ import annotations

import json
import sys

from evidencekit._internal.timestamps.checkpoints import (MAINNET_POW_LIMIT, PERIOD, Period, parse_table,
                                                          target_from_bits)


def bits_from_target(target: int) -> int:
    """Bitcoin's compact form of a target (as Bitcoin Core's GetCompact)."""
    size = (target.bit_length() + 7) // 8
    mantissa = target >> (8 * (size - 3)) if size > 3 else target << (8 * (3 - size))
    if mantissa & 0x00800000:
        mantissa >>= 8
        size += 1
    return size << 24 | mantissa


def periods(entries: list[list]) -> list[Period]:
    """One period per entry; entry i holds period i's last hash and period i+1's target."""
    targets = [MAINNET_POW_LIMIT] + [int(target) for _, target in entries]
    made = []
    for index, (block_hash, _) in enumerate(entries):
        bits = bits_from_target(targets[index])
        if target_from_bits(bits) != targets[index]:
            raise SystemExit(f"period {index}: target is not exactly representable as nBits")
        if int(block_hash, 16) > targets[index]:
            raise SystemExit(f"period {index}: block {block_hash} does not meet its period's target")
        made.append(Period(index, bits, block_hash.lower()))
    return made


def main(source: str, origin: str) -> None:
    with open(source, encoding="utf-8") as handle:
        table = periods(json.load(handle))
    text = "".join([
        "# Bitcoin mainnet checkpoints for evidencekit: one line per 2016-block difficulty period.\n",
        "# Columns: height of the period's last block, the period's nBits (hex), that block's hash.\n",
        f"# Facts from {origin}, made by tools/make_bitcoin_checkpoints.py; see docs/timestamps.md.\n",
        *(f"{p.last_height} {p.bits:08x} {p.last_hash}\n" for p in table),
    ])
    assert parse_table(text) == table and table[-1].last_height == len(table) * PERIOD - 1
    sys.stdout.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: make_bitcoin_checkpoints.py CHECKPOINTS_JSON ORIGIN")
    main(sys.argv[1], sys.argv[2])
