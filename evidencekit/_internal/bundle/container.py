"""The bundle's ZIP container, written and read in one exact layout.

A bundle must look the same to every reader: to our verifier, to Info-ZIP ``unzip``, to any
Python's ``zipfile``, to Windows Explorer. ZIP lets the same bytes say different things (a name
in the central directory and another in the local header or a Unicode-path extra field; data
hidden in a "folder"; bytes before the first member or after the end record; comments), so a
bundle allows none of that. Each member is stored (not compressed), its local header carries its
name, CRC-32 and size (no data descriptors), and the only extra field is ZIP64's, when a size or
an offset needs it. The reader rebuilds every header it reads from the values it parsed and
demands the same bytes, then demands that the central directory and end records are exactly the
ones the writer would have written for those members. Anything else is :class:`Malformed`.

Because every local header is complete, the reader streams: a sealed bundle is checked while it
is decrypted, with no plaintext copy on disk. Both sides also compute the container's digest:
SHA-256 over every header byte and every member's SHA-256, in order. It pins every byte of the
ZIP at the cost of no extra pass, and is what the sealed envelope's signature covers.
"""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from evidencekit._internal.background import Behind
from evidencekit.errors import VerificationFailed

CHUNK = 1 << 20
MAX_MEMBERS = 50_000
MAX_NAME = 1024
MAX_DEPTH = 100
ZIP64_LIMIT = 0xFFFFFFFF
FLAGS = 0x0800  # names are UTF-8; nothing else (no encryption, no data descriptor)
MADE_BY = (3 << 8) | 45  # Unix, ZIP 4.5
FILE_MODE = 0o100644 << 16

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR = struct.Struct("<IIQI")
LOCAL_SIG, CENTRAL_SIG, END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
END64_SIG, LOCATOR_SIG = 0x06064B50, 0x07064B50


class Malformed(VerificationFailed):
    """The container is not exactly what evidencekit writes (a catalog key and parameters)."""


@dataclass(frozen=True)
class Entry:
    """One member as both headers describe it."""

    name: str
    size: int
    crc: int
    offset: int
    dos_time: int
    dos_date: int

    @property
    def zip64(self) -> bool:
        return self.size >= ZIP64_LIMIT

    def local_header(self) -> bytes:
        name = self.name.encode("utf-8")
        extra = struct.pack("<HHQQ", 1, 16, self.size, self.size) if self.zip64 else b""
        shown = ZIP64_LIMIT if self.zip64 else self.size
        return _LOCAL.pack(LOCAL_SIG, 45 if self.zip64 else 20, FLAGS, 0, self.dos_time, self.dos_date,
                           self.crc, shown, shown, len(name), len(extra)) + name + extra

    def central_header(self) -> bytes:
        name = self.name.encode("utf-8")
        big_size, big_offset = self.zip64, self.offset >= ZIP64_LIMIT
        fields = (struct.pack("<QQ", self.size, self.size) if big_size else b"") + (
            struct.pack("<Q", self.offset) if big_offset else b"")
        extra = struct.pack("<HH", 1, len(fields)) + fields if fields else b""
        shown = ZIP64_LIMIT if big_size else self.size
        return _CENTRAL.pack(CENTRAL_SIG, MADE_BY, 45 if fields else 20, FLAGS, 0, self.dos_time, self.dos_date,
                             self.crc, shown, shown, len(name), len(extra), 0, 0, 0, FILE_MODE,
                             ZIP64_LIMIT if big_offset else self.offset) + name + extra


def directory(entries: list[Entry], start: int) -> bytes:
    """The central directory and end records for ``entries``, the directory beginning at ``start``."""
    central = b"".join(e.central_header() for e in entries)
    size, count = len(central), len(entries)
    tail = b""
    if count >= 0xFFFF or size >= ZIP64_LIMIT or start >= ZIP64_LIMIT:
        end64_at = start + size
        tail = (_END64.pack(END64_SIG, _END64.size - 12, MADE_BY, 45, 0, 0, count, count, size, start)
                + _LOCATOR.pack(LOCATOR_SIG, 0, end64_at, 1))
        count, size, start = 0xFFFF, ZIP64_LIMIT, ZIP64_LIMIT
    return central + tail + _END.pack(END_SIG, 0, 0, count, count, size, start, 0)


