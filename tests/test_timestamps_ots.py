"""OpenTimestamps end to end on loopback: stamp, pending, upgrade, mine, upgrade, verify."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from servers.fixtures import bitcoin_rpc, calendar, chain, esplora, second_calendar  # noqa: F401

from opentimestamps.bitcoin import make_timestamp_from_block
from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp
from servers.chain import SyntheticChain

from evidencekit.errors import UserError
from evidencekit._internal.timestamps.bitcoin_headers import BlockHeader, StoredHeaderInfo
from evidencekit._internal.timestamps.ots import serialize_ots
from evidencekit.timestamps import (BitcoinRpc, Esplora, StoredHeader, header_json, merge_ots,
                                    ots_info, stamp, upgrade_many, upgrade_ots, verify_ots)

OTS_CLI = Path(sys.executable).with_name("ots")


def digests(n: int) -> list[bytes]:
    return [hashlib.sha256(f"evidence item {i}".encode()).digest() for i in range(n)]


def test_stamp_pending_upgrade_mine_verify(calendar, second_calendar, bitcoin_rpc, esplora, chain):
    items = digests(3)
    calendars = [calendar.url, second_calendar.url]
    results = stamp(items, calendars, [], timeout=5)

    assert [r.digest for r in results] == items
    assert all(r.ots is not None and r.failures == () for r in results)
    assert results[0].ots_calendars == tuple(calendars)
    # One merkle tree for the whole batch: one request per calendar, not per item.
    assert calendar.submissions == 1 and second_calendar.submissions == 1

    proof = results[1].ots
    pending = verify_ots(proof, items[1], [BitcoinRpc(bitcoin_rpc.url)])
    assert pending.status == "pending"
    assert set(pending.details.pending_calendars) == set(calendars)
    assert calendar.url in pending.reason

    still = upgrade_ots(proof, timeout=5, allowed_calendars=calendars)
    assert (still.changed, still.complete) == (False, False)
    assert still.ots == proof and still.failures == ()

    height = calendar.mine()
    done = upgrade_ots(proof, timeout=5, allowed_calendars=calendars)
    assert done.changed and done.complete and done.failures == ()
    assert ots_info(done.ots).block_heights == (height,)

    by_node = verify_ots(done.ots, items[1], [BitcoinRpc(bitcoin_rpc.url)])
    assert by_node.status == "verified", by_node.reason
    assert by_node.details.block_height == height
    assert by_node.details.block_hash == chain.block_hash(height)
    assert by_node.details.header_source.startswith("bitcoind-rpc http://127.0.0.1:")
    assert "loopback-only" not in by_node.details.header_source  # no password in results
    assert by_node.details.attested_time.endswith("Z")

    by_explorer = verify_ots(done.ots, items[1], [Esplora(esplora.url)])
    assert by_explorer.status == "verified"
    assert by_explorer.details.header_source.startswith("esplora ")

    # A header file the reader gives is theirs to trust, like their node.
    text = header_json(StoredHeader.from_text(chain.header(height).hex()).info.header, height)
    given = StoredHeader.from_text(text, network="regtest", given_by_reader=True)
    offline = verify_ots(done.ots, items[1], [given])
    assert offline.status == "verified", offline.reason
    assert offline.details.header_source.startswith("stored")
    assert offline.details.confirmed_by == "reader"
    assert by_node.details.block_hash in offline.reason

    # The other items of the batch complete from the same block.
    others = upgrade_many([results[0].ots, results[2].ots], timeout=5, allowed_calendars=calendars)
    assert all(o.complete for o in others)
    assert verify_ots(others[1].ots, items[2], [BitcoinRpc(bitcoin_rpc.url)]).status == "verified"
    # The wrong digest never verifies.
    wrong = verify_ots(done.ots, items[0], [given])
    assert wrong.status == "invalid" and wrong.reason_key == "timestamps.ots_other_digest"


def _back_dated_proof(chain: SyntheticChain, item: bytes, when: int) -> tuple[bytes, int]:
    """What a forger makes alone: a block mined here at regtest difficulty, dated ``when``, whose
    merkle root commits to ``item``; then the complete proof for it, as a calendar would build."""
    proof = DetachedTimestampFile(OpSHA256(), Timestamp(item))
    tip = proof.timestamp.ops.add(OpAppend(b"nonce")).ops.add(OpSHA256())
    height, block = chain.mine([tip.msg], when=when)
    tip.merge(make_timestamp_from_block(tip.msg, block, height))
    return serialize_ots(proof), height


def test_a_back_dated_header_that_came_with_the_proof_is_never_verified(chain, bitcoin_rpc):
    """The attack: a header meeting only its own easy target, carried in the bundle, dated 2019."""
    item = digests(1)[0]
    proof, height = _back_dated_proof(chain, item, when=1_546_300_800)
    info = StoredHeader.from_text(chain.header(height).hex()).info
    carried = StoredHeaderInfo(info.header, height)
    name = f"timestamps/block-{height}.header.json"

    result = verify_ots(proof, item, [StoredHeader(carried, network="regtest", name=name)])
    assert result.status == "unconfirmed", result.reason
    assert result.reason_key == "timestamps.ots_unconfirmed"
    assert result.details.confirmed_by is None
    assert result.to_json()["status"] == "unconfirmed"
    # The reason says what to confirm and how: the block, its hash, a node or an explorer.
    for words in (str(height), chain.block_hash(height), "--bitcoin-rpc", "--esplora", name, "regtest"):
        assert words in result.reason, words
    assert "--bitcoin-rpc" in result.reason_in("nb") and "Ikke bekreftet" in result.reason_in("nb")

    # At mainnet rules the same header is not a Bitcoin block at all.
    mainnet = verify_ots(proof, item, [StoredHeader(carried, name=name)])
    assert mainnet.status == "unverifiable" and "minimum" in mainnet.reason

    # The reader's own node confirms the block (here it is the loopback chain, so it does).
    by_node = verify_ots(proof, item, [BitcoinRpc(bitcoin_rpc.url), StoredHeader(carried, network="regtest")])
    assert by_node.status == "verified" and by_node.details.confirmed_by == "reader"


def test_a_forged_header_at_a_height_the_table_covers_is_refused():
    """Mined here at regtest difficulty but claiming block 500000: not that block's difficulty."""
    forger = SyntheticChain(start_height=500_000)
    item = digests(1)[0]
    proof, height = _back_dated_proof(forger, item, when=1_512_086_400)
    raw = forger.header(height)
    forged = StoredHeader(StoredHeaderInfo(BlockHeader(raw), height), name="block.json")
    result = verify_ots(proof, item, [forged])
    assert result.status == "unverifiable", result.reason
    assert "difficulty bits 207fffff" in result.reason and "500000" in result.reason
    # With the period's real bits (those of block 500000) written in, it no longer meets them.
    real_bits = raw[:72] + (0x18009645).to_bytes(4, "little") + raw[76:]
    posing = StoredHeader(StoredHeaderInfo(BlockHeader(real_bits), height), name="block.json")
    again = verify_ots(proof, item, [posing])
    assert again.status == "unverifiable" and "proof-of-work" in again.reason


