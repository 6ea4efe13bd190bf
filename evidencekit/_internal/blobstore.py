"""Content-addressed storage of evidence bytes, encrypted, and the locker's private work area.

A blob is known by the SHA-256 of its bytes and stored sealed (see :mod:`sealed_blob`) under a file
name that is an HMAC of that digest, so the store still keeps identical evidence once while nobody
without the locker key can tell from a name which file it holds. It is written to a temporary file
in the same file system, flushed to disk, renamed into place and made read-only, so a crash leaves
either no blob or a whole one (at worst an orphan nobody refers to), never a half-written file
under a real name. Hashing runs beside encrypting and writing (all three release the GIL) so
storing costs little more than hashing alone.

Everything a command writes before it becomes evidence (blob halves, copied exports, captured
pages) lives in that command's own folder ``tmp/work-*`` (see :mod:`workdir`), locked for as long
as the command runs. A folder whose lock nobody holds belongs to a command that died: the next opener
removes it and then the orphan blobs, but only under an exclusive lock that no command storing
evidence holds at the same time (they hold it shared), so a running ``add`` is never robbed of a
blob it is about to record. Folders and files are private to the owner: 0700, 0600, blobs 0400.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import secrets
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from evidencekit._internal import sealed_blob, workdir
from evidencekit._internal.background import Pieces
from evidencekit.errors import naming_full_disk

CHUNK = 4 * 1024 * 1024
READ_ONLY = stat.S_IRUSR
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_WORK = "work-"


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class BlobStore:
    def __init__(self, root: Path, content_key: bytes, name_key: bytes) -> None:
        self.root = root
        self._content_key = content_key
        self._name_key = name_key
        self.tmp = root / "tmp"
        with naming_full_disk(root.parent):
            private_folder(root)
            private_folder(self.tmp)
        self._guard = root / "sweep.lock"
        self._session: workdir.Owned | None = None
        self._session_lock = threading.Lock()
        self._storing = 0
        self._storing_fd = -1
        self._fresh: set[str] = set()
        self._pieces = Pieces()

    def _path(self, sha256: str) -> Path:
        return self._at(sealed_blob.file_name(self._name_key, sha256))

    def _at(self, name: str) -> Path:
        return self.root / name[:2] / name

    # writing ------------------------------------------------------------------------------

    @contextmanager
    def storing(self) -> Iterator[None]:
        """Hold off the orphan sweep while blobs are stored and until they are recorded.

        Wrap the storing and the transaction that refers to the blobs in one block: a blob that
        already existed as an orphan when it was stored again is not removed under the caller.
        """
        if self._storing == 0:
            self._storing_fd = _open_lock(self._guard)
            fcntl.flock(self._storing_fd, fcntl.LOCK_SH)
        self._storing += 1
        try:
            yield
        finally:
            self._storing -= 1
            if self._storing == 0:
                os.close(self._storing_fd)

    def put_stream(self, source: BinaryIO, progress: Callable[[int], None] | None = None,
                   known_as: str | None = None) -> StoredBlob:
        """Store the bytes of ``source``; a full disk leaves no part of them.

        ``known_as``: the digest the bytes are stored under when it is not theirs. Only ``upgrade``
        gives one, to carry a blob of the old store that was damaged over as damaged (``check``
        then says "changed", as it did before), rather than under a name no record knows."""
        with self.storing(), naming_full_disk(self.root.parent):
            tmp_path = self.work() / f"blob-{secrets.token_hex(8)}"
            fd = os.open(tmp_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            try:
                digest, size = _seal_hashing(source, sealed_blob.Writer(fd, self._content_key), self._name_key,
                                             self._pieces, progress, known_as)
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
        final = self._path(sha256)
        if final.exists():
            tmp_path.unlink()
            return StoredBlob(sha256, size)
        try:
            final.parent.mkdir(mode=PRIVATE_DIR, exist_ok=True)
            os.chmod(tmp_path, READ_ONLY)
            os.replace(tmp_path, final)
            self._fresh.add(sha256)
            fsync(final.parent)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        return StoredBlob(sha256, size)

    def recorded(self, names: Iterable[str]) -> None:
        """These blobs are now referred to by committed records: no longer orphan candidates."""
        self._fresh.difference_update(names)

    # reading ------------------------------------------------------------------------------

    def open(self, sha256: str) -> BinaryIO:
        """The one way stored bytes are read (media types, bundles, reports, the host's previews,
        export): the plaintext, decrypted as it is read and never written anywhere. A blob whose
        file was changed raises :class:`sealed_blob.Damaged` when the changed part is read."""
        return io.BufferedReader(self._reader(sha256), CHUNK)

    def _reader(self, sha256: str) -> sealed_blob.Reader:
        name = sealed_blob.file_name(self._name_key, sha256)
        return sealed_blob.Reader(self._at(name), self._content_key, name)

    def state(self, sha256: str) -> str:
        """``"ok"``, ``"missing"`` or ``"changed"``: every chunk checked and the bytes hashed anew.

        Decrypting (here) and hashing (in a helper) overlap."""
        digest = hashlib.sha256()
        try:
            with self._reader(sha256) as blob:
                self._pieces.stream(blob, digest.update)
            actual = digest.hexdigest()
        except FileNotFoundError:
            return "missing"
        except sealed_blob.Damaged:
            return "changed"
        return "ok" if actual == sha256 else "changed"

    def make_private(self) -> None:
        """Tighten the whole store, for one made by someone else or by an older evidencekit."""
        private_tree(self.root, self.root)

    def all_names(self) -> Iterator[str]:
        for folder in self.root.iterdir():
            if len(folder.name) == 2 and folder.is_dir():
                yield from (p.name for p in folder.iterdir())

    # the work area and cleaning up --------------------------------------------------------

    def work(self) -> Path:
        """This process's own locked folder in ``tmp/``, made on first use."""
        with self._session_lock:
            if self._session is None:
                self._session = workdir.Owned.create(self.tmp, _WORK)
            return self._session.path

    def scratch(self) -> Path:
        """A new private empty folder inside :meth:`work`, for the caller to fill and remove."""
        return Path(tempfile.mkdtemp(prefix="scratch-", dir=self.work()))

    def clean_up(self, referenced: Callable[[], set[str]], sweep: bool = False) -> None:
        """Remove what killed commands left behind and, after one died (or with ``sweep``), the
        orphan blobs: blobs that ``referenced()`` does not name.

        Runs when a locker is opened and by ``check``; never touches a running command's folder.
        A dead command's folder is emptied at once but kept (its lock file a reminder) until the
        sweep it calls for could run.
        """
        dead = workdir.claim_abandoned(self.tmp, _WORK)
        for entry in self.tmp.iterdir():  # what older versions left: temporary files, work folders
            ours = entry.name.startswith(workdir.SETTING_UP) or (entry / workdir.LOCK).exists()
            if not ours and workdir.older_than(entry, workdir.GRACE):
                workdir.remove(entry)
        try:
            for folder, _ in dead:
                _empty(folder)
            if (dead or sweep) and self._sweep(referenced):
                for folder, _ in dead:
                    workdir.remove(folder)
        finally:
            for _, fd in dead:
                os.close(fd)

    def _sweep(self, referenced: Callable[[], set[str]]) -> bool:
        """Remove every blob no record names; False (nothing done) while a command stores."""
        fd = _open_lock(self._guard)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            keep = {sealed_blob.file_name(self._name_key, sha256) for sha256 in referenced()}
            for name in list(self.all_names()):
                if name not in keep:
                    self._at(name).unlink(missing_ok=True)
            self._fresh.clear()
            return True
        finally:
            os.close(fd)

    def close(self, referenced: Callable[[], set[str]]) -> None:
        """Remove this process's work folder; blobs it stored but never saw recorded (a failed
        add) are swept now, or left for the next opener when another command is storing."""
        session, self._session = self._session, None
        if session is None:
            return
        if self._fresh and not self._sweep(referenced):
            self._fresh.clear()
            _empty(session.path)
            session.release()  # unlocked with its lock file: the next opener sweeps
        else:
            session.remove()


