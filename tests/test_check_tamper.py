"""``check`` passes on a clean case and names exactly what was tampered with: a sealed blob file
changed, cut short, swapped or moved under another blob's name, a row edited through the database's
key, and a damaged database file."""

from __future__ import annotations

import json
import os
import shutil
import stat
from contextlib import closing
from pathlib import Path

import nacl.signing
import pytest
import rfc8785

from conftest import PASSPHRASE, run_cli
from evidencekit._internal import database, keys, layout, sealed_blob
from locker_files import blob_file, connect

PAGE = 4096  # SQLCipher 4's page size


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean case with three items, built once and copied for each tampering."""
    root = tmp_path_factory.mktemp("template")
    env = {"EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE, "EVIDENCEKIT_LANG": "en"}
    assert run_cli("init", "--kdf", "interactive", env=env).code == 0
    assert run_cli("case", "new", "Tamper case", env=env).code == 0
    files = []
    for name in ("one.txt", "two.txt", "three.txt"):
        files.append(root / name)
        files[-1].write_text(f"evidence {name}\n")
    assert run_cli("add", *files, env=env).code == 0
    assert run_cli("check", env=env).code == 0
    return root / "locker"


@pytest.fixture
def filled(template: Path, home: Path) -> Path:
    shutil.copytree(template, home)
    return home


def _blob(home: Path, item: str) -> Path:
    sha = run_cli("show", item, "--json").json()["files"][0]["sha256"]
    return blob_file(home, sha)


def _db(home: Path) -> closing[database.Connection]:
    """The database through its key, each statement committed at once, closed after the block."""
    return closing(connect(home))


def _writable(blob: Path) -> None:
    os.chmod(blob, stat.S_IRUSR | stat.S_IWUSR)


def _check_fails_with(expected: str) -> str:
    result = run_cli("check")
    assert result.code == 1, result.out + result.err
    assert expected in result.out, result.out
    report = run_cli("check", "--json")
    assert report.code == 1 and report.json()["ok"] is False
    return result.out


@pytest.mark.parametrize("where", [3, len(sealed_blob.MAGIC) + 5, sealed_blob.HEADER + 4, -1],
                         ids=["magic", "salt", "ciphertext", "tag"])
def test_blob_byte_flipped(filled: Path, where: int) -> None:
    blob = _blob(filled, "E-002")
    _writable(blob)
    data = bytearray(blob.read_bytes())
    data[where] ^= 0x01
    blob.write_bytes(bytes(data))
    out = _check_fails_with("E-002 two.txt: the stored file was changed")
    assert "E-001" not in out and "E-003" not in out


def test_blob_cut_short(filled: Path) -> None:
    blob = _blob(filled, "E-001")
    _writable(blob)
    os.truncate(blob, blob.stat().st_size - 1)
    _check_fails_with("E-001 one.txt: the stored file was changed")


def test_blob_files_swapped(filled: Path) -> None:
    """Each file is sealed for its own name: two swapped files open as neither."""
    one, two = _blob(filled, "E-001"), _blob(filled, "E-002")
    swap = one.with_name("swap")
    os.replace(one, swap)
    os.replace(two, one)
    os.replace(swap, two)
    out = _check_fails_with("E-001 one.txt: the stored file was changed")
    assert "E-002 two.txt: the stored file was changed" in out and "E-003" not in out


def test_blob_moved_under_another_blobs_name(filled: Path) -> None:
    one, three = _blob(filled, "E-001"), _blob(filled, "E-003")
    os.replace(one, three)
    out = _check_fails_with("E-001 one.txt: the stored file is missing")
    assert "E-003 three.txt: the stored file was changed" in out


@pytest.mark.parametrize("chunks_left", [1, 2])
def test_blob_cut_at_a_chunk_boundary(filled: Path, tmp_path: Path, chunks_left: int) -> None:
    """Whole chunks cut off the end leave a shorter file of whole chunks: the last one left was not
    sealed as the last, so the cut is found."""
    recording = tmp_path / "recording.m4a"
    recording.write_bytes(os.urandom(2 * sealed_blob.CHUNK + 1000))  # three chunks
    assert run_cli("add", recording).code == 0
    blob = _blob(filled, "E-004")
    _writable(blob)
    os.truncate(blob, sealed_blob.HEADER + chunks_left * sealed_blob.SEALED_CHUNK)
    out = _check_fails_with("E-004 recording.m4a: the stored file was changed")
    assert "E-001" not in out


def test_blob_deleted(filled: Path) -> None:
    _blob(filled, "E-003").unlink()
    _check_fails_with("E-003 three.txt: the stored file is missing")


def test_log_entry_edited(filled: Path) -> None:
    with _db(filled) as db:
        body = db.execute("SELECT body FROM log_entries WHERE seq = 2").fetchone()[0]
        edited = body.replace(b'"time":"2', b'"time":"1')
        assert edited != body
        db.execute("UPDATE log_entries SET body = ? WHERE seq = 2", (edited,))
    out = _check_fails_with("Log entry #2 was changed after it was signed")
    assert "#3" not in out  # one edit is one finding, not a cascade


def test_log_entry_removed_from_the_middle(filled: Path) -> None:
    with _db(filled) as db:
        db.execute("DELETE FROM log_entries WHERE seq = 3")
    out = _check_fails_with("Log entry #3 is missing")
    assert "E-002 has no entry in the custody log" in out


def test_last_log_entry_removed(filled: Path) -> None:
    with _db(filled) as db:
        db.execute("DELETE FROM log_entries WHERE seq = (SELECT MAX(seq) FROM log_entries)")
    _check_fails_with("E-003 has no entry in the custody log")


def test_entry_signed_by_another_key(filled: Path) -> None:
    intruder = nacl.signing.SigningKey.generate()
    with _db(filled) as db:
        body = db.execute("SELECT body FROM log_entries WHERE seq = 4").fetchone()[0]
        fields = json.loads(body)
        fields["signer"] = keys.public_key_string(bytes(intruder.verify_key))
        forged = rfc8785.dumps(fields)
        db.execute("UPDATE log_entries SET body = ?, signature = ? WHERE seq = 4",
                   (forged, intruder.sign(forged).signature))
    _check_fails_with("Log entry #4 is signed by an unknown key")


def test_item_record_changed(filled: Path) -> None:
    with _db(filled) as db:
        record = db.execute("SELECT record FROM items WHERE number = 1").fetchone()[0]
        db.execute("UPDATE items SET record = ? WHERE number = 1", (record.replace(b"one.txt", b"won.txt"),))
    _check_fails_with("The record of E-001 was changed after it was logged")


def test_item_row_deleted(filled: Path) -> None:
    with _db(filled) as db:
        db.execute("DELETE FROM items WHERE number = 2")
    _check_fails_with("E-002 is recorded in the custody log but is missing from the locker")


@pytest.mark.parametrize("page", ["first", "middle", "last"])
def test_database_byte_flipped(filled: Path, page: str) -> None:
    """Every page of the database is authenticated, also those the case's rows are not on: a flipped
    byte is a damaged locker, said in one sentence, never a traceback or an internal error."""
    db = filled / layout.DATABASE
    assert not (filled / f"{layout.DATABASE}-wal").exists()  # all of it is in the file itself
    data = bytearray(db.read_bytes())
    pages = len(data) // PAGE
    number = {"first": 0, "middle": pages // 2, "last": pages - 1}[page]
    data[number * PAGE + 100] ^= 0x01
    db.write_bytes(bytes(data))
    for command in (("check",), ("check", "--json"), ("list",)):
        result = run_cli(*command)
        if command == ("list",) and result.code == 0:
            continue  # the page it reads may be whole: only check must look at every page
        assert result.code == 2, command + (result.out, result.err)
        assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1, result.err
        assert "damaged" in result.err and result.out == "", result.err
