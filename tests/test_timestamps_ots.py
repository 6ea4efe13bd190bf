"""OpenTimestamps end to end on loopback: stamp, pending, upgrade, mine, upgrade, verify."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from servers.fixtures import bitcoin_rpc, calendar, chain, esplora, second_calendar  # noqa: F401

from evidencekit.errors import UserError
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

    stored = StoredHeader.from_text(header_json(StoredHeader.from_text(
        chain.header(height).hex()).info.header, height), network="regtest")
    offline = verify_ots(done.ots, items[1], [stored])
    assert offline.status == "verified", offline.reason
    assert offline.details.header_source.startswith("stored")
    assert by_node.details.block_hash in offline.reason

    # The other items of the batch complete from the same block.
    others = upgrade_many([results[0].ots, results[2].ots], timeout=5, allowed_calendars=calendars)
    assert all(o.complete for o in others)
    assert verify_ots(others[1].ots, items[2], [stored]).status == "verified"
    # The wrong digest never verifies.
    wrong = verify_ots(done.ots, items[0], [stored])
    assert wrong.status == "invalid" and wrong.reason_key == "timestamps.ots_other_digest"


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
