"""Handing a case over and checking it, end to end through the CLI, as the people involved would.

A worker seals a case plain, to one recipient and to three; each recipient has their own
locker and key, opens and verifies; someone the bundle is not addressed to gets one sentence.
A bundle with loopback timestamps (OpenTimestamps calendar, local TSA) verifies offline with the
block headers it carries. (A recipient without evidencekit: ``test_bundle_by_hand.py``.)
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import PASSPHRASE, Result, run_cli
from servers.block_sources import BitcoindRpc
from servers.chain import SyntheticChain
from servers.ots_calendar import LoopbackCalendar
from servers.tsa import LocalTsa, openssl

EVIDENCE = {
    "chat.txt": "Sjefen: Du skal få svi for dette.\nMeg: Slutt.\n".encode(),
    "skjermbilde æøå.png": bytes(range(256)) * 64,
    "mail.eml": b"From: a@example.invalid\r\nSubject: hei\r\n\r\nDu vet hva du gjorde.\r\n",
}


class Person:
    """Someone with their own evidencekit folder (locker and key), using the real CLI."""

    def __init__(self, folder: Path, name: str, **env: str) -> None:
        self.name = name
        self.folder = folder / name
        self.folder.mkdir(parents=True)
        self.env = {"EVIDENCEKIT_HOME": str(self.folder / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
                    "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": "", **env}

    def with_env(self, **env: str) -> Person:
        """The same person (same folder and key) with more settings, e.g. timestamp servers."""
        other = object.__new__(Person)
        other.name, other.folder, other.env = self.name, self.folder, {**self.env, **env}
        return other

    def cli(self, *args: str | Path, **env: str) -> Result:
        return run_cli(*args, env={**self.env, **env})

    def ok(self, *args: str | Path, **env: str) -> Result:
        result = self.cli(*args, **env)
        assert result.code == 0, (self.name, args, result.out, result.err)
        return result

    def init(self) -> Person:
        self.ok("init", "--kdf", "interactive")
        return self

    @property
    def public_key(self) -> str:
        return self.ok("keys", "show", "--json").json()["public_key"]


def _one_sentence(result: Result) -> str:
    """A refusal: exit 2, nothing on stdout, one line on stderr and no traceback."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    return lines[0]


def _checks(report: dict, status: str) -> list[str]:
    return [c["code"] for c in report["checks"] if c["status"] == status]