def dos_moment(moment: float | None = None) -> tuple[int, int]:
    """ZIP's local-time fields (2-second steps), as every unzip shows them."""
    tm = time.localtime(moment)
    year = min(max(tm.tm_year, 1980), 2107)
    return (tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec // 2), ((year - 1980) << 9) | (tm.tm_mon << 5) | tm.tm_mday


def check_name(name: str) -> None:
    """A member name that unpacks to the same relative file everywhere, or :class:`Malformed`."""
    parts = name.split("/")
    if (not name or len(name.encode("utf-8")) > MAX_NAME or len(parts) > MAX_DEPTH
            or any(part in ("", ".", "..") for part in parts)
            or "\\" in name or ":" in parts[0] or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name)):
        raise Malformed("zip.bundle_bad_name", name=name[:200])


class Writer:
    """Writes members one after another to ``out`` (which need not be seekable)."""

    def __init__(self, out: BinaryIO, moment: float | None = None) -> None:
        self._out = out
        self._offset = 0
        self._entries: list[Entry] = []
        self._names: set[str] = set()
        self._time, self._date = dos_moment(moment)
        self._digest = hashlib.sha256()
        self._streaming: Entry | None = None

    def _begin(self, name: str, size: int, crc: int) -> None:
        if self._streaming is not None:
            raise RuntimeError("end the streamed member first")
        check_name(name)
        if name in self._names:
            raise ValueError(f"duplicate member {name}")
        self._names.add(name)
        entry = Entry(name, size, crc, self._offset, self._time, self._date)
        header = entry.local_header()
        self._out.write(header)
        self._digest.update(header)
        self._entries.append(entry)
        self._offset += len(header) + size
        self._streaming = entry

    def add(self, name: str, data: bytes) -> None:
        self._begin(name, len(data), zlib.crc32(data))
        self._out.write(data)
        self.end_stream(hashlib.sha256(data).digest())

    def begin_stream(self, name: str, size: int, crc: int) -> None:
        """Announce a member whose ``size`` bytes the caller writes to :attr:`out` next."""
        self._begin(name, size, crc)

    def end_stream(self, sha256: bytes) -> None:
        """The streamed member is written; ``sha256`` is the digest of its bytes."""
        self._streaming = None
        self._digest.update(sha256)

    @property
    def out(self) -> BinaryIO:
        return self._out

    def finish(self) -> bytes:
        """Write the directory; returns the container digest."""
        if self._streaming is not None:
            raise RuntimeError("end the streamed member first")
        tail = directory(self._entries, self._offset)
        self._out.write(tail)
        self._digest.update(tail)
        return self._digest.digest()


@dataclass
class Member:
    name: str
    size: int
    sha256: str | None = None  # known once its data has been read