def private_folder(path: Path) -> None:
    """Make ``path`` (and missing parents) a folder only its owner may enter, even if it existed."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != PRIVATE_DIR:
        os.chmod(path, PRIVATE_DIR)


def private_tree(root: Path, blobs: Path | None = None) -> None:
    """Tighten a folder the locker owns and everything in it: folders 0700, files 0600, and the
    blobs (files in a two-letter folder of ``blobs``) 0400. Links are left alone, never followed."""
    for folder, _, files in os.walk(root):
        here = Path(folder)
        _tighten(here, PRIVATE_DIR)
        is_blob_folder = blobs is not None and here.parent == blobs and len(here.name) == 2
        for name in files:
            _tighten(here / name, READ_ONLY if is_blob_folder else PRIVATE_FILE)


def private_file(path: Path) -> None:
    """Tighten one file the locker owns to 0600 (a link is left alone, never followed)."""
    _tighten(path, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o777 & ~mode:
            os.chmod(path, mode)
    except FileNotFoundError:  # removed meanwhile by the command that made it
        pass


def _open_lock(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)


def _empty(folder: Path) -> None:
    """Remove a folder's contents but its lock file."""
    for entry in folder.iterdir():
        if entry.name != workdir.LOCK:
            workdir.remove(entry)


def _seal_hashing(source: BinaryIO, writer: sealed_blob.Writer, name_key: bytes, pieces: Pieces,
                  progress: Callable[[int], None] | None, known_as: str | None = None) -> tuple[str, int]:
    """Hash ``source`` in this thread while a helper seals and writes it; the SHA-256 (or
    ``known_as``) and size.

    What is hashed is exactly what is sealed, so the blob's name always matches its bytes, even
    if the source changes meanwhile."""
    digest = hashlib.sha256()
    size = 0

    def hash_piece(piece: memoryview) -> None:
        nonlocal size
        digest.update(piece)
        size += len(piece)
        if progress:
            progress(len(piece))

    pieces.stream(source, writer.write, hash_piece)
    sha256 = known_as or digest.hexdigest()
    writer.finish(sealed_blob.file_name(name_key, sha256))
    return sha256, size


def fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (a rename in it), to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
