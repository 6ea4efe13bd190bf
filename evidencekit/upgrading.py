"""Upgrade a locker made before encryption at rest: afterwards nothing in it is readable without
the passphrase. Crash-safe: killed at any moment, the folder holds the old locker or the new one,
never a mix (see ``evidencekit._internal.upgrade``); the custody log of every case records it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import nacl.signing

from evidencekit import __version__
from evidencekit._internal import blobstore, database, keys, locker_key, stamp_queue
from evidencekit._internal import upgrade as steps
from evidencekit._internal.layout import DATABASE, KEY, PLAIN_BLOBS, PLAIN_DATABASE, STAGING
from evidencekit._internal.progress import Progress
from evidencekit.errors import LockerError, naming_full_disk
from evidencekit.locker import Locker, default_home

__all__ = ["Upgraded", "needed", "upgrade"]

UPGRADE_TYPE = "evidencekit.upgrade"


@dataclass(frozen=True)
class Upgraded:
    cases: int
    blobs: int
    size: int


def needed(home: Path | str | None) -> Path:
    """The locker folder, if it holds a locker to upgrade; else the one sentence saying why not.

    An encrypted locker is told so, after losing what an upgrade killed past its switch left of
    the plain one: "encrypted already" must be true of every file in the folder."""
    home = Path(home) if home else default_home()
    state = Locker.state(home)
    if state == "encrypted":
        steps.remove_leftovers(home)
        raise LockerError("upgrade.already")
    if state == "none":
        raise LockerError("keys.no_identity")
    return home


def upgrade(home: Path | str | None, passphrase: str, progress: Progress | None = None) -> Upgraded:
    """Encrypt the locker in ``home`` under ``passphrase`` (its current one, checked first).

    A wrong passphrase, a full disk or a kill leaves the old locker as it was; what a failure
    built of the new one is removed at once (a kill's, by the next upgrade)."""
    home = needed(home)
    steps.remove_new_leftovers(home)  # of a killed upgrade: useless, and they take room
    steps.ensure_room(home)
    old = steps.open_plain(home)
    try:
        signers = steps.unsealed_keys(old, passphrase)  # before anything is written
        strength = steps.strength(old)
    finally:
        old.close()
    staging = home / STAGING
    master = secrets.token_bytes(32)
    keys_ = locker_key.LockerKeys.derive(master)
    with naming_full_disk(home):
        try:
            blobstore.private_folder(staging)
            steps.copy_database(home / PLAIN_DATABASE, staging / DATABASE, keys_.database)
            locker = Locker(staging, keys_, passphrase)
            try:
                count, size = steps.seal_blobs(home / PLAIN_BLOBS, locker.blobs, progress)
                cases = _record(locker, signers, keys_.seeds)
            finally:
                locker.close()
            locker_key.write(staging / KEY, master, passphrase, strength)
            steps.switch(home, staging, keys_.database)
        except BaseException:
            if Locker.state(home) == "plain":  # not switched over: the old locker stays, alone
                steps.remove_new_leftovers(home)
            raise
    return Upgraded(cases, count, size)


def _record(locker: Locker, signers: dict[int, nacl.signing.SigningKey], seed_key: bytes) -> int:
    """Seal every signing key again under the locker key; log the upgrade in every case."""
    db = locker.db
    with database.transaction(db):
        for key_id, signer in signers.items():
            sealed = keys.seal(signer, seed_key)
            db.execute("UPDATE keys SET sealed_seed = ?, kdf = ? WHERE id = ?", (sealed.sealed_seed, sealed.kdf, key_id))
        cases = db.execute("SELECT id, key_id FROM cases ORDER BY created").fetchall()
        for case_id, key_id in cases:
            entry = locker.log_record(case_id, signers[key_id], "locker.upgrade", UPGRADE_TYPE,
                                      {"to": "encrypted at rest", "tool": f"evidencekit {__version__}"})
            stamp_queue.request(db, case_id, entry.seq, entry.digest)
    return len(cases)