class Reader:
    """Reads a container front to back from ``source`` (any object with ``read``).

    Iterate over :meth:`members`; for each, read its bytes with :meth:`data` before asking for
    the next. The CRC-32 of each member is checked as its bytes go by; after the last member the
    directory and end records must be exactly what :func:`directory` makes, and nothing may follow.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._offset = 0
        self._entries: list[Entry] = []
        self._names: set[str] = set()
        self._pending: tuple[Entry, Member] | None = None
        self._digest = hashlib.sha256()
        self.digest: bytes | None = None  # the container digest, once the directory has been read
        self._hasher = _Hasher()

    def close(self) -> None:
        self._hasher.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _read_exact(self, count: int, what: str) -> bytes:
        parts: list[bytes] = []
        got = 0
        while got < count:
            chunk = self._source.read(count - got)
            if not chunk:
                raise Malformed("zip.bundle_truncated", where=what)
            parts.append(chunk)
            got += len(chunk)
        self._offset += count
        return b"".join(parts)

    def members(self) -> Iterator[Member]:
        while True:
            if self._pending is not None:
                raise RuntimeError("read the data of each member before the next")
            head = self._read_exact(4, "header")
            (signature,) = struct.unpack("<I", head)
            if signature != LOCAL_SIG:
                if not self._entries:
                    raise Malformed("zip.bundle_bytes_before")
                self._finish(head)
                return
            if len(self._entries) >= MAX_MEMBERS:
                raise Malformed("zip.too_many_members", limit=MAX_MEMBERS)
            yield self._local(head)

    def _local(self, head: bytes) -> Member:
        start = self._offset - 4
        fixed = head + self._read_exact(_LOCAL.size - 4, "header")
        (_, _, flags, method, dos_time, dos_date, crc, size, _, name_length,
         extra_length) = _LOCAL.unpack(fixed)
        if name_length > MAX_NAME or extra_length > 64:
            raise Malformed("zip.bundle_header_differs", name=f"#{len(self._entries) + 1}")
        raw_name = self._read_exact(name_length, "name")
        extra = self._read_exact(extra_length, "name")
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Malformed("zip.bundle_bad_name", name=raw_name.decode("utf-8", "replace")[:200]) from exc
        check_name(name)
        if size == ZIP64_LIMIT and len(extra) == 20:
            size = struct.unpack("<Q", extra[4:12])[0]
        entry = Entry(name, size, crc, start, dos_time, dos_date)
        if flags != FLAGS or method != 0 or entry.local_header() != fixed + raw_name + extra:
            raise Malformed("zip.bundle_header_differs", name=name[:200])
        folded = name.casefold()  # "A.txt" and "a.txt" are one file on macOS and Windows
        if folded in self._names:
            raise Malformed("zip.duplicate", name=name[:200])
        self._names.add(folded)
        self._digest.update(fixed + raw_name + extra)
        member = Member(name, size)
        self._pending = (entry, member)
        return member

    def data(self) -> Iterator[bytes]:
        """The pending member's bytes, in chunks; its CRC-32 is checked after the last one, and
        its SHA-256 (hashed beside the caller, in a helper thread) is set on the member."""
        if self._pending is None:
            raise RuntimeError("no member pending")
        (entry, member), self._pending = self._pending, None
        self._hasher.start()
        remaining, crc = entry.size, 0
        while remaining:
            chunk = self._source.read(min(CHUNK, remaining))
            if not chunk:
                raise Malformed("zip.bundle_truncated", where=entry.name[:200])
            self._offset += len(chunk)
            remaining -= len(chunk)
            crc = zlib.crc32(chunk, crc)
            self._hasher.update(chunk)
            yield chunk
        digest = self._hasher.result()
        if crc != entry.crc:
            raise Malformed("zip.bundle_crc", name=entry.name[:200])
        member.sha256 = digest.hex()
        self._digest.update(digest)
        self._entries.append(entry)

    def skip(self) -> None:
        for _ in self.data():
            pass

    def _finish(self, head: bytes) -> None:
        expected = directory(self._entries, self._offset - 4)
        if head != expected[:4]:
            raise Malformed("zip.bundle_directory_differs")
        got = head + self._read_exact(len(expected) - 4, "directory")
        if got != expected:
            raise Malformed("zip.bundle_directory_differs")
        if self._source.read(1):
            raise Malformed("zip.bundle_bytes_after")
        self._digest.update(got)
        self.digest = self._digest.digest()



class _Hasher:
    """SHA-256 of one member at a time; large chunks are hashed by a helper thread."""

    INLINE = 64 * 1024

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._behind: Behind | None = None

    def start(self) -> None:
        self._sha = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        if len(chunk) < self.INLINE and self._behind is None:
            self._sha.update(chunk)
            return
        if self._behind is None:
            self._behind = Behind(lambda data: self._sha.update(data))
        self._behind.put(chunk)

    def result(self) -> bytes:
        if self._behind is not None:
            self._behind.wait()
        return self._sha.digest()

    def close(self) -> None:
        if self._behind is not None:
            self._behind.stop()
            self._behind = None
