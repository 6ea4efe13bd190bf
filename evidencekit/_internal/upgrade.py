"""Turn a locker from before encryption at rest into an encrypted one, crash-safely.

The new locker is built whole in ``upgrade.tmp/`` beside the old one: the database copied page by
page into SQLCipher, the signing keys sealed again under the new locker key, every blob sealed
under its new name, and in each case's custody log an entry saying so. Then its parts move into
the locker folder under names the old locker does not use (``locker.db``, ``store/``), and last
``locker.key``: that one rename is the switch. Killed before it, the folder holds the old locker
(and leftovers the next ``upgrade`` clears); after it, the new one (and leftovers of the old one,
which the next opening removes). Never a mix.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3 as plain_sqlite
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nacl.signing

from evidencekit import __version__
from evidencekit._internal import blobstore, database, keys, locker_key, stamp_queue
from evidencekit._internal.progress import Progress, running
from evidencekit.errors import LockerError, naming_full_disk

if TYPE_CHECKING:
    from evidencekit.locker import Locker

STAGING = "upgrade.tmp"
PLAIN_BLOBS = "blobs"
UPGRADE_TYPE = "evidencekit.upgrade"


@dataclass(frozen=True)
class Upgraded:
    cases: int
    blobs: int
    size: int


def remove_leftovers(home: Path) -> None:
    """After the switch: the old locker's files and a staging folder. Only ever called when
    ``locker.key`` exists, so what is removed is no longer the locker in force."""
    from evidencekit.locker import PLAIN_DATABASE

    for name in (PLAIN_DATABASE, f"{PLAIN_DATABASE}-wal", f"{PLAIN_DATABASE}-shm"):
        (home / name).unlink(missing_ok=True)
    for folder in (home / PLAIN_BLOBS, home / STAGING):
        if folder.exists():
            _remove_tree(folder)


def _remove_new_leftovers(home: Path) -> None:
    """Before the switch (no ``locker.key``): what a killed upgrade left of the new locker."""
    from evidencekit.locker import BLOBS, DATABASE

    for name in (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm"):
        (home / name).unlink(missing_ok=True)
    for folder in (home / BLOBS, home / STAGING):
        if folder.exists():
            _remove_tree(folder)


def upgrade(home: Path, passphrase: str, progress: Progress | None = None) -> Upgraded:
    """Upgrade the plain locker in ``home``; a wrong passphrase or a failure leaves it as it was."""
    from evidencekit.locker import BLOBS, DATABASE, PLAIN_DATABASE, Locker

    state = Locker.state(home)
    if state == "encrypted":
        raise LockerError("upgrade.already")
    if state == "none":
        raise LockerError("keys.no_identity")
    old = plain_sqlite.connect(f"file:{home / PLAIN_DATABASE}?mode=ro", uri=True, isolation_level=None)
    try:
        signers = _unsealed_keys(old, passphrase)  # WrongPassphrase before anything is written
        with naming_full_disk(home):
            _remove_new_leftovers(home)
            staging = home / STAGING
            blobstore.private_folder(staging)
            master = secrets.token_bytes(32)
            keys_ = locker_key.LockerKeys.derive(master)
            _copy_database(home / PLAIN_DATABASE, staging / DATABASE, keys_.database)
        locker = Locker(staging, keys_, passphrase)
        try:
            count, size = _seal_blobs(home / PLAIN_BLOBS, locker.blobs, progress)
            cases = _record(locker, signers, keys_.seeds)
        finally:
            locker.close()
        strength = _strength(old)
    finally:
        old.close()
    with naming_full_disk(home):
        _settle(staging / DATABASE, keys_.database)
        locker_key.write(staging / locker_key.FILE, master, passphrase, strength)
        os.replace(staging / BLOBS, home / BLOBS)
        os.replace(staging / DATABASE, home / DATABASE)
        _fsync(home)
        os.replace(staging / locker_key.FILE, home / locker_key.FILE)  # the switch
        _fsync(home)
        remove_leftovers(home)
    return Upgraded(cases, count, size)


def _unsealed_keys(old: plain_sqlite.Connection, passphrase: str) -> dict[int, nacl.signing.SigningKey]:
    rows = old.execute("SELECT id, public_key, sealed_seed, kdf FROM keys").fetchall()
    if not rows:
        raise LockerError("keys.no_identity")
    return {key_id: keys.unseal_with_passphrase(keys.SealedKey(bytes(pk), bytes(seed), kdf), passphrase)
            for key_id, pk, seed, kdf in rows}


def _strength(old: plain_sqlite.Connection) -> str:
    kdf = old.execute("SELECT kdf FROM keys WHERE role = 'identity'").fetchone()[0]
    return str(json.loads(kdf).get("strength", "moderate"))


def _copy_database(plain: Path, encrypted: Path, key: bytes) -> None:
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


def _seal_blobs(plain: Path, store: blobstore.BlobStore, progress: Progress | None) -> tuple[int, int]:
    """Every blob of the plain store, sealed into ``store``; how many and their bytes."""
    if not plain.is_dir():
        return 0, 0
    blobs = sorted(blob for folder in plain.iterdir() if len(folder.name) == 2 and folder.is_dir()
                   for blob in folder.iterdir())
    total = sum(blob.stat().st_size for blob in blobs)
    advance = running(progress, "upgrading", total)
    with store.storing():
        for blob in blobs:
            with open(blob, "rb") as source:
                store.put_stream(source, advance)
    return len(blobs), total


def _record(locker: Locker, signers: dict[int, nacl.signing.SigningKey], seed_key: bytes) -> int:
    """Seal every signing key again under the locker key; log the upgrade in every case."""
    db = locker.db
    with database.transaction(db):
        for key_id, signer in signers.items():
            sealed = keys.seal(signer, seed_key)
            db.execute("UPDATE keys SET sealed_seed = ?, kdf = ? WHERE id = ?", (sealed.sealed_seed, sealed.kdf, key_id))
        cases = db.execute("SELECT id, key_id FROM cases ORDER BY created").fetchall()
        for case_id, key_id in cases:
            entry = locker._log_record(case_id, signers[key_id], "locker.upgrade", UPGRADE_TYPE,
                                       {"to": "encrypted at rest", "tool": f"evidencekit {__version__}"})
            stamp_queue.request(db, case_id, entry.seq, entry.digest)
    return len(cases)


def _settle(path: Path, key: bytes) -> None:
    """Fold the write-ahead log into the database file, so the one file moves whole."""
    conn = database.sqlite3.connect(str(path), isolation_level=None)
    try:
        database.use_key(conn, key)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync(path.parent)


def _fsync(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
