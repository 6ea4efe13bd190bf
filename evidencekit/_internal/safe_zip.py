"""Reading ZIP files that someone else made: refuse what could escape, explode or deceive.

Every archive someone else made (a chat export) is checked here, and only here, first (a bundle
is read by its own exact reader, ``bundle/container.py``): names that escape the target folder (absolute, ``..``, backslashes, drive letters,
NUL), links, duplicate names, encrypted members, too many entries, and sizes or compression ratios
no real archive has. Members are then read with their declared size enforced, so a lying header
cannot smuggle more bytes than it admits; one that does not decompress is damaged, whatever the
codec's own error.
"""

from __future__ import annotations

import lzma
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from evidencekit.errors import UserError

CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_members: int = 20_000
    max_total: int = 64 << 30
    max_ratio: int = 200
    ratio_checked_above: int = 1 << 20
    max_depth: int = 100  # folders within folders; deeper is no real archive


class UnsafeArchive(UserError):
    """An archive evidencekit will not unpack or trust."""


def checked_members(archive: zipfile.ZipFile, limits: Limits = Limits()) -> list[zipfile.ZipInfo]:
    """The archive's file members after every check; raises :class:`UnsafeArchive` on the first problem."""
    try:
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeArchive("zip.unreadable", reason=str(exc)) from exc
    if len(infos) > limits.max_members:
        raise UnsafeArchive("zip.too_many", count=len(infos), limit=limits.max_members)
    seen: set[str] = set()
    total = 0
    members = []
    for info in infos:
        name = info.filename
        if not safe_name(name):
            raise UnsafeArchive("zip.unsafe_name", name=name[:200])
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeArchive("zip.link", name=name[:200])
        if info.flag_bits & 0x1:
            raise UnsafeArchive("zip.encrypted", name=name[:200])
        parts = PurePosixPath(name).parts
        if len(parts) > limits.max_depth:
            raise UnsafeArchive("zip.too_deep", name=name[:200], limit=limits.max_depth)
        folded = "/".join(parts).casefold()  # "a//b" and "a/./b" are "a/b" once unpacked
        if folded in seen:
            raise UnsafeArchive("zip.duplicate", name=name[:200])
        seen.add(folded)
        if info.is_dir():
            continue
        total += info.file_size
        if total > limits.max_total:
            raise UnsafeArchive("zip.too_big", limit_gb=limits.max_total >> 30)
        if info.file_size > limits.ratio_checked_above and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeArchive("zip.bomb", name=name[:200])
        members.append(info)
    return members


def safe_name(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not (
        name.startswith(("/", "\\"))
        or "\\" in name
        or "\x00" in name
        or (len(name) > 1 and name[1] == ":")
        or any(part in ("..", ".") for part in parts)
    )


def read_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes, never more than its header declares."""
    remaining = info.file_size
    try:
        with archive.open(info) as member:
            member: IO[bytes]
            while chunk := member.read(min(CHUNK, remaining + 1)):
                remaining -= len(chunk)
                if remaining < 0:
                    raise UnsafeArchive("zip.size_lie", name=info.filename[:200])
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
            zlib.error, lzma.LZMAError) as exc:
        raise UnsafeArchive("zip.member_damaged", name=info.filename[:200], reason=str(exc)) from exc
    if remaining:
        raise UnsafeArchive("zip.member_damaged", name=info.filename[:200], reason="too short")
