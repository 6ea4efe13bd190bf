"""A synthetic Bitcoin chain: real block structure and proof of work at regtest difficulty.

Blocks commit to payloads through OP_RETURN outputs, so ``make_timestamp_from_block`` can build the
same kind of proof a real calendar builds from a real block.
"""

from __future__ import annotations

import hashlib
import threading
import time

from bitcoin.core import CBlock, COutPoint, CTransaction, CTxIn, CTxOut
from bitcoin.core.script import OP_RETURN, CScript

REGTEST_BITS = 0x207FFFFF


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


class SyntheticChain:
    """Blocks by height; each mined block's 80-byte header meets its (easy) nBits target."""

    def __init__(self, start_height: int = 840_000) -> None:
        self.start_height = start_height
        self.blocks: dict[int, CBlock] = {}
        self.lock = threading.Lock()
        self._prev = b"\x00" * 32

    def mine(self, payloads: list[bytes], *, when: int | None = None) -> tuple[int, CBlock]:
        with self.lock:
            height = self.start_height + len(self.blocks)
            coinbase = CTransaction(
                [CTxIn(COutPoint(), CScript([height.to_bytes(4, "little"), b"evidencekit test"]))],
                [CTxOut(0, CScript([OP_RETURN]))])
            txs = [coinbase] + [
                CTransaction([CTxIn(COutPoint(b"\x11" * 32, i))], [CTxOut(0, CScript([OP_RETURN, p]))])
                for i, p in enumerate(payloads)]
            root = CBlock.build_merkle_tree_from_txs(txs)[-1]
            now = int(time.time()) if when is None else when
            target = (REGTEST_BITS & 0x7FFFFF) << (8 * ((REGTEST_BITS >> 24) - 3))
            nonce = 0
            while True:
                block = CBlock(nVersion=0x20000000, hashPrevBlock=self._prev, hashMerkleRoot=root,
                               nTime=now, nBits=REGTEST_BITS, nNonce=nonce, vtx=txs)
                raw = block.get_header().serialize()
                if int.from_bytes(_sha256d(raw), "little") <= target:
                    break
                nonce += 1
            self._prev = _sha256d(raw)
            self.blocks[height] = block
            return height, block

    def header(self, height: int) -> bytes | None:
        block = self.blocks.get(height)
        return block.get_header().serialize() if block is not None else None

    def block_hash(self, height: int) -> str | None:
        raw = self.header(height)
        return _sha256d(raw)[::-1].hex() if raw is not None else None

    def height_of(self, block_hash: str) -> int | None:
        for height in list(self.blocks):
            if self.block_hash(height) == block_hash.lower():
                return height
        return None
