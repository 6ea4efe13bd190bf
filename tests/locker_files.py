"""The encrypted locker's files, opened as a test must to change them by hand: the database with its
key, and the file that holds a blob. Tests that tamper or inspect go through here, so a change of
how the locker stores its bytes is followed in one place."""

from __future__ import annotations

from pathlib import Path

from conftest import PASSPHRASE

from evidencekit._internal import database, layout, locker_key, sealed_blob
from evidencekit.locker import Locker


def make_locker(home: Path, strength: str = "interactive") -> Locker:
    """A new locker with an identity, opened by the suite's passphrase (quick KDF)."""
    return Locker.create(home, PASSPHRASE, strength)


def open_locker(home: Path) -> Locker:
    return Locker.open(home, PASSPHRASE)


def connect(home: Path) -> database.sqlite3.Connection:
    """The locker's database, decrypted with its key, for a test to read or change rows directly."""
    keys = locker_key.open_keys(home, PASSPHRASE)
    conn = database.sqlite3.connect(str(home / layout.DATABASE), isolation_level=None, timeout=30)
    database.use_key(conn, keys.database)
    return conn


def blob_file(home: Path, sha256: str) -> Path:
    """The file on disk that holds the blob of these bytes (sealed, under its HMAC name)."""
    name = sealed_blob.file_name(locker_key.open_keys(home, PASSPHRASE).blob_name, sha256)
    return home / layout.BLOBS / name[:2] / name


def blob_files(home: Path) -> list[Path]:
    """Every blob file in the store."""
    return sorted(p for p in (home / layout.BLOBS).glob("??/*") if p.is_file())


def work_folders(home: Path) -> list[Path]:
    """The work folders of commands (running, or killed and not yet cleared)."""
    return list((home / layout.BLOBS / "tmp").glob("work-*"))
