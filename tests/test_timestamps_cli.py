"""``evidencekit timestamp verify`` as a user runs it: exit 0 verified, 1 not, 2 unusable input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import run_cli
from servers.fixtures import bitcoin_rpc, calendar, chain, corpus_dir, tsa  # noqa: F401

from evidencekit.timestamps import request_token, stamp, upgrade_ots

EN = {"EVIDENCEKIT_LANG": "en"}


@pytest.fixture
def ots_dir() -> Path:
    return corpus_dir("ots")


def test_hello_world_verifies(ots_dir):
    run = run_cli("timestamp", "verify", ots_dir / "hello-world.txt.ots",
                  "--file", ots_dir / "hello-world.txt",
                  "--block-header", ots_dir / "block-358391.header.json", env=EN)
    assert run.code == 0, run.err
    assert "2015-05-28 15:41:18 UTC" in run.out and "358391" in run.out
    assert "block header file you gave" in run.out  # the reader's own file, trusted as such


def test_a_header_file_that_contradicts_the_real_chain_is_not_used(ots_dir, tmp_path):
    """Even a header the reader names must carry its period's real difficulty."""
    real = json.loads((ots_dir / "block-358391.header.json").read_text())
    raw = bytes.fromhex(real["header_hex"])
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({"height": 358391, "header_hex": (raw[:72] + bytes.fromhex("ffff001d")
                                                                    + raw[76:]).hex()}))
    run = run_cli("timestamp", "verify", ots_dir / "hello-world.txt.ots", "--file", ots_dir / "hello-world.txt",
                  "--block-header", forged, "--json", env=EN)
    assert run.code == 1
    assert run.json()["status"] == "unverifiable"
    assert "1d00ffff" in run.json()["reason"] and "181686f5" in run.json()["reason"]


def test_bad_stamp_exits_1_in_bokmal(ots_dir):
    run = run_cli("--lang", "nb", "timestamp", "verify", ots_dir / "bad-stamp.txt.ots",
                  "--file", ots_dir / "bad-stamp.txt",
                  "--block-header", ots_dir / "block-358391.header.json", "--json")
    assert run.code == 1
    data = run.json()
    assert (data["kind"], data["status"]) == ("ots", "invalid")
    assert "merkle-roten" in data["reason"]


def test_pending_exits_1_and_says_so(ots_dir):
    run = run_cli("timestamp", "verify", ots_dir / "two-calendars.txt.ots",
                  "--file", ots_dir / "two-calendars.txt", env=EN)
    assert run.code == 1
    assert "pending" in run.out.lower() and "does not count as verified" in run.out


@pytest.mark.parametrize("args, words", [
    (["nothing.ots", "--file", "hello-world.txt"], "no proof file"),
    (["hello-world.txt", "--file", "hello-world.txt"], "neither an OpenTimestamps"),
    (["hello-world.txt.ots", "--file", "missing.txt"], "no file at"),
    (["hello-world.txt.ots", "--file", "hello-world.txt", "--block-header", "hello-world.txt"],
     "hexadecimal"),
    (["hello-world.txt.ots", "--file", "hello-world.txt", "--tsa-root", "hello-world.txt"],
     "no certificate"),
])
def test_unusable_input_exits_2(ots_dir, args, words):
    run = run_cli("timestamp", "verify", *args, env=EN, cwd=ots_dir)
    assert run.code == 2, run.out
    assert words in run.err and "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1


def test_loopback_node_and_tsa(tmp_path, calendar, bitcoin_rpc, tsa):
    target = tmp_path / "evidence.txt"
    target.write_bytes(b"what the customer wrote")
    digest = hashlib.sha256(target.read_bytes()).digest()
    proof = stamp([digest], [calendar.url], [], timeout=5)[0].ots
    calendar.mine()
    (tmp_path / "evidence.txt.ots").write_bytes(
        upgrade_ots(proof, timeout=5, allowed_calendars=[calendar.url]).ots)
    (tmp_path / "evidence.txt.tsr").write_bytes(request_token(tsa.url, digest, timeout=10))

    by_node = run_cli("timestamp", "verify", tmp_path / "evidence.txt.ots", "--file", target,
                      "--bitcoin-rpc", bitcoin_rpc.url, "--json", env=EN)
    assert by_node.code == 0, by_node.err
    assert by_node.json()["header_source"].startswith("bitcoind-rpc")
    assert "loopback-only" not in by_node.out

    untrusted = run_cli("timestamp", "verify", tmp_path / "evidence.txt.tsr", "--file", target,
                        env=EN)
    assert untrusted.code == 1 and "--tsa-root" in untrusted.out
    trusted = run_cli("timestamp", "verify", tmp_path / "evidence.txt.tsr", "--file", target,
                      "--tsa-root", tsa.ca_path, "--json", env=EN)
    assert trusted.code == 0, trusted.out
    assert trusted.json()["tsa_name"] == "CN=Loopback TSA,O=evidencekit tests"
