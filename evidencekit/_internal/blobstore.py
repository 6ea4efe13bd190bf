"""Content-addressed storage of evidence bytes.

A blob is named by the SHA-256 of its bytes. It is written to a temporary file in the same file
system, flushed to disk, renamed into place and made read-only, so a crash leaves either no blob
or a whole one (at worst an orphan nobody refers to), never a half-written file under a real name.
Hashing and writing run side by side (both release the GIL) so storing costs little more than
hashing alone.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import queue
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 4 * 1024 * 1024
FLUSH_EVERY = 64 * 1024 * 1024
_NO_KERNEL_COPY = (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF)
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put_stream(self, source: BinaryIO, progress: Callable[[int], None] | None = None) -> StoredBlob:
        tmp_path = self.tmp / f"{os.getpid()}-{secrets.token_hex(8)}"
        fd = os.open(tmp_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            digest, size = _copy_hashing(source, fd, progress)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp_path.unlink(missing_ok=True)
            raise
        os.close(fd)
        return self._commit(tmp_path, digest, size)

    def put_bytes(self, data: bytes) -> StoredBlob:
        return self.put_stream(io.BytesIO(data))

    def _commit(self, tmp_path: Path, sha256: str, size: int) -> StoredBlob:
        final = self.path(sha256)
        if final.exists():
            tmp_path.unlink()
            return StoredBlob(sha256, size)
        final.parent.mkdir(exist_ok=True)
        os.chmod(tmp_path, READ_ONLY)
        os.replace(tmp_path, final)
        _fsync_dir(final.parent)
        return StoredBlob(sha256, size)

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def state(self, sha256: str) -> str:
        """``"ok"``, ``"missing"`` or ``"changed"``: the bytes hashed anew, nothing trusted."""
        try:
            with self.open(sha256) as blob:
                actual = hashlib.file_digest(blob, "sha256").hexdigest()
        except FileNotFoundError:
            return "missing"
        return "ok" if actual == sha256 else "changed"

    def all_names(self) -> Iterator[str]:
        for folder in self.root.iterdir():
            if len(folder.name) == 2 and folder.is_dir():
                yield from (p.name for p in folder.iterdir())

    def remove_stale_temporaries(self) -> None:
        """Temp files of writers that died (their pid is gone) are useless halves: drop them."""
        for leftover in self.tmp.iterdir():
            pid = leftover.name.partition("-")[0]
            if pid.isdigit() and not _alive(int(pid)) and leftover.is_file():
                leftover.unlink(missing_ok=True)


def _copy_hashing(source: BinaryIO, fd: int, progress: Callable[[int], None] | None) -> tuple[str, int]:
    """Copy ``source`` to ``fd``, returning the SHA-256 and size of the bytes written."""
    try:
        source_fd = source.fileno()
        kernel_copy = stat.S_ISREG(os.fstat(source_fd).st_mode) and source.tell() == 0
    except (AttributeError, OSError, io.UnsupportedOperation):
        kernel_copy = False
    if kernel_copy:
        try:
            return _kernel_copy_hashing(source_fd, fd, progress)
        except _NoKernelCopy:
            os.lseek(source_fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
    return _threaded_copy_hashing(source, fd, progress)


class _NoKernelCopy(Exception):
    """This file system pair cannot copy in the kernel; fall back to reading and writing."""


def _kernel_copy_hashing(source_fd: int, fd: int, progress: Callable[[int], None] | None) -> tuple[str, int]:
    """The kernel copies (no bytes through Python) while this thread hashes what has landed.

    What is hashed is read back from the new blob itself, so the name always matches the stored
    bytes, even if the source changes meanwhile. Periodic flushes let the disk write while we hash.
    """
    copied = 0
    finished = threading.Event()
    landed = threading.Condition()
    failure: list[BaseException] = []

    def copy() -> None:
        nonlocal copied
        flushed = 0
        try:
            while n := os.copy_file_range(source_fd, fd, CHUNK * 4):
                with landed:
                    copied += n
                    landed.notify()
                if copied - flushed >= FLUSH_EVERY:
                    os.fdatasync(fd)
                    flushed = copied
        except OSError as exc:
            failure.append(_NoKernelCopy() if copied == 0 and exc.errno in _NO_KERNEL_COPY else exc)
        finally:
            with landed:
                finished.set()
                landed.notify()

    copier = threading.Thread(target=copy, daemon=True)
    copier.start()
    digest, position = hashlib.sha256(), 0
    while True:
        with landed:
            while copied == position and not finished.is_set():
                landed.wait()
            available = copied
        if available == position:
            break
        while position < available:
            chunk = os.pread(fd, min(CHUNK, available - position), position)
            digest.update(chunk)
            position += len(chunk)
            if progress:
                progress(len(chunk))
    copier.join()
    if failure:
        raise failure[0]
    return digest.hexdigest(), position


def _threaded_copy_hashing(source: BinaryIO, fd: int, progress: Callable[[int], None] | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def write() -> None:
        while (chunk := chunks.get()) is not None:
            if failure:
                continue
            try:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            except BaseException as exc:  # handed to the reading thread
                failure.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    size = 0
    try:
        while chunk := source.read(CHUNK):
            if failure:
                break
            digest.update(chunk)
            size += len(chunk)
            chunks.put(chunk)
            if progress:
                progress(len(chunk))
    finally:
        chunks.put(None)
        writer.join()
    if failure:
        raise failure[0]
    return digest.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
