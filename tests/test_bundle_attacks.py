"""The forgeries a recipient must never be fooled by, each rebuilt from a fresh bundle.

Container tricks that make other ZIP readers see other files than the verifier (a "folder" that
holds data, a Unicode-path extra field, bytes before or after, an archive comment, a changed
CRC-32); a co-recipient who encrypts other contents again for the others; and ``open`` of any of
them, which must write nothing. Each forged file is checked with ``verify`` (INVALID, exit 1,
the specific reason) and ``open`` (refused, nothing written); the container tricks also with
Info-ZIP ``unzip``, to show the difference the check closes is real.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import nacl.public
import nacl.signing
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bundle_support import invoke
from conftest import PASSPHRASE, Result
from evidencekit._internal import keys
from evidencekit._internal.bundle import container, envelope, layout
from locker_files import open_locker

EVIDENCE = b"Du skal faa svi for dette. Vi vet hvor du bor.\n" * 50
FORGED = b"Beklager, det var min feil. Alt er i orden.\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A worker's case of two items, sealed plain and to two recipients (alice and the worker)."""
    root = tmp_path_factory.mktemp("attacks")
    envs = {name: {"EVIDENCEKIT_HOME": str(root / name), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
                   "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}
            for name in ("worker", "alice")}

    def ok(who: str, *args: str | Path) -> Result:
        result = invoke(*args, env=envs[who])
        assert result.code == 0, (who, args, result.out, result.err)
        return result

    for who in envs:
        ok(who, "init", "--kdf", "interactive")
    ok("worker", "case", "new", "Kunden i butikken")
    sources = root / "sources"
    sources.mkdir()
    (sources / "evidence.txt").write_bytes(EVIDENCE)
    (sources / "photo.bin").write_bytes(os.urandom(200_000))
    ok("worker", "add", "--no-stamp", sources / "evidence.txt", sources / "photo.bin")
    alice_key = ok("alice", "keys", "show", "--json").json()["public_key"]
    ok("worker", "recipients", "add", "alice", alice_key)
    worker_key = ok("worker", "keys", "show", "--json").json()["public_key"]
    ok("worker", "recipients", "add", "me", worker_key)
    bundles = root / "bundles"
    bundles.mkdir()
    plain, sealed = bundles / "case.zip", bundles / "case.evidencekit"
    ok("worker", "seal", "--no-stamp", "--no-report", "--plain", "-o", plain)
    ok("worker", "seal", "--no-stamp", "--no-report", "--to", "alice", "--to", "me", "-o", sealed)
    fingerprint = ok("worker", "verify", plain, "--json").json()["signer"]["fingerprint"]
    yield {"root": root, "envs": envs, "plain": plain, "sealed": sealed, "fingerprint": fingerprint}


def _verify(world: dict, path: Path, who: str = "worker") -> tuple[int, dict]:
    result = invoke("verify", path, "--json", env=world["envs"][who])
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def _failed(report: dict) -> set[str]:
    return {c["code"] for c in report["checks"] if c["status"] == "failed"}


def _refused_by_open(world: dict, path: Path, who: str = "worker") -> None:
    """``open`` verifies first: exit 1, the verdict printed, and not one file written."""
    parent = world["root"] / "opened"
    parent.mkdir(exist_ok=True)
    before = sorted(os.listdir(parent))
    result = invoke("open", path, "-o", parent / "case", env=world["envs"][who])
    assert result.code == 1, (result.out, result.err)
    assert result.out.startswith("INVALID") and "nothing was unpacked" in result.out
    assert sorted(os.listdir(parent)) == before


def _rebuild(source: Path, target: Path, extra: dict[str, bytes] | None = None, comment: bytes = b"") -> Path:
    """The bundle's members written again with Python's zipfile, as a forger's tool would."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as forged:
        for info in original.infolist():
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.extra = (extra or {}).get(info.filename, b"")
            forged.writestr(copy, original.read(info))
        forged.comment = comment
    return target


# --- the container: every reader must see the same files -----------------------------------------


def test_folder_entry_holding_data(world: dict, tmp_path: Path) -> None:
    forged = tmp_path / "folder.zip"
    shutil.copy(world["plain"], forged)
    with zipfile.ZipFile(forged, "a") as archive:
        archive.writestr(zipfile.ZipInfo("items/E-001/"), FORGED)  # a "folder" with bytes in it
    code, report = _verify(world, forged)
    assert code == 1 and "zip.bundle_bad_name" in _failed(report)
    _refused_by_open(world, forged)


def test_unicode_path_field_shows_unzip_another_file(world: dict, tmp_path: Path) -> None:
    """0x7075: Info-ZIP unzip (and Python >= 3.12) take the name from the extra field."""
    with zipfile.ZipFile(world["plain"]) as original:
        evidence = next(n for n in original.namelist() if n.endswith("evidence.txt"))
    decoy = layout.README.encode()
    field = struct.pack("<BI", 1, zlib.crc32(decoy)) + evidence.encode()
    extra = {layout.README: struct.pack("<HH", 0x7075, len(field)) + field}
    forged = _rebuild(world["plain"], tmp_path / "upath.zip", extra)
    if shutil.which("unzip") is None:
        pytest.skip("Info-ZIP unzip is not installed (make test installs it)")
    listed = subprocess.run(["unzip", "-Z1", str(forged)], capture_output=True, text=True)
    assert listed.stdout.splitlines().count(evidence) == 2  # the difference is real: the evidence name twice
    code, report = _verify(world, forged)
    assert code == 1 and "zip.bundle_header_differs" in _failed(report)
    _refused_by_open(world, forged)


@pytest.mark.parametrize("where", ["before", "after"])
def test_bytes_outside_the_archive(world: dict, tmp_path: Path, where: str) -> None:
    data = world["plain"].read_bytes()
    junk = b"MZ not part of the bundle: a self-extractor's stub, or a second archive " * 4
    forged = tmp_path / f"{where}.zip"
    forged.write_bytes(junk + data if where == "before" else data + junk)
    code, report = _verify(world, forged)
    assert code == 1 and f"zip.bundle_bytes_{where}" in _failed(report)
    _refused_by_open(world, forged)


def test_archive_comment(world: dict, tmp_path: Path) -> None:
    forged = tmp_path / "comment.zip"
    shutil.copy(world["plain"], forged)
    with zipfile.ZipFile(forged, "a") as archive:
        archive.comment = b"VALID - checked by the union"
    code, report = _verify(world, forged)
    assert code == 1 and "zip.bundle_directory_differs" in _failed(report)
    _refused_by_open(world, forged)


@pytest.mark.parametrize("headers", ["local", "central", "both"])
def test_changed_crc(world: dict, tmp_path: Path, headers: str) -> None:
    """verify and open read alike: a changed CRC-32 is INVALID for both, exit 1."""
    data = bytearray(world["plain"].read_bytes())
    with zipfile.ZipFile(world["plain"]) as archive:
        info = archive.getinfo(layout.README)
    crc = struct.pack("<I", info.CRC)
    first_central = data.index(b"PK\x01\x02")  # README.txt is the first member, so its entry comes first
    spots = {"local": [info.header_offset + 14], "central": [first_central + 16]}
    spots["both"] = spots["local"] + spots["central"]
    for spot in spots[headers]:
        assert data[spot:spot + 4] == crc
        data[spot:spot + 4] = struct.pack("<I", info.CRC ^ 0x5A5A5A5A)
    forged = tmp_path / "crc.zip"
    forged.write_bytes(bytes(data))
    code, report = _verify(world, forged)
    assert code == 1 and _failed(report) & {"zip.bundle_crc", "zip.bundle_directory_differs",
                                            "zip.bundle_header_differs"}
    _refused_by_open(world, forged)


def test_flipped_byte_in_record_or_log_is_invalid_not_damaged(world: dict, tmp_path: Path) -> None:
    data = world["plain"].read_bytes()
    with zipfile.ZipFile(world["plain"]) as archive:
        targets = [archive.getinfo(n) for n in (layout.LOG_ENTRIES, "records/E-001.json", layout.CASE_RECORD)]
    for info in targets:
        at = info.header_offset + 30 + len(info.filename) + info.file_size // 2
        forged = tmp_path / "flipped.zip"
        forged.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1:])
        code, report = _verify(world, forged)
        assert code == 1 and report["verdict"] == "invalid", info.filename
        _refused_by_open(world, forged)


def test_our_container_is_what_unzip_sees(world: dict, tmp_path: Path) -> None:
    """The good bundle: unzip tests it clean and lists exactly the members verify counted."""
    if shutil.which("unzip") is None:
        pytest.skip("Info-ZIP unzip is not installed (make test installs it)")
    tested = subprocess.run(["unzip", "-t", str(world["plain"])], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout
    listed = subprocess.run(["unzip", "-Z1", str(world["plain"])], capture_output=True, text=True).stdout.split()
    with open(world["plain"], "rb") as source, container.Reader(source) as reader:
        names = [m.name for m in reader.members() if reader.skip() is None]
    assert listed == names


# --- the sealed envelope: only the sender's contents --------------------------------------------


def _slots_and_key(sealed: Path, reader: nacl.signing.SigningKey) -> tuple[bytes, bytes, bytes]:
    """What any recipient reads from the file: magic, count and slots; the nonce prefix; and the
    file key, from her own slot."""
    data = sealed.read_bytes()
    count = struct.unpack(">H", data[8:10])[0]
    slots = data[:10 + count * envelope.SLOT]
    box = nacl.public.SealedBox(reader.to_curve25519_private_key())
    file_key = next(k for i in range(count) if (k := _try(box, slots[10 + i * envelope.SLOT:10 + (i + 1) * envelope.SLOT])))
    return slots, data[len(slots):len(slots) + envelope.PREFIX], file_key


def _encrypt_by_hand(slots: bytes, prefix: bytes, file_key: bytes, plaintext: bytes, trailer: bytes) -> bytes:
    """An envelope written from the format's description (STREAM over AES-256-GCM), not by the module."""
    cipher = AESGCM(file_key)
    preamble = slots + prefix
    pieces = [plaintext[start:start + envelope.CHUNK] for start in range(0, len(plaintext), envelope.CHUNK)]
    out, aad = [preamble], preamble
    for number, piece in enumerate([*pieces, trailer]):
        out.append(cipher.encrypt(prefix + struct.pack(">IB", number, number == len(pieces)), piece, aad))
        aad = None
    return b"".join(out)


def _reseal(sealed: Path, reader: nacl.signing.SigningKey, plaintext: bytes, trailer: bytes, target: Path,
            prefix: bytes | None = None) -> Path:
    """What a co-recipient can do: take the file key from her own slot and encrypt other contents
    again, keeping every recipient's slot (and, unless ``prefix`` is given, the sender's nonce
    prefix, so everything before the first chunk is the sender's), so the others can still open it."""
    slots, own_prefix, file_key = _slots_and_key(sealed, reader)
    target.write_bytes(_encrypt_by_hand(slots, prefix or own_prefix, file_key, plaintext, trailer))
    return target


def _plaintext_and_trailer(sealed: Path, reader: nacl.signing.SigningKey) -> tuple[bytes, bytes]:
    with open(sealed, "rb") as raw, envelope.OpenedStream(raw, reader) as stream:
        plain = b"".join(iter(lambda: stream.read(1 << 20), b""))
        return plain, stream._trailer  # type: ignore[return-value]


def _identity(world: dict, who: str) -> nacl.signing.SigningKey:
    with open_locker(Path(world["envs"][who]["EVIDENCEKIT_HOME"])) as locker:
        return locker.identity_signer(PASSPHRASE)


def test_co_recipient_cannot_swap_the_body(world: dict, tmp_path: Path) -> None:
    alice = _identity(world, "alice")
    plain, trailer = _plaintext_and_trailer(world["sealed"], alice)  # she can: she is a recipient

    # 1. Other contents (an item file replaced, the zip rebuilt exactly), everything before the
    # body and the sender's signature kept: only the container digest in the signature differs.
    forged_zip = tmp_path / "forged.zip"
    with zipfile.ZipFile(world["plain"]) as archive, open(forged_zip, "wb") as out:
        writer = container.Writer(out)
        for info in archive.infolist():
            data = archive.read(info)
            writer.add(info.filename, FORGED if info.filename.endswith("evidence.txt") else data)
        writer.finish()
    swapped = _reseal(world["sealed"], alice, forged_zip.read_bytes(), trailer, tmp_path / "swapped.evidencekit")
    code, report = _verify(world, swapped)  # the worker's own key opens it: "me" is a recipient
    assert code == 1 and "bundle.check_envelope_unsigned" in _failed(report)
    _refused_by_open(world, swapped)

    # 2. The very same contents, encrypted again under a new nonce prefix: the signature covers it.
    again = _reseal(world["sealed"], alice, plain, trailer, tmp_path / "again.evidencekit", os.urandom(envelope.PREFIX))
    code, report = _verify(world, again)
    assert code == 1 and _failed(report) == {"bundle.check_envelope_unsigned"}


def test_envelope_signed_by_another_key_than_the_manifest(world: dict, tmp_path: Path) -> None:
    """A correctly signed envelope around a manifest of another signer is refused by name."""
    import hashlib

    from evidencekit._internal.bundle.envelope import _statement

    alice = _identity(world, "alice")
    plain, _ = _plaintext_and_trailer(world["sealed"], alice)
    slots, _, file_key = _slots_and_key(world["sealed"], alice)
    prefix = os.urandom(envelope.PREFIX)
    with container.Reader(io.BytesIO(plain)) as reader:
        for _ in reader.members():
            reader.skip()
        digest = reader.digest
    statement = _statement(hashlib.sha256(slots + prefix).digest(), digest)
    trailer = bytes(alice.verify_key) + alice.sign(statement).signature
    forged = tmp_path / "resigned.evidencekit"
    forged.write_bytes(_encrypt_by_hand(slots, prefix, file_key, plain, trailer))
    code, report = _verify(world, forged)
    assert code == 1 and _failed(report) == {"bundle.check_envelope_other_signer"}
    assert keys.fingerprint(bytes(alice.verify_key)) in json.dumps(report)
    _refused_by_open(world, forged)


def _try(box: nacl.public.SealedBox, slot: bytes) -> bytes | None:
    try:
        return box.decrypt(slot)
    except nacl.exceptions.CryptoError:
        return None


def test_untouched_sealed_bundle_names_its_sender(world: dict) -> None:
    code, report = _verify(world, world["sealed"], "alice")
    assert code == 0 and report["checks"][0]["code"] == "bundle.check_envelope_ok"
    assert report["signer"]["fingerprint"] == world["fingerprint"]


# --- open verifies first --------------------------------------------------------------------------


def test_open_unverified_says_so(world: dict, tmp_path: Path) -> None:
    forged = tmp_path / "comment.zip"
    shutil.copy(world["plain"], forged)
    with zipfile.ZipFile(forged, "a") as archive:
        archive.comment = b"x"
    result = invoke("open", forged, "-o", tmp_path / "case", "--unverified", env=world["envs"]["worker"])
    assert result.code == 1 and "NOT VERIFIED" in result.out
    assert not (tmp_path / "case").exists()
    landed = tmp_path / "case-NOT-VERIFIED"
    assert "NOT VERIFIED" in (landed / "NOT-VERIFIED.txt").read_text()
    assert (landed / layout.MANIFEST).is_file()
    # An unpacked folder is checked as a bundle too; the note marks it as not the sealed one.
    code, report = _verify(world, landed)
    assert code == 1 and "bundle.check_file_unexpected" in _failed(report)


def test_verify_an_unpacked_folder(world: dict, tmp_path: Path) -> None:
    target = tmp_path / "case"
    assert invoke("open", world["plain"], "-o", target, env=world["envs"]["worker"]).code == 0
    code, report = _verify(world, target)
    assert code == 0, report
    evidence = next(target.glob("items/E-001/*"))
    evidence.write_bytes(FORGED)
    code, report = _verify(world, target)
    assert code == 1 and "bundle.check_file_changed" in _failed(report)
    (target / "extra.txt").write_text("added")
    evidence.unlink()
    os.symlink("/etc/passwd", evidence)
    code, report = _verify(world, target)
    assert {"bundle.check_file_unexpected", "bundle.folder_not_a_file"} <= _failed(report)


# --- the custody log against its own proofs -------------------------------------------------------


def test_log_dated_after_what_its_timestamp_proves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock set years ahead (or a log written to look younger): the TSA's time shows the entry
    existed before the time it claims, and the verifier says so."""
    from evidencekit._internal import canonical
    from servers.tsa import LocalTsa, openssl

    if openssl() is None:
        pytest.skip("the openssl command is needed for the local TSA")
    tsa = LocalTsa("Loopback")
    try:
        env = {"EVIDENCEKIT_HOME": str(tmp_path / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
               "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": tsa.url}
        (tmp_path / "e.txt").write_bytes(EVIDENCE)
        for args in (("init", "--kdf", "interactive"), ("case", "new", "Fremtiden")):
            assert invoke(*args, env=env).code == 0
        with monkeypatch.context() as clock:
            clock.setattr(canonical, "utc_now", lambda: "2031-06-01T12:00:00Z")
            assert invoke("add", tmp_path / "e.txt", env=env).code == 0  # stamped at once, by the real TSA clock
        bundle = tmp_path / "future.zip"
        assert invoke("seal", "--no-stamp", "--no-report", "-o", bundle, env=env).code == 0
        roots = tmp_path / "root.pem"
        roots.write_bytes(tsa.ca_pem)
        result = invoke("verify", bundle, "--json", "--tsa-root", roots, env=env)
        report = json.loads(result.out)
        assert result.code == 1 and "check.entry_time_after_proof" in _failed(report), report["checks"]
    finally:
        tsa.close()


def test_a_hostile_attachment_name_cannot_block_the_hand_over(tmp_path: Path) -> None:
    """Control characters in a file's name (as a harasser may choose it) are replaced in the bundle."""
    env = {"EVIDENCEKIT_HOME": str(tmp_path / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
           "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}
    evidence = tmp_path / "bilde\x7f\x9b[2J\x1b]0;x\x07.txt"
    evidence.write_bytes(EVIDENCE)
    for args in (("init", "--kdf", "interactive"), ("case", "new", "Navn"), ("add", "--no-stamp", evidence)):
        assert invoke(*args, env=env).code == 0
    bundle = tmp_path / "names.zip"
    result = invoke("seal", "--no-stamp", "--no-report", "-o", bundle, env=env)
    assert result.code == 0, result.err
    verified = invoke("verify", bundle, env=env)
    assert verified.code == 0 and "\x1b" not in verified.out and "\x9b" not in verified.out
    with zipfile.ZipFile(bundle) as archive:
        [name] = [n for n in archive.namelist() if n.startswith("items/")]
    assert name == "items/E-001/01-bilde__[2J_]0;x_.txt"
