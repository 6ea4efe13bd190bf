"""The Bitcoin checkpoint table: real, whole, and the only way a carried header counts on its own.

A block header that came with a proof is believed only if it carries the real difficulty of its
period (and, at a period's last height, the real hash). These tests hold the shipped table against
real headers (the corpus block and others published elsewhere), check that it is internally
consistent, and rebuild the forgeries the rule must refuse.
"""

from __future__ import annotations

import hashlib
import struct
from importlib import resources
from pathlib import Path

import pytest
from servers.chain import REGTEST_BITS, SyntheticChain
from servers.fixtures import corpus_dir

from evidencekit._internal.timestamps import checkpoints
from evidencekit._internal.timestamps.bitcoin_headers import (BlockHeader, HeaderUnavailable, StoredHeader,
                                                              StoredHeaderInfo, parse_header_hex)
from evidencekit._internal.timestamps.checkpoints import (MAINNET_POW_LIMIT, MIN_WORK, PERIOD, Checkpoints,
                                                          Period, expected_work, parse_table, target_from_bits)
from evidencekit.timestamps import verify_ots

# Change only together with the table (tools/make_bitcoin_checkpoints.py, docs/timestamps.md).
TABLE_SHA256 = "25ab69b1c23377ba9064a4a66c4373c175dc2626ce8e1a118a240484463bd01f"
TABLE_LAST_HEIGHT = 747_935

# Real mainnet headers published outside evidencekit (riemann-zeta 6.0.0 on PyPI, zeta/db/checkpoint.py),
# each with its height and hash: their proof of work at that era's difficulty vouches for them.
GENESIS = ("0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b2"
           "7ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c")
