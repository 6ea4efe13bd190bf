"""Assembling one capture's files from the chunks the browser sends, inside the locker.

Each file is declared up front (name, size, sha256); its chunks must then arrive in order with
no gap and no excess. Bytes are hashed as they are written into a private folder the locker hands
out, and only a transfer whose every file is complete and matches its declared digest is handed
on to be stored. Anything else removes the folder: there is never half an item. A capture's file
names come from a fixed list; the files a worker adds keep their own names, each in a numbered
subfolder, and a name is one plain path component, so nothing is ever written outside the locker.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from evidencekit._internal.capture.model import DOM, FULL_PAGE, MEDIA_TYPES, MHTML, ROLES, TEXT, VIEWPORT
from evidencekit._internal.capture.model import CapturedFile
from evidencekit.errors import UserError

SELECTION = "page-selection.txt"
# The files an extension capture may hold, in the order they are stored (as the CLI's capture).
FILES: dict[str, tuple[str, str]] = {
    **{name: (MEDIA_TYPES[name], ROLES[name]) for name in (FULL_PAGE, VIEWPORT, MHTML, DOM, TEXT)},
    SELECTION: ("text/plain", "selected_text"),
}

MAX_FILE = 256 * 1024 * 1024
MAX_TOTAL = 512 * 1024 * 1024
MAX_CHUNK = 8 * 1024 * 1024  # decoded bytes in one chunk message


class TransferError(UserError):
    """A capture's chunks do not add up; the transfer is dropped and nothing is stored."""


@dataclass
class _Incoming:
    name: str
    size: int
    sha256: str
    path: Path
    handle: BinaryIO | None = None
    received: int = 0
    next_seq: int = 0
    digest: Any = field(default_factory=hashlib.sha256)


def _plain_name(name: str) -> bool:
    """One path component a worker would recognise: no folders, no control characters."""
    return name not in (".", "..") and not any(c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in name)


def check_files(files: list[dict[str, Any]], uploads: bool = False) -> None:
    """Names from the fixed list (or, for ``uploads``, plain names), each once, and sizes within
    the limits (before any byte moves)."""
    seen: set[str] = set()
    total = 0
    for entry in files:
        name, size = entry["name"], entry["size"]
        if uploads:
            if not _plain_name(name):
                raise TransferError("extension.upload_bad_name", name=name[:64].encode("unicode_escape").decode())
        elif name not in FILES:
            raise TransferError("extension.unknown_file", name=name[:64], allowed=", ".join(FILES))
        if name in seen:
            raise TransferError("extension.duplicate_file", name=name)
        seen.add(name)
        if size > MAX_FILE:
            raise TransferError("extension.file_too_large", name=name, size=size, limit=MAX_FILE)
        total += size
    if total > MAX_TOTAL:
        raise TransferError("extension.capture_too_large", size=total, limit=MAX_TOTAL)


class Transfer:
    """The files of one capture on their way in; create after :func:`check_files` passed."""

    def __init__(self, request_id: str, files: list[dict[str, Any]], workdir: Path, uploads: bool = False) -> None:
        check_files(files, uploads)
        self.request_id = request_id
        self.workdir = workdir
        self._files = {f["name"]: _Incoming(f["name"], f["size"], f["sha256"], self._place(i, f["name"], uploads))
                       for i, f in enumerate(files)}

    def _place(self, index: int, name: str, uploads: bool) -> Path:
        if not uploads:
            return self.workdir / name
        folder = self.workdir / str(index)  # the worker's own name kept, so the item shows it
        folder.mkdir(mode=0o700)
        return folder / name

    @property
    def size(self) -> int:
        return sum(f.size for f in self._files.values())

    def chunk(self, name: str, seq: int, data: str) -> None:
        """Append one chunk; out of order, undecodable or beyond the declared size is an error."""
        incoming = self._files.get(name)
        if incoming is None:
            raise TransferError("extension.chunk_unknown_file", name=name[:64])
        if seq != incoming.next_seq:
            raise TransferError("extension.chunk_order", name=name, expected=incoming.next_seq, got=seq)
        if len(data) > (MAX_CHUNK // 3 + 1) * 4:
            raise TransferError("extension.chunk_too_large", name=name, limit=MAX_CHUNK)
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise TransferError("extension.chunk_not_base64", name=name, seq=seq) from None
        if incoming.received + len(raw) > incoming.size:
            raise TransferError("extension.chunk_beyond_size", name=name, size=incoming.size)
        if incoming.handle is None:
            fd = os.open(incoming.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            incoming.handle = os.fdopen(fd, "wb")
        incoming.handle.write(raw)
        incoming.digest.update(raw)
        incoming.received += len(raw)
        incoming.next_seq += 1

    def finish(self) -> tuple[CapturedFile, ...]:
        """The complete capture files in storing order, each checked against its declared size and digest."""
        self.received()
        return tuple(CapturedFile(name, self._files[name].path, *FILES[name])
                     for name in FILES if name in self._files)

    def received(self) -> list[Path]:
        """The complete files in the order declared, each checked against its declared size and digest."""
        for incoming in self._files.values():
            if incoming.received != incoming.size:
                raise TransferError("extension.chunks_missing", name=incoming.name,
                                    got=incoming.received, size=incoming.size)
            if incoming.handle is None:  # an empty file gets no chunk
                incoming.path.touch(mode=0o600, exist_ok=False)
            else:
                incoming.handle.close()
            if incoming.digest.hexdigest() != incoming.sha256:
                raise TransferError("extension.digest_mismatch", name=incoming.name)
        return [incoming.path for incoming in self._files.values()]

    def digests(self) -> dict[str, str]:
        return {name: f.digest.hexdigest() for name, f in self._files.items()}

    def discard(self) -> None:
        """Close and remove everything received; safe to call more than once."""
        for incoming in self._files.values():
            if incoming.handle is not None and not incoming.handle.closed:
                incoming.handle.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
