"""Real OpenTimestamps proofs written by other tools (the shared corpus), read in place."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from servers.fixtures import corpus_dir

from evidencekit.errors import UserError
from evidencekit.timestamps import (BitcoinRpc, StoredHeader, ots_info, proof_kind,
                                    verify_ots, verify_proof_file)


@pytest.fixture
def ots_dir() -> Path:
    return corpus_dir("ots")


@pytest.fixture
def header_358391(ots_dir: Path) -> StoredHeader:
    return StoredHeader.from_file(ots_dir / "block-358391.header.json")


def _digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def test_hello_world_verifies_against_the_stored_header(ots_dir, header_358391):
    proof = (ots_dir / "hello-world.txt.ots").read_bytes()
    result = verify_ots(proof, _digest(ots_dir / "hello-world.txt"), [header_358391])
    assert result.status == "verified", result.reason
    assert result.details.block_height == 358391
    assert result.details.block_hash == "000000000000000003e892881a8cdcdc117c06d444057c98b6f04a9ee75a2319"
    assert result.details.attested_time == "2015-05-28T15:41:18Z"
    assert result.details.header_source == "stored block-358391.header.json"
    assert "2015-05-28 15:41:18 UTC" in result.reason
    assert "358391" in result.reason_in("nb") and "utvinneren" in result.reason_in("nb")
    as_json = result.to_json("en")
    assert as_json["kind"] == "ots" and as_json["status"] == "verified"
    assert as_json["block_height"] == 358391


def test_hello_world_as_a_standalone_file(ots_dir, header_358391):
    proof = (ots_dir / "hello-world.txt.ots").read_bytes()
    assert proof_kind(proof) == "ots"
    result = verify_proof_file(proof, ots_dir / "hello-world.txt", header_sources=[header_358391])
    assert result.status == "verified"
    other = verify_proof_file(proof, ots_dir / "bad-stamp.txt", header_sources=[header_358391])
    assert other.status == "invalid" and other.reason_key == "timestamps.ots_other_digest"


def test_a_dead_node_falls_back_to_the_stored_header(ots_dir, header_358391):
    proof = (ots_dir / "hello-world.txt.ots").read_bytes()
    dead = BitcoinRpc("http://127.0.0.1:9/", timeout=1)
    result = verify_ots(proof, _digest(ots_dir / "hello-world.txt"), [dead, header_358391])
    assert result.status == "verified"


def test_bad_stamp_is_invalid_with_a_clear_reason(ots_dir, header_358391):
    proof = (ots_dir / "bad-stamp.txt.ots").read_bytes()
    result = verify_ots(proof, _digest(ots_dir / "bad-stamp.txt"), [header_358391])
    assert result.status == "invalid"
    assert result.reason_key == "timestamps.ots_merkle_mismatch"
    assert "merkle root" in result.reason and "358391" in result.reason


def test_bad_stamp_with_only_bare_header_hex_cannot_be_checked(ots_dir, header_358391):
    bare = StoredHeader.from_text(header_358391.info.header.hex)
    proof = (ots_dir / "bad-stamp.txt.ots").read_bytes()
    result = verify_ots(proof, _digest(ots_dir / "bad-stamp.txt"), [bare])
    assert result.status == "unverifiable"
    good = (ots_dir / "hello-world.txt.ots").read_bytes()
    assert verify_ots(good, _digest(ots_dir / "hello-world.txt"), [bare]).status == "verified"


@pytest.mark.parametrize("name, key", [
    ("bad-major-version.ots", "timestamps.ots_bad_version"),
    ("exceeds-max-msg-length.ots", "timestamps.ots_too_long"),
    ("invalid-file-digest-type.ots", "timestamps.ots_unknown_op"),
])
def test_invalid_proofs_are_rejected_clearly(ots_dir, name, key):
    proof = (ots_dir / "invalid" / name).read_bytes()
    result = verify_ots(proof, b"\x00" * 32, [])
    assert result.status == "invalid"
    assert result.reason_key == key
    assert result.reason.endswith(".") and "Traceback" not in result.reason
    assert result.reason_in("nb") != result.reason_in("en")


def test_every_invalid_file_is_rejected(ots_dir):
    files = sorted((ots_dir / "invalid").glob("*.ots"))
    assert files
    for path in files:
        assert verify_ots(path.read_bytes(), b"\x00" * 32, []).status == "invalid", path.name


def test_unknown_notary_is_never_verified(ots_dir, header_358391):
    proof = (ots_dir / "unknown-notary.txt.ots").read_bytes()
    result = verify_ots(proof, _digest(ots_dir / "unknown-notary.txt"), [header_358391])
    assert result.status == "unverifiable"
    assert result.reason_key == "timestamps.ots_unknown_attestation"
    assert result.details.unknown_attestations == ("unknown tag 0102030405060708",)
    assert "unknown" in result.reason


@pytest.mark.parametrize("name, calendars", [
    ("incomplete.txt", {"https://alice.btc.calendar.opentimestamps.org"}),
    ("two-calendars.txt", {"https://alice.btc.calendar.opentimestamps.org",
                           "https://bob.btc.calendar.opentimestamps.org"}),
    ("merkle1.txt", None), ("merkle2.txt", None), ("merkle3.txt", None),
])
def test_pending_proofs_are_pending(ots_dir, header_358391, name, calendars):
    proof = (ots_dir / f"{name}.ots").read_bytes()
    result = verify_ots(proof, _digest(ots_dir / name), [header_358391])
    assert result.status == "pending", result.reason
    info = ots_info(proof)
    assert not info.complete and info.file_digest == _digest(ots_dir / name)
    if calendars:
        assert set(result.details.pending_calendars) == calendars


def test_the_stored_header_checks_out(ots_dir):
    info = StoredHeader.from_file(ots_dir / "block-358391.header.json").info
    header = info.header
    assert info.height == 358391
    assert header.block_hash == "000000000000000003e892881a8cdcdc117c06d444057c98b6f04a9ee75a2319"
    assert header.meets_own_target() and header.meets_mainnet_minimum()
    assert header.time_utc == "2015-05-28T15:41:18Z"
    assert f"{header.bits:08x}" == "181686f5"


def test_stored_header_for_another_block_is_not_used(ots_dir, tmp_path):
    text = (ots_dir / "block-358391.header.json").read_text()
    moved = tmp_path / "header.json"
    moved.write_text(text.replace('"height": 358391', '"height": 358392'))
    proof = (ots_dir / "hello-world.txt.ots").read_bytes()
    result = verify_ots(proof, _digest(ots_dir / "hello-world.txt"),
                        [StoredHeader.from_file(moved)])
    assert result.status == "unverifiable"
    assert "None of the stored block headers is for block 358391" in result.reason


def test_a_lying_header_file_is_refused(ots_dir, tmp_path):
    text = (ots_dir / "block-358391.header.json").read_text()
    lying = tmp_path / "lying.json"
    lying.write_text(text.replace("03e892881a8cdcdc", "03e892881a8cdcdd"))
    with pytest.raises(UserError) as caught:
        StoredHeader.from_file(lying)
    assert "hashes to" in str(caught.value)
