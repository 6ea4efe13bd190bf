"""What an item holds, read back from the blob store: its transcript, its text, its pictures.

Why one place: the report and redaction both need to know which file of an item is the
transcript, which picture stands for a web capture, and how much text is safe to show; the
answers must not drift apart.
"""

from __future__ import annotations

import json
from typing import Any

from evidencekit._internal.capture.model import FULL_PAGE, VIEWPORT
from evidencekit.importers.model import SCHEMA
from evidencekit.models import Item, ItemFile

TEXT_LIMIT = 200_000  # characters of a text file shown in a report; the file itself stays whole
_TRANSCRIPT_START = b'{"schema":' + json.dumps(SCHEMA).encode()


def read(locker: Any, file: ItemFile, limit: int | None = None) -> bytes:
    """The stored bytes of ``file`` (or the first ``limit`` bytes)."""
    with locker.blobs.open(file.sha256) as blob:
        return blob.read() if limit is None else blob.read(limit)


def is_transcript(locker: Any, file: ItemFile) -> bool:
    """A transcript is our own JSON (``evidencekit.transcript/1``), whatever its file name."""
    if "json" not in file.media_type and not file.name.endswith(".json"):
        return False
    return read(locker, file, len(_TRANSCRIPT_START)) == _TRANSCRIPT_START


def transcript_file(locker: Any, item: Item) -> ItemFile | None:
    return next((f for f in item.files if is_transcript(locker, f)), None)


def transcript(locker: Any, item: Item) -> dict[str, Any] | None:
    """The parsed transcript of an imported chat or e-mail, or None if the item has none."""
    file = transcript_file(locker, item)
    if file is None:
        return None
    try:
        data = json.loads(read(locker, file))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("messages"), list) else None


def is_text(file: ItemFile) -> bool:
    return file.media_type.startswith("text/plain")


def text(locker: Any, file: ItemFile) -> tuple[str, bool]:
    """A text file as text for reading (undecodable bytes shown as �) and whether it was cut."""
    data = read(locker, file, TEXT_LIMIT * 4 + 4)
    shown = data.decode("utf-8", "replace")
    cut = file.size > len(data) or len(shown) > TEXT_LIMIT
    return shown[:TEXT_LIMIT], cut


def is_picture(file: ItemFile) -> bool:
    """Pictures are what the locker could read as an image (it gave them a perceptual hash)."""
    return file.phash is not None and file.media_type.startswith("image/")


def pictures(item: Item) -> list[ItemFile]:
    """The pictures that stand for an item: a web capture's full page (else its window), or
    every picture of any other item."""
    found = [f for f in item.files if is_picture(f)]
    if item.kind == "web":
        for name in (FULL_PAGE, VIEWPORT):
            chosen = [f for f in found if f.name == name]
            if chosen:
                return chosen
    return found
