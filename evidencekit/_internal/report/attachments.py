"""Pictures sent in a chat, as numbered thumbnails with their digests.

Why: "IMG-20240331-WA0003.jpg (present)" tells a reader nothing; the picture is often the
harassment itself. Each picture the export holds is shown small, numbered in message order, with
the message it came with and its SHA-256, so "bilde 3" can be cited and checked against the file.
The bytes are read from the stored export (a folder's file, or a zip's member through safe_zip's
checks) and shown only if they are the very bytes the transcript recorded.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from PIL import Image

from evidencekit._internal import safe_zip
from evidencekit._internal.report import pictures
from evidencekit.models import Item

BOX = (420, 420)  # pixels: about 55 mm on paper, three to a row
MAX_BYTES = 64 << 20  # a larger "picture" is named, not read
SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class Thumbnail:
    number: int
    name: str
    sha256: str
    message: int  # the message's index in the transcript
    uri: str | None  # None: not readable as a picture, or not the bytes the transcript recorded


def thumbnails(locker: Any, item: Item, transcript: Mapping[str, Any], blur: bool) -> tuple[Thumbnail, ...]:
    """The export's pictures in message order; ``blur`` for an exhibit marked sensitive."""
    wanted = [(int(m.get("index") or 0), a) for m in transcript.get("messages") or [] if isinstance(m, dict)
              for a in m.get("attachments") or [] if isinstance(a, dict) and a.get("status") == "present"
              and isinstance(a.get("sha256"), str) and str(a.get("name") or a.get("member") or "").lower().endswith(SUFFIXES)]
    if not wanted:
        return ()
    stored = {f.sha256: f for f in item.files}
    made = []
    with ExitStack() as stack:
        archive = _archive(locker, item, stack)
        try:
            members = {info.filename: info for info in safe_zip.checked_members(archive)} if archive else {}
        except safe_zip.UnsafeArchive:
            members = {}
        for number, (message, attachment) in enumerate(wanted, start=1):
            digest = attachment["sha256"]
            data = None
            if digest in stored and stored[digest].size <= MAX_BYTES:
                with locker.blobs.open(digest) as blob:
                    data = blob.read()
            elif archive is not None and attachment.get("member") in members:
                data = _member(archive, members[attachment["member"]])
            good = data is not None and hashlib.sha256(data).hexdigest() == digest
            made.append(Thumbnail(number, str(attachment.get("name") or attachment.get("member")), digest, message,
                                  _thumbnail(data, blur) if good and data is not None else None))
    return tuple(made)


def _archive(locker: Any, item: Item, stack: ExitStack) -> zipfile.ZipFile | None:
    """The stored export when it is one zip (imports keep the export as their first file), read
    through the locker's one reader and closed with ``stack``."""
    if not item.files:
        return None
    try:
        blob = stack.enter_context(locker.blobs.open(item.files[0].sha256))
        if not zipfile.is_zipfile(blob):
            return None
        return stack.enter_context(zipfile.ZipFile(blob))
    except (zipfile.BadZipFile, OSError):
        return None


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    if info.file_size > MAX_BYTES:
        return None
    try:
        return b"".join(safe_zip.read_chunks(archive, info))
    except safe_zip.UnsafeArchive:
        return None


def _thumbnail(data: bytes, blur: bool) -> str | None:
    image = pictures.decode(data)
    if image is None:
        return None
    flat = pictures.flatten(image)
    if blur:
        return pictures.data_uri(pictures.blurred(flat))
    flat.thumbnail(BOX, Image.Resampling.LANCZOS)
    return pictures.data_uri(flat)
