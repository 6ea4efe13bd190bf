"""Stamping in the locker, end to end through the CLI, against loopback calendars and a local TSA."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from servers.fixtures import bitcoin_rpc, calendar, chain, misbehaving, second_calendar, tsa  # noqa: F401


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    f = tmp_path / "message.txt"
    f.write_text("Du skal få svi for dette.\n", encoding="utf-8")
    return f


def _by_status(results: list[dict]) -> dict[str, int]:
    found: dict[str, int] = {}
    for r in results:
        found[r["status"]] = found.get(r["status"], 0) + 1
    return found


def test_down_then_back_then_mined_then_verified(case_home: Path, evidence: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, calendar, second_calendar,
                                                 tsa, bitcoin_rpc) -> None:
    # All servers down: adding still succeeds at once, and the requests wait in the queue.
    monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", "http://127.0.0.1:9/a,http://127.0.0.1:9/b")
    monkeypatch.setenv("EVIDENCEKIT_TSA_URLS", "http://127.0.0.1:9/tsa")
    added = run_cli("add", evidence)
    assert added.code == 0, added.err
    assert "3 queued" in added.out and "Timestamp waiting" in added.out  # one calm line, no addresses
    assert "127.0.0.1" not in added.out
    assert _by_status(run_cli("stamp", "--verify", "--json").json()) == {"queued": 3}

    # Servers back: one `stamp` empties the queue.
    monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", f"{calendar.url},{second_calendar.url}")
    monkeypatch.setenv("EVIDENCEKIT_TSA_URLS", tsa.url)
    monkeypatch.setenv("EVIDENCEKIT_BITCOIN_NETWORK", "regtest")
    sent = run_cli("stamp", "--json").json()
    assert sent["counts"] == {"queued": 0, "pending": 2, "complete": 1}, sent
    assert calendar.submissions == 1 and second_calendar.submissions == 1

    roots = tmp_path / "tsa-root.pem"
    roots.write_bytes(tsa.ca_pem)
    verified = run_cli("stamp", "--verify", "--json", "--tsa-root", roots).json()
    assert _by_status(verified) == {"pending": 2, "verified": 1}
    token = next(r for r in verified if r["kind"] == "rfc3161")
    assert token["gen_time"] and token["serial"] and token["policy"]

    # Not in a block yet: upgrading leaves them pending.
    assert run_cli("stamp", "--upgrade", "--json").json()["counts"]["pending"] == 2
    height = calendar.mine()
    assert second_calendar.mine() == height + 1
    upgraded = run_cli("stamp", "--upgrade", "--json").json()
    assert upgraded["counts"] == {"queued": 0, "pending": 0, "complete": 3}, upgraded

    # Verified through a bitcoind-style RPC; the headers are then kept for offline checks.
    online = run_cli("stamp", "--verify", "--json", "--bitcoin-rpc", bitcoin_rpc.url, "--tsa-root", roots).json()
    assert _by_status(online) == {"verified": 3}
    ots = [r for r in online if r["kind"] == "ots"]
    assert {r["block_height"] for r in ots} == {height, height + 1}
    assert all(r["header_source"].startswith("bitcoind-rpc") for r in ots)
    # Offline, a kept header is not trusted by itself: a regtest block stays unconfirmed.
    offline = run_cli("stamp", "--verify", "--json", "--tsa-root", roots).json()
    assert _by_status(offline) == {"verified": 1, "unconfirmed": 2}
    assert all(r["header_source"].startswith("stored") for r in offline if r["kind"] == "ots")
    human = run_cli("stamp", "--verify", "--tsa-root", roots)
    assert human.code == 0 and f"block {height}" in human.out.lower() and "--bitcoin-rpc" in human.out

    # Standard files that other tools read: `ots info` and `openssl ts -reply -text`.
    folder = tmp_path / "proofs"
    written = [Path(p) for p in run_cli("stamp", "--export", folder, "--json").json()]
    ots_file = next(p for p in written if p.suffix == ".ots")
    info = subprocess.run([str(Path(sys.executable).parent / "ots"), "info", str(ots_file)],
                          capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert "BitcoinBlockHeaderAttestation" in info.stdout and info.stdout.count("BitcoinBlockHeaderAttestation") == 2
    tsr = next(p for p in written if p.suffix == ".tsr")
    if shutil.which("openssl"):
        text = subprocess.run(["openssl", "ts", "-reply", "-in", str(tsr), "-text"], capture_output=True, text=True)
        assert text.returncode == 0 and "Granted" in text.stdout


def test_newest_head_covers_the_queue_in_one_request(case_home: Path, evidence: Path,
                                                     monkeypatch: pytest.MonkeyPatch, calendar) -> None:
    for _ in range(5):
        assert run_cli("add", evidence, "--no-stamp", "--again").code == 0
    monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", calendar.url)
    sent = run_cli("stamp", "--json").json()
    assert sent["stamped"] == 1 and sent["counts"] == {"queued": 0, "pending": 1, "complete": 0}
    assert calendar.submissions == 1
    assert run_cli("stamp", "--json").json()["stamped"] == 0  # nothing owed any more
    assert calendar.submissions == 1


@pytest.mark.parametrize("mode", ["garbage", "hang", "endless"])
def test_misbehaving_calendar_never_holds_up_adding(case_home: Path, evidence: Path,
                                                    monkeypatch: pytest.MonkeyPatch, misbehaving, mode: str) -> None:
    server = misbehaving(mode)
    monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", server.url)
    monkeypatch.setenv("EVIDENCEKIT_STAMP_TIMEOUT", "2")
    started = time.monotonic()
    added = run_cli("add", evidence)
    assert added.code == 0 and "1 queued" in added.out
    assert time.monotonic() - started < 15
    assert run_cli("list", "--json").json()[0]["id"] == "E-001"
    assert _by_status(run_cli("stamp", "--verify", "--json").json()) == {"queued": 1}