REAL_HEADERS = {
    0: (GENESIS, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"),
    420_000: ("00000020cf60c99cd0d14181556d6db3238a6ca4eed31119c35b03030000000000000000fa0f9ea6c329b9"
              "9b6d17576b73bc781267e566430aee747205b0acbca5238302552a8157fd260518b432bd82",
              "000000000000000002cce816c0ab2c5c269cb081896b7dcb34b8422d6b74ffa1"),
    552_955: ("0000c020ebd39db57691780db16df1df28e9b129a7c07c7225651e00000000000000000019a0368be506187"
              "1be3929e11b0e13de2c5f34e45310ca2798ebe1478341325212150b5c7cd931175507350b",
              "00000000000000000029f5e855578d7a81f4501f38093c46cb88a47664bf3c0e"),
}


@pytest.fixture
def ots_dir() -> Path:
    return corpus_dir("ots")


def carried(raw: bytes, height: int | None, network: str = "mainnet") -> StoredHeader:
    """A header as a bundle carries it: not chosen by the reader."""
    return StoredHeader(StoredHeaderInfo(BlockHeader(raw), height), network=network,  # type: ignore[arg-type]
                        name=f"timestamps/block-{height}.header.json")


def with_bits(raw: bytes, bits: int) -> bytes:
    return raw[:72] + struct.pack("<I", bits) + raw[76:]


# --- the table itself ---------------------------------------------------------------------------


def test_the_table_file_is_the_one_documented():
    data = (resources.files("evidencekit") / "data" / checkpoints.TABLE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == TABLE_SHA256
    assert checkpoints.mainnet().last_height == TABLE_LAST_HEIGHT


def test_the_table_is_whole_and_every_hash_carries_its_periods_work():
    periods = checkpoints.mainnet().periods
    assert [p.index for p in periods] == list(range(len(periods)))
    assert periods[0].bits == 0x1D00FFFF  # the genesis difficulty
    for before, period in zip((None, *periods), periods):
        target = target_from_bits(period.bits)
        assert 0 < target <= MAINNET_POW_LIMIT, period
        # The last block of each period really meets that period's target...
        assert int(period.last_hash, 16) <= target, period
        # ...and each retarget stays within Bitcoin's factor of four.
        if before is not None:
            previous = target_from_bits(before.bits)
            rounding = previous >> 15  # nBits keep 15 to 23 bits of a target
            assert previous // 4 - rounding <= target <= min(previous * 4, MAINNET_POW_LIMIT), period
    assert len({p.last_hash for p in periods}) == len(periods)


@pytest.mark.parametrize("text", [
    "2015 1d00ffff 00",
    "2016 1d00ffff " + "00" * 32,
    "2015 1d00ffff " + "00" * 32 + "\n4032 1d00ffff " + "00" * 32,
    "2015 1D00FFFF " + "00" * 32,
])
def test_a_damaged_table_is_not_read(text):
    with pytest.raises(ValueError):
        parse_table(text)


def test_the_corpus_block_passes_the_checkpoint_rule(ots_dir):
    header = StoredHeader.from_file(ots_dir / "block-358391.header.json").info.header
    table = checkpoints.mainnet()
    period = table.period_at(358_391)
    assert period is not None and period.index == 177
    assert header.bits == period.bits == 0x181686F5
    assert header.meets_own_target()
    assert table.contradiction(358_391, header.bits, header.block_hash) is None
    assert table.gap(358_391) is None


def test_the_corpus_proof_verifies_through_the_table(ots_dir):
    proof = (ots_dir / "hello-world.txt.ots").read_bytes()
    digest = hashlib.sha256((ots_dir / "hello-world.txt").read_bytes()).digest()
    info = StoredHeader.from_file(ots_dir / "block-358391.header.json").info
    result = verify_ots(proof, digest, [StoredHeader(info, name="timestamps/block-358391.header.json")])
    assert result.status == "verified", result.reason
    assert result.reason_key == "timestamps.ots_verified_checkpoint"
    assert result.details.confirmed_by == "checkpoint"
    assert result.to_json()["confirmed_by"] == "checkpoint"
    assert "000000000000000003e892881a8cdcdc117c06d444057c98b6f04a9ee75a2319" in result.reason
    assert "kontrollpunkter" in result.reason_in("nb")


@pytest.mark.parametrize("height", sorted(REAL_HEADERS))
def test_the_table_matches_real_headers_published_elsewhere(height):
    text, block_hash = REAL_HEADERS[height]
    header = parse_header_hex(text)
    assert header.block_hash == block_hash and header.meets_own_target()
    table = checkpoints.mainnet()
    assert header.bits == table.period_at(height).bits
    assert table.contradiction(height, header.bits, header.block_hash) is None
    assert carried(header.raw, height).header_at(height) == header
    # The genesis period is cheap to mine today, so the table vouches only for the later two.
    assert (table.gap(height) is None) == (height > 0)


# --- what the rule refuses ----------------------------------------------------------------------


def test_a_header_with_other_bits_than_its_period_is_not_that_block(ots_dir):
    real = StoredHeader.from_file(ots_dir / "block-358391.header.json").info.header
    # Bitcoin's minimum difficulty: a header like this is mined in minutes, at any height.
    forged = with_bits(real.raw, 0x1D00FFFF)
    with pytest.raises(HeaderUnavailable) as caught:
        carried(forged, 358_391).header_at(358_391)
    assert caught.value.key == "timestamps.header_not_period_bits"
    assert caught.value.params["real"] == "181686f5" and caught.value.params["bits"] == "1d00ffff"
    # Even the reader's own header file is held to the real chain.
    given = StoredHeader(StoredHeaderInfo(BlockHeader(forged), 358_391), given_by_reader=True)
    with pytest.raises(HeaderUnavailable):
        given.header_at(358_391)


def test_a_header_with_the_right_bits_must_meet_them(ots_dir):
    raw = StoredHeader.from_file(ots_dir / "block-358391.header.json").info.header.raw
    nonce = struct.unpack_from("<I", raw, 76)[0]
    unworked = raw[:76] + struct.pack("<I", nonce ^ 1)
    with pytest.raises(HeaderUnavailable) as caught:
        carried(unworked, 358_391).header_at(358_391)
    assert caught.value.key == "timestamps.header_bad_pow"


def test_a_header_at_a_checkpoint_height_must_be_the_checkpoint(ots_dir):
    """Right bits and real work (block 358391's), claimed as the period's last block 358847."""
    raw = StoredHeader.from_file(ots_dir / "block-358391.header.json").info.header.raw
    with pytest.raises(HeaderUnavailable) as caught:
        carried(raw, None).header_at(358_847)
    assert caught.value.key == "timestamps.header_not_checkpoint"
    assert caught.value.params["real"] == checkpoints.mainnet().period_at(358_847).last_hash


def test_what_the_table_does_not_vouch_for():
    table = checkpoints.mainnet()
    cheap = table.gap(20_000)
    assert cheap is not None and cheap.key == "timestamps.unconfirmed_cheap_period"
    assert cheap.params == {"first": 18_144, "last": 20_159}
    after = table.gap(TABLE_LAST_HEIGHT + 1)
    assert after is not None and after.key == "timestamps.unconfirmed_after_table"
    assert after.params["last"] == TABLE_LAST_HEIGHT
    assert table.contradiction(TABLE_LAST_HEIGHT + 1, REGTEST_BITS, "00" * 32) is None
    first_vouched = next(p for p in table.periods if expected_work(target_from_bits(p.bits)) >= MIN_WORK)
    assert table.gap(first_vouched.first_height) is None
    assert table.gap(first_vouched.first_height - 1) is not None


def test_a_mined_header_passes_only_a_table_that_vouches_for_its_difficulty():
    """The rule on a header mined here: at regtest bits it takes milliseconds."""
    chain = SyntheticChain(start_height=2 * PERIOD + 5)
    height, _ = chain.mine([b"back-dated evidence".ljust(32, b".")], when=1_262_304_000)
    header = BlockHeader(chain.header(height))
    assert header.meets_own_target() and header.bits == REGTEST_BITS
    easy = [Period(i, REGTEST_BITS, "00" * 32) for i in range(3)]
    # A table that trusted any work at all would take it: the bits and the work are right...
    assert Checkpoints(easy, min_work=0).contradiction(height, header.bits, header.block_hash) is None
    assert Checkpoints(easy, min_work=0).gap(height) is None
    # ...which is why a period this cheap is never vouched for,
    assert Checkpoints(easy).gap(height).key == "timestamps.unconfirmed_cheap_period"
    # and against the real chain's difficulty the same header is not the block at all.
    real = [Period(i, 0x1D00FFFF, "00" * 32) for i in range(3)]
    wrong = Checkpoints(real).contradiction(height, header.bits, header.block_hash)
    assert wrong is not None and wrong.key == "timestamps.header_not_period_bits"