def test_synthetic_header_is_not_accepted_as_mainnet(calendar, chain):
    item = digests(1)[0]
    proof = stamp([item], [calendar.url], [], timeout=5)[0].ots
    height = calendar.mine()
    done = upgrade_ots(proof, timeout=5, allowed_calendars=[calendar.url]).ots
    result = verify_ots(done, item, [StoredHeader.from_text(chain.header(height).hex())])
    assert result.status == "unverifiable"
    assert "minimum" in result.reason


def test_first_source_that_answers_decides(calendar, bitcoin_rpc, chain):
    item = digests(1)[0]
    proof = stamp([item], [calendar.url], [], timeout=5)[0].ots
    height = calendar.mine()
    done = upgrade_ots(proof, timeout=5, allowed_calendars=[calendar.url]).ots
    dead = BitcoinRpc("http://user:secret@127.0.0.1:9/", timeout=1)
    result = verify_ots(done, item, [dead, BitcoinRpc(bitcoin_rpc.url)])
    assert result.status == "verified"
    assert result.details.block_height == height
    nothing = verify_ots(done, item, [dead])
    assert nothing.status == "unverifiable"
    assert "127.0.0.1:9" in nothing.reason and "secret" not in nothing.reason
    assert verify_ots(done, item, []).status == "unverifiable"


def test_wrong_password_for_rpc_is_reported(calendar, bitcoin_rpc):
    item = digests(1)[0]
    proof = stamp([item], [calendar.url], [], timeout=5)[0].ots
    calendar.mine()
    done = upgrade_ots(proof, timeout=5, allowed_calendars=[calendar.url]).ots
    wrong = bitcoin_rpc.url.replace("loopback-only", "guess")
    result = verify_ots(done, item, [BitcoinRpc(wrong)])
    assert result.status == "unverifiable"
    assert "401" in result.reason


def test_upgrade_does_not_call_calendars_outside_the_allowed_list(calendar):
    item = digests(1)[0]
    proof = stamp([item], [calendar.url], [], timeout=5)[0].ots
    calendar.mine()
    result = upgrade_ots(proof, timeout=5)
    assert not result.changed
    assert calendar.lookups == 0
    assert [f.reason_key for f in result.failures] == ["timestamps.calendar_not_allowed"]


def test_merge_adds_a_late_calendar(calendar, second_calendar):
    item = digests(1)[0]
    first = stamp([item], [calendar.url], [], timeout=5)[0].ots
    later = stamp([item], [second_calendar.url], [], timeout=5)[0].ots
    merged = merge_ots(first, later)
    assert set(ots_info(merged).pending_calendars) == {calendar.url, second_calendar.url}
    with pytest.raises(UserError):
        merge_ots(first, stamp(digests(2)[1:], [calendar.url], [], timeout=5)[0].ots)


def test_only_sha256_digests_are_stamped(calendar):
    with pytest.raises(UserError) as caught:
        stamp([b"short"], [calendar.url], [], timeout=5)
    assert "32" in str(caught.value)
    assert stamp([], [calendar.url], [], timeout=5) == []


def test_no_calendar_gives_no_proof_but_no_error():
    result = stamp(digests(1), [], [], timeout=1)[0]
    assert result.ots is None and result.failures == ()


@pytest.mark.skipif(not OTS_CLI.exists(), reason="the ots command (opentimestamps-client) is not installed")
def test_ots_info_reads_our_files(calendar, tmp_path):
    item = digests(1)[0]
    proof = stamp([item], [calendar.url], [], timeout=5)[0].ots
    pending_file = tmp_path / "item.ots"
    pending_file.write_bytes(proof)
    calendar.mine()
    complete_file = tmp_path / "item-complete.ots"
    complete_file.write_bytes(upgrade_ots(proof, timeout=5, allowed_calendars=[calendar.url]).ots)
    for path, expect in ((pending_file, "PendingAttestation"),
                         (complete_file, "BitcoinBlockHeaderAttestation")):
        shown = subprocess.run([str(OTS_CLI), "info", str(path)], capture_output=True, text=True,
                               timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert f"File sha256 hash: {item.hex()}" in shown.stdout
        assert expect in shown.stdout
