"""``check`` passes on a clean case and names exactly what was tampered with."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import nacl.signing
import pytest
import rfc8785

from conftest import PASSPHRASE, run_cli
from evidencekit._internal import keys


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
    return home / "blobs" / sha[:2] / sha


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "locker.sqlite", isolation_level=None)


def _check_fails_with(expected: str) -> str:
    result = run_cli("check")
    assert result.code == 1, result.out + result.err
    assert expected in result.out, result.out
    report = run_cli("check", "--json")
    assert report.code == 1 and report.json()["ok"] is False
    return result.out


def test_blob_byte_flipped(filled: Path) -> None:
    blob = _blob(filled, "E-002")
    os.chmod(blob, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(blob.read_bytes())
    data[3] ^= 0x01
    blob.write_bytes(bytes(data))
    _check_fails_with("E-002 two.txt: the stored file was changed")


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
