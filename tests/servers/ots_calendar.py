"""A loopback OpenTimestamps calendar built on the library's own types.

``POST /digest`` answers a serialised Timestamp ending in ``PendingAttestation(<this calendar>)``;
``GET /timestamp/<hex>`` is 404 until :meth:`LoopbackCalendar.mine` puts the pending commitments
into a synthetic block, after which it returns the path to a ``BitcoinBlockHeaderAttestation``.
"""

from __future__ import annotations

import os
import threading

from opentimestamps.bitcoin import make_timestamp_from_block
from opentimestamps.core.notary import PendingAttestation
from opentimestamps.core.op import OpAppend, OpPrepend, OpSHA256
from opentimestamps.core.serialize import BytesSerializationContext
from opentimestamps.core.timestamp import Timestamp, make_merkle_tree

from ._http import LoopbackServer, QuietHandler
from .chain import SyntheticChain


def _serialize(stamp: Timestamp) -> bytes:
    ctx = BytesSerializationContext()
    stamp.serialize(ctx)
    return ctx.getbytes()


class _Handler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802
        if self.path.rstrip("/") != "/digest":
            self.reply(404, b"not found")
            return
        digest = self.body()
        if not 1 <= len(digest) <= 64:
            self.reply(400, b"digest too long")
            return
        self.reply(200, self.owner.submit(digest), "application/vnd.opentimestamps.v1")

    def do_GET(self) -> None:  # noqa: N802
        prefix = "/timestamp/"
        if not self.path.startswith(prefix):
            self.reply(404, b"not found")
            return
        try:
            commitment = bytes.fromhex(self.path[len(prefix):])
        except ValueError:
            self.reply(400, b"bad commitment")
            return
        answer = self.owner.lookup(commitment)
        if answer is None:
            self.reply(404, b"Pending confirmation in Bitcoin blockchain", "text/plain")
        else:
            self.reply(200, answer, "application/vnd.opentimestamps.v1")


class LoopbackCalendar:
    """A calendar on 127.0.0.1 that counts requests and completes stamps when a block is mined."""

    def __init__(self, chain: SyntheticChain) -> None:
        self.chain = chain
        self.lock = threading.Lock()
        self.pending: list[bytes] = []
        self.complete: dict[bytes, bytes] = {}
        self.submissions = 0
        self.lookups = 0
        self.server = LoopbackServer(_Handler, self)
        self.url = self.server.url

    def submit(self, digest: bytes) -> bytes:
        stamp = Timestamp(digest)
        commitment = (stamp.ops.add(OpAppend(os.urandom(8))).ops.add(OpSHA256())
                      .ops.add(OpPrepend(os.urandom(4))))
        commitment.attestations.add(PendingAttestation(self.url))
        with self.lock:
            self.submissions += 1
            self.pending.append(commitment.msg)
        return _serialize(stamp)

    def lookup(self, commitment: bytes) -> bytes | None:
        with self.lock:
            self.lookups += 1
            return self.complete.get(commitment)

    def mine(self) -> int:
        """Put every pending commitment into one new block; returns the block height."""
        with self.lock:
            pending, self.pending = self.pending, []
        leaves = [Timestamp(c) for c in pending]
        tip = make_merkle_tree(leaves)
        height, block = self.chain.mine([tip.msg])
        block_stamp = make_timestamp_from_block(tip.msg, block, height)
        assert block_stamp is not None
        tip.merge(block_stamp)
        with self.lock:
            for leaf in leaves:
                self.complete[leaf.msg] = _serialize(leaf)
        return height

    def close(self) -> None:
        self.server.close()
