"""Content-addressed storage of evidence bytes.

A blob is named by the SHA-256 of its bytes. It is written to a temporary file in the same file
system, flushed to disk, renamed into place and made read-only, so a crash leaves either no blob
or a whole one (at worst an orphan nobody refers to), never a half-written file under a real name.
Hashing and writing run side by side (both release the GIL) so storing costs little more than
hashing alone.
"""

from __future__ import annotations

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
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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