@pytest.fixture(scope="module")
def handover(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A worker with a case of three items, three recipients, and the three bundles sealed once."""
    root = tmp_path_factory.mktemp("handover")
    worker, alice, bob, carol = (Person(root, n) for n in ("worker", "alice", "bob", "carol"))
    with ThreadPoolExecutor(2) as pool:  # four separate lockers, each with its own key
        keys = dict(zip(("worker", "alice", "bob", "carol"),
                        pool.map(lambda p: p.init().public_key, (worker, alice, bob, carol))))
    worker.ok("case", "new", "Trakassering på jobben")
    sources = root / "sources"
    sources.mkdir()
    for name, data in EVIDENCE.items():
        (sources / name).write_bytes(data)
    worker.ok("add", "--no-stamp", *sorted(sources.iterdir()))
    for person in (alice, bob, carol):
        worker.ok("recipients", "add", person.name, keys[person.name])
    bundles = root / "bundles"
    bundles.mkdir()
    plain, one, three = bundles / "case.zip", bundles / "alice.evidencekit", bundles / "all.evidencekit"
    worker.ok("seal", "--no-stamp", "--plain", "-o", plain)
    worker.ok("seal", "--no-stamp", "--to", "alice", "-o", one)
    worker.ok("seal", "--no-stamp", "--to", "alice", "--to", "bob", "--to", "carol", "-o", three)
    return {"root": root, "worker": worker, "alice": alice, "bob": bob, "carol": carol, "keys": keys,
            "plain": plain, "one": one, "three": three, "fingerprint": worker.ok("keys", "show", "--json").json()}


def _opened_items(folder: Path) -> dict[str, bytes]:
    """Unpacked item files by their original name (``items/E-001/01-name``)."""
    return {p.name.split("-", 1)[1]: p.read_bytes() for p in (folder / "items").glob("E-*/*")}


def _verify_json(person: Person, bundle: Path, *args: str, **env: str) -> dict:
    result = person.cli("verify", bundle, "--json", *args, **env)
    report = result.json()
    assert result.code == (1 if report["verdict"] == "invalid" else 0)
    return report


def test_plain_bundle_opens_and_verifies_without_a_key(handover: dict) -> None:
    # A case handler with no evidencekit folder at all can check and open a plain bundle.
    stranger = Person(handover["root"], "stranger")
    human = stranger.cli("verify", handover["plain"])
    assert human.code == 0, human.err
    lines = human.out.splitlines()
    assert lines[0].startswith("VALID WITH WARNINGS")  # no timestamps were taken
    assert lines[1] == "Case: Trakassering på jobben"
    assert handover["fingerprint"]["fingerprint"] in lines[2]
    assert any("All 3 included items are exactly the ones committed" in line for line in lines)
    assert any("No trusted timestamps" in line for line in lines)

    report = _verify_json(stranger, handover["plain"])
    assert list(report)[0] == "verdict" and report["verdict"] == "valid_with_warnings"
    assert report["signer"]["public_key"] == handover["fingerprint"]["public_key"]
    assert report["items"] == ["E-001", "E-002", "E-003"] and report["withheld"] == []
    assert _checks(report, "failed") == [] and _checks(report, "warning") == ["bundle.check_no_stamps"]

    target = stranger.folder / "opened"
    opened = stranger.cli("open", handover["plain"], "-o", target, "--json")
    assert opened.code == 0, opened.err
    assert _opened_items(target) == EVIDENCE
    assert (target / "manifest.json").is_file() and (target / "README.txt").is_file()
    assert len(opened.json()["files"]) == len(zipfile.ZipFile(handover["plain"]).namelist())


def test_sealed_to_one_recipient(handover: dict) -> None:
    alice, bob = handover["alice"], handover["bob"]
    sealed = handover["one"]
    assert sealed.read_bytes()[:8] == b"EVKSEAL2"
    report = _verify_json(alice, sealed)
    assert report["verdict"] == "valid_with_warnings", report
    assert report["checks"][0]["code"] == "bundle.check_envelope_ok"
    assert report["signer"]["fingerprint"] == handover["fingerprint"]["fingerprint"]
    target = alice.folder / "from-worker"
    assert alice.cli("open", sealed, "-o", target).code == 0
    assert _opened_items(target) == EVIDENCE
    # What alice unpacked she can re-check as a folder; zipped again by another tool it is no
    # longer the exact container evidencekit writes, and says so.
    assert alice.cli("verify", target).code == 0
    repacked = alice.folder / "repacked.zip"
    with zipfile.ZipFile(repacked, "w") as archive:
        for path in sorted(target.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(target).as_posix())
    again = _verify_json(alice, repacked)
    assert again["verdict"] == "invalid" and "zip.bundle_header_differs" in _checks(again, "failed")

    # Bob is not a recipient of this one: one clear sentence, exit 2, nothing unpacked.
    sentence = _one_sentence(bob.cli("verify", sealed))
    assert sentence == ("This sealed file is not addressed to your key (it has 1 recipient), "
                        "or its header is damaged.")
    assert _one_sentence(bob.cli("open", sealed, "-o", bob.folder / "nope")) == sentence
    assert not (bob.folder / "nope").exists()
    assert sorted(p.name for p in bob.folder.iterdir()) == ["locker"]


def test_sealed_to_three_recipients(handover: dict) -> None:
    sealed = handover["three"]
    head = sealed.read_bytes()[:10]
    assert head == b"EVKSEAL2\x00\x03"  # the recipient count is all the file says about them
    for person in (handover["alice"], handover["bob"], handover["carol"]):
        report = _verify_json(person, sealed)
        assert report["verdict"] == "valid_with_warnings" and _checks(report, "failed") == [], report
        target = person.folder / "all-of-it"
        assert person.cli("open", sealed, "-o", target).code == 0
        assert _opened_items(target) == EVIDENCE
    outsider = handover["worker"]  # even the sender cannot open it: only the three can
    assert "not addressed to your key (it has 3 recipients)" in _one_sentence(outsider.cli("verify", sealed))
    assert "not addressed to your key" in _one_sentence(outsider.cli("open", sealed, "-o", outsider.folder / "x"))
    assert not (outsider.folder / "x").exists()


def test_sealed_file_reveals_nothing_but_size_and_count(handover: dict) -> None:
    data = handover["three"].read_bytes()
    plain = handover["plain"].read_bytes()
    for secret in (b"manifest.json", b"PK\x03\x04", b"E-001", EVIDENCE["chat.txt"][:20], b"Trakassering"):
        assert secret not in data
    for person in ("alice", "bob", "carol"):
        assert handover["keys"][person].encode() not in data
    # Size: the ZIP, 80 bytes per recipient, 24 + 17 per 64 KiB chunk; the ZIPs differ only slightly.
    assert abs(len(data) - (len(plain) + 10 + 3 * 80 + 24 + 17)) < 2048


def test_sealed_bundle_without_a_key(handover: dict) -> None:
    nobody = Person(handover["root"], "nobody")
    sentence = _one_sentence(nobody.cli("verify", handover["one"]))
    assert "evidencekit init" in sentence


# --- timestamps ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stamped(handover: dict) -> dict:
    """A second case of the same worker, stamped by a loopback calendar and a local TSA, sealed
    while OpenTimestamps is pending and again once complete; alice checks them."""
    if openssl() is None:
        pytest.skip("the openssl command is needed for the local TSA")
    root = handover["root"] / "stamped"
    root.mkdir()
    chain = SyntheticChain()
    calendar, rpc, tsa = LoopbackCalendar(chain), BitcoindRpc(chain), LocalTsa("Loopback")
    try:
        worker = handover["worker"].with_env(EVIDENCEKIT_OTS_CALENDARS=calendar.url, EVIDENCEKIT_TSA_URLS=tsa.url,
                                             EVIDENCEKIT_BITCOIN_NETWORK="regtest")
        handler = handover["alice"]
        worker.ok("case", "new", "Stamped")
        evidence = root / "message.txt"
        evidence.write_bytes(EVIDENCE["chat.txt"])
        worker.ok("add", evidence)
        pending = root / "pending.zip"
        worker.ok("seal", "--no-stamp", "--plain", "-o", pending)
        height = calendar.mine()
        worker.ok("stamp", "--upgrade")
        # Verifying once against a node keeps the block headers, so they travel in the next bundle.
        worker.ok("stamp", "--verify", "--bitcoin-rpc", rpc.url)
        complete = root / "complete.zip"
        worker.ok("seal", "--no-stamp", "--plain", "-o", complete)
        roots = root / "tsa-root.pem"
        roots.write_bytes(tsa.ca_pem)
    finally:
        calendar.close()
        rpc.close()
        tsa.close()
    return {"handler": handler, "pending": pending, "complete": complete, "roots": roots, "height": height}


def test_pending_opentimestamps_give_valid_with_warnings(stamped: dict) -> None:
    report = _verify_json(stamped["handler"], stamped["pending"], "--tsa-root", str(stamped["roots"]))
    assert report["verdict"] == "valid_with_warnings", report
    kinds = {(t["kind"], t["status"]) for t in report["timestamps"]}
    assert kinds == {("ots", "pending"), ("rfc3161", "verified")}, report["timestamps"]
    assert _checks(report, "failed") == []
    assert set(_checks(report, "warning")) == {"bundle.check_stamp_open"}
    human = stamped["handler"].cli("verify", stamped["pending"], "--tsa-root", stamped["roots"])
    assert human.code == 0 and human.out.startswith("VALID WITH WARNINGS")


def test_complete_timestamps_offline_say_what_to_confirm(stamped: dict) -> None:
    """A block header carried in the bundle is not a proof by itself: offline, the proof is
    complete but unconfirmed, the verdict has a warning that says how to confirm the block."""
    handler, complete = stamped["handler"], stamped["complete"]
    with zipfile.ZipFile(complete) as archive:
        assert f"timestamps/block-{stamped['height']}.header.json" in archive.namelist()
    report = _verify_json(handler, complete, "--tsa-root", str(stamped["roots"]), EVIDENCEKIT_BITCOIN_NETWORK="regtest")
    assert report["verdict"] == "valid_with_warnings", report
    ots = [t for t in report["timestamps"] if t["kind"] == "ots"]
    assert ots and all(t["status"] == "unconfirmed" for t in ots)
    assert {t["block_height"] for t in ots} == {stamped["height"]}
    assert set(_checks(report, "warning")) == {"bundle.check_stamp_open"} and _checks(report, "failed") == []
    assert all(t["status"] == "verified" for t in report["timestamps"] if t["kind"] == "rfc3161")
    human = handler.cli("verify", complete, "--tsa-root", stamped["roots"], EVIDENCEKIT_BITCOIN_NETWORK="regtest")
    assert human.code == 0 and human.out.startswith("VALID WITH WARNINGS")
    assert "--bitcoin-rpc" in human.out and "✓" not in [line.strip()[:1] for line in human.out.splitlines()
                                                         if f"block {stamped['height']}" in line.lower()]


def test_stored_headers_are_not_taken_on_trust(stamped: dict) -> None:
    """A synthetic regtest header does not pass as a Bitcoin main-chain block."""
    report = _verify_json(stamped["handler"], stamped["complete"], "--tsa-root", str(stamped["roots"]))
    ots = [t for t in report["timestamps"] if t["kind"] == "ots"]
    assert ots and not any(t["status"] == "verified" for t in ots), ots
    assert report["verdict"] != "valid"


def test_tsa_without_its_root(stamped: dict) -> None:
    report = _verify_json(stamped["handler"], stamped["pending"])
    tsr = [t for t in report["timestamps"] if t["kind"] == "rfc3161"]
    assert tsr and not any(t["status"] == "verified" for t in tsr), tsr


def test_proofs_read_by_ots_and_openssl(stamped: dict, tmp_path: Path) -> None:
    """The proofs in a bundle are standard files: ``ots info`` and ``openssl ts -verify`` read them."""
    with zipfile.ZipFile(stamped["complete"]) as archive:
        archive.extractall(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_bytes())
    entries = [json.loads(line) for line in (tmp_path / "custody-log.jsonl").read_text().splitlines()]
    digests = {e["seq"]: hashlib.sha256(line).hexdigest()
               for e, line in zip(entries, (tmp_path / "custody-log.jsonl").read_bytes().splitlines())}
    for stamp in manifest["timestamps"]:
        assert digests[stamp["seq"]] == stamp["digest"]  # what is stamped: a custody-log entry's digest
    ots_proofs = [t for t in manifest["timestamps"] if t["kind"] == "ots"]
    info = subprocess.run([str(Path(sys.executable).parent / "ots"), "info", str(tmp_path / ots_proofs[0]["path"])],
                          capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert ots_proofs[0]["digest"] in info.stdout and "BitcoinBlockHeaderAttestation" in info.stdout
    tsr = next(t for t in manifest["timestamps"] if t["kind"] == "rfc3161")
    checked = subprocess.run(["openssl", "ts", "-verify", "-digest", tsr["digest"], "-in", tsr["path"],
                              "-CAfile", str(stamped["roots"])], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stdout + checked.stderr


# --- the envelope on its own -----------------------------------------------------------------


@pytest.mark.parametrize("size, piece", [(0, 1), (1, 1), (65537, 4096), ((1 << 20) - 1, 7000),
                                         (1 << 20, 1 << 20), ((1 << 20) + 1, 1 << 20), (3_333_333, 1 << 20),
                                         (3_333_333, 777_777), (2_000_000, 100_000_000)])
def test_envelope_round_trips_any_way_it_is_written(size: int, piece: int, tmp_path: Path) -> None:
    import hashlib
    import threading

    import nacl.signing

    from evidencekit._internal.bundle import envelope

    me, other = nacl.signing.SigningKey.generate(), nacl.signing.SigningKey.generate()
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    digest = hashlib.sha256(data).digest()  # stands in for the container digest
    sealed = tmp_path / "sealed"
    with open(sealed, "wb") as raw, envelope.SealWriter(raw, [bytes(other.verify_key), bytes(me.verify_key)]) as writer:
        for start in range(0, size, piece):
            writer.write(data[start:start + piece])
        writer.sign_and_close(me, digest)
    header = len(envelope.MAGIC) + 2 + 2 * envelope.SLOT + envelope.PREFIX
    chunks = -(-size // envelope.CHUNK)
    assert sealed.stat().st_size == header + size + chunks * envelope.TAG + envelope.TRAILER + envelope.TAG
    for key in (me, other):
        with open(sealed, "rb") as raw, envelope.OpenedStream(raw, key) as stream:
            out = b"".join(iter(lambda: stream.read(100_000), b""))
            assert out == data
            assert stream.sender(digest) == bytes(me.verify_key)
            assert stream.sender(hashlib.sha256(b"other").digest()) is None
    assert not [t for t in threading.enumerate() if t.name in ("evidencekit-behind", "evidencekit-decrypt")]


def test_envelope_writer_failing_midway_stops_cleanly() -> None:
    import threading

    import nacl.signing

    from evidencekit._internal.bundle import envelope

    class DiskFull:
        written = 0

        def write(self, data: bytes) -> int:
            self.written += len(data)
            if self.written > 3 << 20:
                raise OSError(28, "No space left on device")
            return len(data)

        def flush(self) -> None:
            pass

    key = bytes(nacl.signing.SigningKey.generate().verify_key)
    with pytest.raises(OSError, match="No space left"):
        with envelope.SealWriter(DiskFull(), [key]) as writer:
            for _ in range(64):
                writer.write(bytes(1 << 20))
    with pytest.raises(ValueError, match="the caller's own error"):  # an error of the caller stops it too
        with envelope.SealWriter(DiskFull(), [key]) as writer:
            writer.write(bytes(2 << 20))
            raise ValueError("the caller's own error")
    assert not [t for t in threading.enumerate() if t.name == "evidencekit-behind"]


def test_seal_names_who_prepared_it_and_refuses_a_mistaken_hand_over(handover: dict) -> None:
    worker, root = handover["worker"], handover["root"]
    out = root / "named"
    out.mkdir()
    # The worker has recipients: leaving out --to would hand over an unencrypted bundle by mistake.
    refused = worker.cli("seal", "--no-stamp", "-o", out / "x.zip")
    assert refused.code == 2 and "UNENCRYPTED" in refused.err and not list(out.iterdir())
    # A sealed bundle is always *.evidencekit and a plain one *.zip.
    wrong = worker.cli("seal", "--no-stamp", "--to", "alice", "-o", out / "x.zip")
    assert wrong.code == 2 and ".evidencekit" in wrong.err and not list(out.iterdir())
    wrong = worker.cli("seal", "--no-stamp", "--plain", "-o", out / "x.evidencekit")
    assert wrong.code == 2 and ".zip" in wrong.err and not list(out.iterdir())
    sealed = worker.ok("seal", "--no-stamp", "--plain", "--name", "Kari Nordmann", "-o", out / "named.zip")
    assert "UNENCRYPTED: anyone who gets this file can read it." in sealed.out
    with zipfile.ZipFile(out / "named.zip") as archive:
        html = archive.read("report-en.html").decode()
    assert "Kari Nordmann" in html
    to_alice = worker.ok("seal", "--no-stamp", "--no-report", "--to", "alice", "-o", out / "alice.evidencekit")
    assert "Encrypted to: alice." in to_alice.out
