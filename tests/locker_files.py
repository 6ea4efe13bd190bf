"""The encrypted locker's files, opened as a test must to change them by hand: the database with its
key, and the file that holds a blob. Tests that tamper or inspect go through here, so a change of
how the locker stores its bytes is followed in one place."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from conftest import PASSPHRASE

from evidencekit._internal import database, layout, locker_key, sealed_blob
from evidencekit.locker import Locker


def make_locker(home: Path, strength: str = "interactive") -> Locker:
    """A new locker with an identity, opened by the suite's passphrase (quick KDF)."""
    return Locker.create(home, PASSPHRASE, strength)


def open_locker(home: Path) -> Locker:
    return Locker.open(home, PASSPHRASE)


def keys(home: Path) -> locker_key.LockerKeys:
    """The locker's keys, opened once per key file (kill campaigns ask for them at every trial)."""
    key_file = home / layout.KEY
    return _keys_sealed_in(key_file, key_file.read_bytes())


@functools.lru_cache(maxsize=16)
def _keys_sealed_in(key_file: Path, sealed: bytes) -> locker_key.LockerKeys:
    return locker_key.LockerKeys.derive(locker_key.read_master(key_file, PASSPHRASE))


def connect(home: Path) -> database.sqlite3.Connection:
    """The locker's database, decrypted with its key, for a test to read or change rows directly."""
    conn = database.sqlite3.connect(str(home / layout.DATABASE), isolation_level=None, timeout=30)
    database.use_key(conn, keys(home).database)
    return conn


def blob_file(home: Path, sha256: str) -> Path:
    """The file on disk that holds the blob of these bytes (sealed, under its HMAC name)."""
    name = sealed_blob.file_name(keys(home).blob_name, sha256)
    return home / layout.BLOBS / name[:2] / name


def blob_files(home: Path) -> list[Path]:
    """Every blob file in the store."""
    return sorted(p for p in (home / layout.BLOBS).glob("??/*") if p.is_file())


def stray_blob_files(home: Path, recorded: Iterable[str]) -> list[Path]:
    """The blob files in the store that hold none of the ``recorded`` SHA-256s (orphans)."""
    wanted = {blob_file(home, sha256) for sha256 in recorded}
    return [p for p in blob_files(home) if p not in wanted]


def write_blob_file(home: Path, data: bytes) -> Path:
    """Seal ``data`` into its blob file as the store does, without recording it anywhere: what a
    command killed between storing and recording leaves (an orphan)."""
    path = blob_file(home, hashlib.sha256(data).hexdigest())
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o400)
    try:
        writer = sealed_blob.Writer(fd, keys(home).blob_content)
        writer.write(data)
        writer.finish(path.name)
    finally:
        os.close(fd)
    return path


def work_folders(home: Path) -> list[Path]:
    """The work folders of commands (running, or killed and not yet cleared)."""
    return list((home / layout.BLOBS / "tmp").glob("work-*"))
