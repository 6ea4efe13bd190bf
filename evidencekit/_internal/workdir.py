"""Folders a running process owns, found and removed by whoever comes next once their owner is gone.

A command's temporary work (an export copied, a page captured, a browser's profile) must not outlive
it, but SIGKILL gives no chance to clean up. So each such folder holds a file its owner keeps
locked (``flock``) for as long as it runs; the kernel drops the lock when the process dies, however
it dies. The next process that can take the lock knows the owner is gone and removes the folder.
A folder is locked before it gets its final name, so nobody sees it unlocked while its owner lives.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LOCK = "lock"
SETTING_UP = ".new-"
#: A folder still being set up (its owner may have died right then) is removed once this old, in seconds.
GRACE = 15 * 60


@dataclass
class Owned:
    """A folder this process owns, and the open, locked file that says so."""

    path: Path
    fd: int

    @classmethod
    def create(cls, parent: Path, prefix: str) -> Owned:
        """A new private folder ``parent/prefix…``, locked before it is given that name.

        Another process may take a folder still being set up for one whose owner died (its lock
        file exists and is not held) in the instant between the file's creation and its lock, and
        remove it: then the rename finds nothing, and the setup starts again."""
        while True:
            setting_up = Path(tempfile.mkdtemp(prefix=SETTING_UP + prefix, dir=parent))
            fd = os.open(setting_up / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            path = parent / setting_up.name.removeprefix(SETTING_UP)
            try:
                os.rename(setting_up, path)
            except FileNotFoundError:
                os.close(fd)
                continue
            return cls(path, fd)

    def release(self) -> None:
        """Let go of the folder as it is: the next process to look removes it."""
        os.close(self.fd)

    def remove(self) -> None:
        remove(self.path)
        self.release()


def claim_abandoned(parent: Path, prefix: str) -> list[tuple[Path, int]]:
    """Folders ``parent/prefix…`` whose owner is gone, each with its lock now held by the caller
    (close the descriptor when done). A setup left half-way is removed at once when its lock file
    is there and free (its owner died setting up), else once older than GRACE (killed before the
    lock file existed: nothing tells that from a setup under way)."""
    claimed = []
    for entry in parent.iterdir():
        if entry.name.startswith(SETTING_UP + prefix):
            fd = _claim(entry / LOCK)
            if fd is not None or older_than(entry, GRACE):
                remove(entry)
            if fd is not None:
                os.close(fd)
        elif entry.name.startswith(prefix) and entry.is_dir() and not entry.is_symlink():
            fd = _claim(entry / LOCK)
            if fd is not None:
                claimed.append((entry, fd))
    return claimed


def remove_abandoned(parent: Path, prefix: str) -> None:
    for folder, fd in claim_abandoned(parent, prefix):
        remove(folder)
        os.close(fd)


def _claim(lock: Path) -> int | None:
    """The lock of a gone owner, now held; None while its owner runs (or with no lock file)."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def remove(path: Path) -> None:
    """Remove a file or a whole folder, also one holding read-only folders (a copied export)."""
    if not path.is_dir() or path.is_symlink():
        path.unlink(missing_ok=True)
        return
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():  # a folder without write permission: ours, so make it writable first
        os.chmod(path, stat.S_IRWXU)
        for folder, dirs, _ in os.walk(path):
            for name in dirs:
                if not os.path.islink(os.path.join(folder, name)):
                    os.chmod(os.path.join(folder, name), stat.S_IRWXU)
        shutil.rmtree(path, ignore_errors=True)


def older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > seconds
    except FileNotFoundError:
        return False
