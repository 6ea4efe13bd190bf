"""The steps of turning a locker made before encryption at rest into an encrypted one.

The new locker is built whole in ``upgrade.tmp/`` beside the old one (see ``evidencekit.upgrading``
for the order): the database copied page by page into SQLCipher, every blob sealed under its new
name. Then :func:`switch` moves its parts into the locker folder under names the old locker does
not use (``locker.db``, ``store/``), and last ``locker.key``: that one rename is the switch. Killed
before it, the folder holds the old locker and leftovers :func:`remove_new_leftovers` clears; after
it, the new one and leftovers of the old one, which :func:`remove_leftovers` clears at the next
opening. Never a mix.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3 as plain_sqlite
import re
from pathlib import Path

import nacl.signing

from evidencekit._internal import blobstore, database, keys
from evidencekit._internal.layout import BLOBS, DATABASE, KEY, PLAIN_BLOBS, PLAIN_DATABASE, STAGING
from evidencekit._internal.progress import Progress, running
from evidencekit.errors import DiskFull, LockerError

#: room beyond a copy of the old locker: the databases' shared memory and journals, the new log
#: entries, the sealed blobs' headers and tags
SPARE_ROOM = 1 << 20

_SHA256 = re.compile(r"[0-9a-f]{64}")


def remove_leftovers(home: Path) -> None:
    """After the switch: the old locker's files and a staging folder. Call only when ``locker.key``
    exists, so that what is removed is no longer the locker in force."""
    _remove(home, PLAIN_DATABASE, PLAIN_BLOBS)


def remove_new_leftovers(home: Path) -> None:
    """Before the switch (no ``locker.key``): what a killed upgrade left of the new locker."""
    _remove(home, DATABASE, BLOBS)


def _remove(home: Path, database_name: str, blobs: str) -> None:
    for name in (database_name, f"{database_name}-wal", f"{database_name}-shm"):
        (home / name).unlink(missing_ok=True)
    for folder in (home / blobs, home / STAGING):
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def ensure_room(home: Path) -> None:
    """DiskFull at once, before anything is written, when the disk cannot hold the new locker beside
    the old one: found half way, the refusal would come after most of the work (and SQLite's own
    reading of the old database needs a little room)."""
    plain = [home / PLAIN_DATABASE, home / f"{PLAIN_DATABASE}-wal", *_plain_blobs(home / PLAIN_BLOBS)]
    size = sum(path.stat().st_size for path in plain if path.exists())
    if shutil.disk_usage(home).free < size + size // 32 + SPARE_ROOM:
        raise DiskFull(home)


def open_plain(home: Path) -> plain_sqlite.Connection:
    """The old database, read only: the upgrade never changes the old locker."""
    return plain_sqlite.connect(f"file:{home / PLAIN_DATABASE}?mode=ro", uri=True, isolation_level=None)


def unsealed_keys(old: plain_sqlite.Connection, passphrase: str) -> dict[int, nacl.signing.SigningKey]:
    """Every signing key of the old locker, opened with the passphrase (WrongPassphrase if it is not hers)."""
    rows = old.execute("SELECT id, public_key, sealed_seed, kdf FROM keys").fetchall()
    if not rows:
        raise LockerError("keys.no_identity")
    return {key_id: keys.unseal_with_passphrase(keys.SealedKey(bytes(pk), bytes(seed), kdf), passphrase)
            for key_id, pk, seed, kdf in rows}


def strength(old: plain_sqlite.Connection) -> str:
    """The KDF strength the worker chose at ``init``; the new locker key is sealed with the same."""
    kdf = old.execute("SELECT kdf FROM keys WHERE role = 'identity'").fetchone()[0]
    return str(json.loads(kdf).get("strength", "moderate"))


def copy_database(plain: Path, encrypted: Path, key: bytes) -> None:
    """Every table and the schema version, into a new SQLCipher file (SQLCipher's own export)."""
    conn = database.sqlite3.connect(str(plain), isolation_level=None)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"ATTACH DATABASE ? AS sealed KEY \"x'{key.hex()}'\"", (str(encrypted),))
        conn.execute("SELECT sqlcipher_export('sealed')")
        conn.execute(f"PRAGMA sealed.user_version = {int(version)}")
        conn.execute("DETACH DATABASE sealed")
    finally:
        conn.close()
    os.chmod(encrypted, blobstore.PRIVATE_FILE)


def seal_blobs(plain: Path, store: blobstore.BlobStore, progress: Progress | None) -> tuple[int, int]:
    """Every blob of the plain store, sealed into ``store``; how many and their bytes."""
    blobs = _plain_blobs(plain)
    total = sum(blob.stat().st_size for blob in blobs)
    advance = running(progress, "upgrading", total)
    with store.storing():
        for blob in blobs:
            with open(blob, "rb") as source:  # under the name it had: a damaged one stays damaged
                store.put_stream(source, advance, known_as=blob.name if _SHA256.fullmatch(blob.name) else None)
    return len(blobs), total


def _plain_blobs(plain: Path) -> list[Path]:
    """The blob files of a plain store (``xx/<sha256>``), not its work folder."""
    if not plain.is_dir():
        return []
    return sorted(blob for folder in plain.iterdir() if len(folder.name) == 2 and folder.is_dir()
                  for blob in folder.iterdir())


def switch(home: Path, staging: Path, database_key: bytes) -> None:
    """Move the finished encrypted locker into place; the rename of ``locker.key`` is the switch."""
    _settle(staging / DATABASE, database_key)
    os.replace(staging / BLOBS, home / BLOBS)
    os.replace(staging / DATABASE, home / DATABASE)
    blobstore.fsync(home)
    os.replace(staging / KEY, home / KEY)
    blobstore.fsync(home)
    remove_leftovers(home)


def _settle(path: Path, key: bytes) -> None:
    """Fold the write-ahead log into the database file, so that one file moves whole."""
    conn = database.sqlite3.connect(str(path), isolation_level=None)
    try:
        database.use_key(conn, key)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    blobstore.fsync(path)
    blobstore.fsync(path.parent)
