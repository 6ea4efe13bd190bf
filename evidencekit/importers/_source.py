"""The original export as evidence: one file, a zip, or a folder — hashed before anything else.

Why a class of its own: every importer must read the same bytes that were hashed, must never
trust a zip's names or sizes, and must never follow a link out of a folder. Zips are read in
place and never extracted, so a hostile name cannot write anywhere; such names are still refused
because they have no honest reason to be in an export.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from evidencekit._internal import safe_zip
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, SourceFile, SourceInfo, strip_marks

CHUNK = 1 << 20
MAX_MEMBERS = 200_000
#: Limits against hostile archives (zip bombs, member floods); the checks are safe_zip's.
ZIP_LIMITS = safe_zip.Limits(max_members=MAX_MEMBERS, max_total=32 << 30, max_ratio=100,
                             ratio_checked_above=1 << 20)
MAX_DOCUMENT = 1 << 30  # a JSON/XML/e-mail document read whole
#: An archive refused by safe_zip, said as an import that did not happen; other reasons as safe_zip says them.
_IMPORT_SAYS = {
    "zip.unreadable": "importers.bad_zip",
    "zip.too_many": "importers.too_many_files",
    "zip.unsafe_name": "importers.zip_unsafe_name",
    "zip.encrypted": "importers.zip_encrypted",
    "zip.duplicate": "importers.zip_duplicate_name",
    "zip.bomb": "importers.zip_bomb",
    "zip.size_lie": "importers.bad_zip_member",
    "zip.member_damaged": "importers.bad_zip_member",
}


def sha256_file(handle: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


@dataclass(frozen=True, slots=True)
class _Stamp:
    size: int
    mtime_ns: int


def _stamp(path: Path) -> _Stamp:
    st = path.stat()
    return _Stamp(st.st_size, st.st_mtime_ns)


class Source:
    """A readable, already-hashed export. ``member=None`` means the file itself."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.notices: list[tuple[str, dict[str, object]]] = []
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, SourceFile] = {}
        self._basenames: dict[str, list[str]] | None = None
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError as exc:
            raise ImportFailed("importers.not_found", path=self.path.name) from exc
        except OSError as exc:
            raise ImportFailed("importers.unreadable", path=self.path.name,
                               reason=exc.strerror or str(exc)) from exc
        if stat.S_ISDIR(mode):
            self.kind = "folder"
            self._hash_folder()
        elif stat.S_ISREG(mode):
            self._hash_file()
            self.kind = "zip" if self._looks_zip() else "file"
            if self.kind == "zip":
                self._open_zip()
        else:
            raise ImportFailed("importers.not_a_file", path=self.path.name)

    # -- hashing -------------------------------------------------------------------------
    def _hash_file(self) -> None:
        try:
            with self.path.open("rb") as handle:
                self.sha256, self.size = sha256_file(handle)
        except OSError as exc:
            raise ImportFailed("importers.unreadable", path=self.path.name,
                               reason=exc.strerror or str(exc)) from exc
        self._stamps = {self.path: _stamp(self.path)}

    def _hash_folder(self) -> None:
        self._stamps: dict[Path, _Stamp] = {}
        root = self.path
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            for entry in sorted(dirnames + filenames):
                full = Path(dirpath) / entry
                rel = full.relative_to(root).as_posix()
                if full.is_symlink():
                    self.notices.append(("symlink_skipped", {"path": rel}))
                    continue
                if entry in dirnames:
                    continue
                if not full.is_file():
                    self.notices.append(("special_skipped", {"path": rel}))
                    continue
                if len(self._members) >= MAX_MEMBERS:
                    raise ImportFailed("importers.too_many_files", limit=MAX_MEMBERS)
                try:
                    with full.open("rb") as handle:
                        digest, size = sha256_file(handle)
                except OSError as exc:
                    raise ImportFailed("importers.unreadable", path=rel,
                                       reason=exc.strerror or str(exc)) from exc
                self._members[rel] = SourceFile(rel, size, digest)
                self._stamps[full] = _stamp(full)
        manifest = "".join(f"{f.sha256}  {p}\n" for p, f in sorted(self._members.items()))
        self.sha256 = hashlib.sha256(manifest.encode("utf-8")).hexdigest()
        self.size = sum(f.size for f in self._members.values())

    def _looks_zip(self) -> bool:
        with self.path.open("rb") as handle:
            return handle.read(4) in (b"PK\x03\x04", b"PK\x05\x06")

    def _open_zip(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            raise ImportFailed("importers.bad_zip", path=self.path.name) from exc
        try:
            for info in safe_zip.checked_members(self._zip, ZIP_LIMITS):
                digest = hashlib.sha256()
                for chunk in safe_zip.read_chunks(self._zip, info):
                    digest.update(chunk)
                self._members[info.filename] = SourceFile(info.filename, info.file_size, digest.hexdigest())
        except safe_zip.UnsafeArchive as refused:
            raise ImportFailed(_IMPORT_SAYS.get(refused.key, refused.key), path=self.path.name,
                               **refused.params) from refused

    # -- reading -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.path.name

    @property
    def members(self) -> dict[str, SourceFile]:
        """Files inside a zip or folder, by path with ``/`` separators (empty for a file)."""
        return self._members

    def info(self) -> SourceInfo:
        files = list(self._members.values()) if self.kind != "file" else [
            SourceFile(self.name, self.size, self.sha256)]
        return SourceInfo(self.kind, self.name, self.size, self.sha256, files)

    def open(self, member: str | None = None) -> IO[bytes]:
        if member is None:
            if self.kind != "file":
                raise ImportFailed("importers.not_a_file", path=self.name)
            return self.path.open("rb")
        if member not in self._members:
            raise ImportFailed("importers.member_missing", name=member)
        if self._zip is not None:
            return self._zip.open(member)
        return (self.path / member).open("rb")

    def size_of(self, member: str | None) -> int:
        return self.size if member is None else self._members[member].size

    def head(self, member: str | None = None, n: int = 65536) -> bytes:
        with self.open(member) as handle:
            return handle.read(n)

    def read(self, member: str | None = None, limit: int = MAX_DOCUMENT) -> bytes:
        """The whole file, refusing anything larger than ``limit`` bytes."""
        if self.size_of(member) > limit:
            raise ImportFailed("importers.too_large", name=member or self.name,
                               limit_mb=limit >> 20)
        with self.open(member) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ImportFailed("importers.too_large", name=member or self.name,
                               limit_mb=limit >> 20)
        return data

    def _by_basename(self) -> dict[str, list[str]]:
        if self._basenames is None:
            self._basenames = {}
            for path in self._members:
                self._basenames.setdefault(PurePosixPath(path).name, []).append(path)
        return self._basenames

    def find(self, ref: str) -> str | None:
        """The member a message's file reference points at, when exactly one fits.

        ``ref`` is a bare name (``IMG-…jpg``) or a path written in the export
        (``messages/inbox/x/photos/1.jpg``); the export may have been unpacked from a higher or
        lower folder than the one the path starts at, so either may be a suffix of the other.
        """
        ref = strip_marks(ref).strip().replace("\\", "/")
        while ref.startswith(("./", "/")):
            ref = ref[1:] if ref.startswith("/") else ref[2:]
        if not ref or self.kind == "file":
            return None
        if ref in self._members:
            return ref
        base = PurePosixPath(ref).name
        hits = [p for p in self._by_basename().get(base, [])
                if "/" not in ref or p.endswith("/" + ref) or ref.endswith("/" + p)]
        return hits[0] if len(hits) == 1 else None

    def attachment(self, name: str | None, ref: str | None = None) -> Attachment:
        """The record of a file a message names: ``present`` with its digest when the export
        holds exactly that file, else ``missing``."""
        member = self.find(ref or name or "")
        if member is None:
            return Attachment(name, None, "missing", ref=ref)
        info = self._members[member]
        return Attachment(name, info.sha256, "present", member, info.size, ref)

    def verify_unchanged(self) -> None:
        """Refuse the result if a file changed while it was read (it would not match its hash)."""
        for path, before in self._stamps.items():
            try:
                now = _stamp(path)
            except OSError:
                now = None
            if now != before:
                raise ImportFailed("importers.changed_during_import", path=path.name)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
