"""The errors evidencekit raises, each carrying a sentence a worker understands and an exit code.

Exit codes: 0 all is well, 1 a check or verification found a problem, 2 bad input or usage.
Messages are catalog keys (see :mod:`evidencekit.i18n`) so the same error reads in bokmål or
English; the CLI prints ``str(error)`` and exits with ``error.exit_code``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlite3

from evidencekit.i18n import t


class EvidencekitError(Exception):
    """Base of every error meant for the person at the keyboard."""

    exit_code = 2

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def message(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message()


class UserError(EvidencekitError):
    """Bad input or usage: a missing file, an unknown item, a wrong passphrase."""


class NotFound(UserError):
    """A case, an item or a file the user named does not exist."""


class WrongPassphrase(UserError):
    """The passphrase does not open the key."""


class LockerError(UserError):
    """The locker cannot be used as it is (newer schema, not a locker, no identity yet)."""


class Locked(UserError):
    """The locker is encrypted and no passphrase was given: ``evidencekit unlock`` first."""


class VerificationFailed(EvidencekitError):
    """A check found that evidence, a log, a signature or a proof does not hold."""

    exit_code = 1


class DiskFull(UserError):
    """The disk (or the quota) holding ``path`` (None: not known) ran out of room while writing."""

    def __init__(self, path: Path | str | None) -> None:
        if path is None:
            super().__init__("locker.disk_full_somewhere")
        else:
            super().__init__("locker.disk_full", path=str(path))


_NO_ROOM = (errno.ENOSPC, errno.EDQUOT)
_SQLITE_FULL = 13
_SQLITE_DAMAGED = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB: a page that fails its check reads so
_SQLITE_IOERR = 10
_SQLITE_IOERR_SHMSIZE = _SQLITE_IOERR | (19 << 8)  # the shared-memory file could not grow
_SHM_ROOM = 64 * 1024  # SQLite grows its shared-memory file 32 KiB at a time


def is_no_room(error: BaseException, folder: Path | str | None = None) -> bool:
    """Whether ``error`` means a full disk or quota, as the OS or SQLite reports it.

    SQLCipher's module reports SQLite's primary code only, so a shared-memory file that could not
    grow is a bare I/O error: given the ``folder`` SQLite writes in, one on a disk with no room
    left for that file counts as a full disk too."""
    if isinstance(error, OSError):
        return error.errno in _NO_ROOM
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", 0)
        if code & 0xFF == _SQLITE_FULL or code == _SQLITE_IOERR_SHMSIZE:
            return True
        return code == _SQLITE_IOERR and folder is not None and _room_left(folder) < _SHM_ROOM
    return False


def _room_left(folder: Path | str) -> int:
    try:
        info = os.statvfs(folder)
    except OSError:
        return _SHM_ROOM
    return info.f_bavail * info.f_frsize


def disk_full(error: BaseException) -> DiskFull | None:
    """``error`` as :class:`DiskFull` if it means a full disk: the last resort where no code closer
    to the write named the folder (the file's folder when the error knows it)."""
    if not is_no_room(error):
        return None
    filename = getattr(error, "filename", None)
    return DiskFull(Path(os.fsdecode(filename)).parent if filename else None)


def damaged_database(error: BaseException) -> LockerError | None:
    """``error`` as :class:`LockerError` if SQLite found a page of the locker's database that does
    not check out (SQLCipher authenticates every page): the last resort, whatever query read it."""
    code = getattr(error, "sqlite_errorcode", 0) if isinstance(error, sqlite3.DatabaseError) else 0
    return LockerError("locker.database_damaged", reason=str(error)) if code & 0xFF in _SQLITE_DAMAGED else None


@contextmanager
def naming_full_disk(folder: Path | str) -> Iterator[None]:
    """A full disk while writing under ``folder`` becomes :class:`DiskFull` naming it.

    Why: a bare ``ENOSPC`` otherwise surfaces as whatever the code around it guessed ("damaged",
    "cannot be read", an internal error), and the person cannot act on that.
    """
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        if is_no_room(error, folder):
            raise DiskFull(folder) from error
        raise
