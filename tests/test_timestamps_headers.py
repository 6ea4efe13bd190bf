"""Block headers given by a user: every malformed form gets one clear sentence."""

from __future__ import annotations

import json

import pytest
from servers.fixtures import bitcoin_rpc, chain, esplora  # noqa: F401

from evidencekit.timestamps import (BitcoinRpc, Esplora, HeaderError, StoredHeader, header_json,
                                    load_stored_header, parse_stored_header)
from evidencekit._internal.timestamps.bitcoin_headers import HeaderUnavailable, target_from_bits

GENESIS = ("0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b2"
           "7ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c")


def test_genesis_header():
    info = parse_stored_header(GENESIS)
    assert info.height is None
    assert info.header.block_hash == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    assert info.header.meets_own_target() and info.header.meets_mainnet_minimum()


@pytest.mark.parametrize("text, words", [
    ("abcd", "80 bytes"),
    ("zz" * 80, "hexadecimal"),
    ("{not json", "JSON"),
    ('{"hash": "00"}', "JSON"),
    (json.dumps({"header_hex": GENESIS, "height": -1}), "JSON"),
    (json.dumps({"header_hex": GENESIS, "hash": "00" * 32}), "hashes to"),
])
def test_malformed_headers(text, words):
    with pytest.raises(HeaderError) as caught:
        parse_stored_header(text)
    assert words in str(caught.value)
    assert caught.value.exit_code == 2


def test_missing_header_file(tmp_path):
    with pytest.raises(HeaderError) as caught:
        load_stored_header(tmp_path / "nope.json")
    assert "nope.json" in str(caught.value)


def test_tampered_header_fails_its_own_proof_of_work():
    raw = bytearray(bytes.fromhex(GENESIS))
    raw[70] ^= 1  # the time field
    source = StoredHeader.from_text(raw.hex())
    with pytest.raises(HeaderUnavailable) as caught:
        source.header_at(0)
    assert caught.value.key == "timestamps.header_bad_pow"


def test_compact_target():
    assert target_from_bits(0x1D00FFFF) == 0xFFFF << (8 * 26)
    assert target_from_bits(0x1D80FFFF) == 0  # negative
    assert target_from_bits(0x03000000) == 0


def test_header_json_round_trip(chain):
    height, _ = chain.mine([b"x" * 32])
    header = parse_stored_header(chain.header(height).hex()).header
    again = parse_stored_header(header_json(header, height))
    assert again.height == height and again.header == header


def test_node_and_explorer_say_when_a_block_is_unknown(bitcoin_rpc, esplora):
    with pytest.raises(HeaderUnavailable) as caught:
        BitcoinRpc(bitcoin_rpc.url).header_at(5)
    assert caught.value.key == "timestamps.rpc_error"
    with pytest.raises(HeaderUnavailable) as caught:
        Esplora(esplora.url).header_at(5)
    assert caught.value.params["status"] == 404


def test_bad_urls_are_reported_not_raised():
    with pytest.raises(HeaderUnavailable) as caught:
        Esplora("ftp://example.invalid").header_at(1)
    assert caught.value.key == "timestamps.bad_url"


def test_who_confirms_a_header(chain, bitcoin_rpc, esplora):
    """Only what the reader chose is trusted as such; a carried header needs the checkpoint table."""
    height, _ = chain.mine([b"y" * 32])
    text = header_json(parse_stored_header(chain.header(height).hex()).header, height)
    assert BitcoinRpc(bitcoin_rpc.url).confirmation(height).by == "reader"
    assert Esplora(esplora.url).confirmation(height).by == "reader"
    assert StoredHeader.from_text(text, network="regtest", given_by_reader=True).confirmation(height).by == "reader"

    regtest = StoredHeader.from_text(text, network="regtest").confirmation(height)
    assert regtest.by is None and regtest.missing.key == "timestamps.unconfirmed_not_mainnet"
    # The synthetic chain sits after the table: no mainnet header there is vouched for.
    mainnet = StoredHeader.from_text(text).confirmation(height)
    assert mainnet.by is None and mainnet.missing.key == "timestamps.unconfirmed_after_table"
    assert StoredHeader.from_text(GENESIS).confirmation(0).missing.key == "timestamps.unconfirmed_cheap_period"
