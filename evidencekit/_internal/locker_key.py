"""The locker key: one random 32-byte key that encrypts everything in the locker, sealed under the
passphrase in the file ``locker.key``.

The passphrase opens it with the argon2id KDF and SecretBox of :mod:`keys` (the strength chosen at
``init``); every other key is derived from it, one per use, so no key serves two purposes. The
file is the only thing in a locker that can be read without the passphrase, and it says no more
than that a locker exists and how hard its passphrase is to guess by trial. Its presence is also
what makes a folder an encrypted locker: ``upgrade`` switches an older locker over by renaming
it into place, last.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from evidencekit._internal import keys
from evidencekit._internal.layout import KEY
from evidencekit.errors import LockerError

FORMAT = "evidencekit.locker-key"
VERSION = 1


@dataclass(frozen=True)
class LockerKeys:
    """The keys derived from the locker key, each for one purpose."""

    database: bytes  # SQLCipher's raw key for the database file
    blob_content: bytes  # per-blob keys are derived from it and each blob's random salt
    blob_name: bytes  # HMAC key naming a blob by its plaintext SHA-256
    seeds: bytes  # SecretBox key sealing the signing keys' seeds

    @classmethod
    def derive(cls, master: bytes) -> LockerKeys:
        def sub(purpose: str) -> bytes:
            return hmac.new(master, f"evidencekit locker key v1: {purpose}".encode("ascii"), hashlib.sha256).digest()

        return cls(sub("database"), sub("blob content"), sub("blob name"), sub("signing key seeds"))


def exists(home: Path) -> bool:
    return (home / KEY).exists()


def write(path: Path, master: bytes, passphrase: str, strength: str) -> None:
    """Seal ``master`` and write it whole, flushed, under ``path`` (never over an existing file)."""
    sealed, kdf = keys.seal_with_passphrase(master, passphrase, strength)
    body = json.dumps({"type": FORMAT, "v": VERSION, "kdf": kdf,
                       "sealed": base64.b64encode(sealed).decode("ascii")}, indent=1)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, body.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_master(path: Path, passphrase: str) -> bytes:
    """The locker key in ``path``, opened with ``passphrase``; a wrong one raises WrongPassphrase."""
    try:
        data = json.loads(path.read_text("ascii"))
        kdf = data["kdf"]
        if data.get("type") != FORMAT or data.get("v") != VERSION or kdf["alg"] != "argon2id":
            raise ValueError(data.get("type"))
        bytes.fromhex(kdf["salt"]), int(kdf["ops"]), int(kdf["mem"])  # all there, each of its kind
        sealed = base64.b64decode(data["sealed"], validate=True)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise LockerError("locker.key_unreadable", path=str(path)) from exc
    return keys.open_with_passphrase(sealed, kdf, passphrase)


def strength(path: Path) -> str:
    """The KDF strength the locker key was sealed with (new anonymous keys use the same)."""
    return str(json.loads(path.read_text("ascii"))["kdf"]["strength"])


def open_keys(home: Path, passphrase: str) -> LockerKeys:
    return LockerKeys.derive(read_master(home / KEY, passphrase))
