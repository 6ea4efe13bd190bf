"""Facebook Messenger and Instagram "Download your information" JSON (``message_N.json``).

Why care: Meta writes every string as UTF-8 bytes mis-read as Latin-1 ("Ã¸" for "ø"); the
repair ``s.encode("latin-1").decode("utf-8")`` is exact and reversible, and when it does not apply
the string is kept as stored. Threads are split across ``message_1.json``, ``message_2.json`` …
with the newest messages first; we give them oldest first (files from the highest number down,
each read backwards) and keep every message's file and offset. Files may start with a BOM.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any, Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import EXPORT_UTC, epoch_utc, readable
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("messenger", "instagram")
GAPS = ("names_only",)
#: From 2024 Messenger chats are end-to-end encrypted and left out of this export (channels.md).
E2EE_SINCE = "2024"
PATTERNS: list[_json.Pattern] = [("messages", "*")]
_FILE = re.compile(r"message_(\d+)\.json")
_USED = frozenset({"sender_name", "timestamp_ms", "content", "photos", "videos", "audio_files",
                   "files", "gifs", "sticker", "is_unsent", "type"})
_MEDIA_KEYS = ("photos", "videos", "audio_files", "files", "gifs")
_SERVICE_TYPES = {"Subscribe", "Unsubscribe", "Call"}


def repair(text: str) -> str:
    """Undo Meta's Latin-1 mis-decoding; return ``text`` unchanged when it is not mojibake."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def repair_all(value: Any) -> Any:
    """``repair`` applied to every string inside a JSON value (keys included)."""
    if isinstance(value, str):
        return repair(value)
    if isinstance(value, list):
        return [repair_all(v) for v in value]
    if isinstance(value, dict):
        return {repair(k): repair_all(v) for k, v in value.items()}
    return value


def _files(src: Source) -> list[str]:
    """The message files of one thread, highest number (oldest messages) first."""
    if src.kind == "file":
        return []
    found = [p for p in src.members if _FILE.fullmatch(PurePosixPath(p).name)]
    folders = {str(PurePosixPath(p).parent) for p in found}
    if len(folders) > 1:
        raise ImportFailed("importers.messenger_many_threads", name=src.name, count=len(folders))
    return sorted(found, key=lambda p: -int(_FILE.fullmatch(PurePosixPath(p).name)[1]))


def sniff(src: Source) -> int:
    files = [None] if src.kind == "file" else _files(src)[-1:]
    if not files:
        return 0
    head = _json.sniff_text(src, files[0])
    if head.startswith("{") and '"participants"' in head and '"timestamp_ms"' in head:
        return 90
    return 0


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    members: list[str | None] = [None] if src.kind == "file" else list(_files(src))
    if not members:
        raise ImportFailed("importers.messenger_no_files", name=src.name)
    messages: list[Message] = []
    repaired = 0
    titles: set[str] = set()
    for member in members:
        doc = _json.read(src, member, PATTERNS, transcript)
        root = _json.as_dict(doc.value)
        title = root.get("title")
        if isinstance(title, str):
            titles.add(repair(title))
        participants = [repair(_json.text_of(_json.as_dict(p).get("name")))
                        for p in _json.as_list(root.get("participants") or [])]
        transcript.details.setdefault("participants", participants)
        transcript.details.setdefault("thread_path", root.get("thread_path"))
        for loc in reversed(doc.located):
            msg = _message(len(messages), loc, member, repair(title) if isinstance(title, str)
                           else None, src, opts)
            if msg.time_written is not None and msg.time_utc is None:
                transcript.notice("unreadable_time", msg.index, written=msg.time_written)
            repaired += msg.text_repair is not None
            messages.append(msg)
    instagram = opts.fmt == "instagram" or any(
        "instagram" in (m or "").lower() for m in members) or "instagram" in src.name.lower()
    transcript.details.update({"files": [m or src.name for m in members],
                               "title": sorted(titles)[0] if titles else None,
                               "app": "instagram" if instagram else "messenger"})
    if repaired:
        transcript.notice("mojibake_repaired", None, count=repaired)
    times = [m.time_utc for m in messages if m.time_utc]
    if times != sorted(times):
        transcript.notice("not_in_time_order", None)
    if not instagram and times and max(times) >= E2EE_SINCE:
        transcript.gaps.append("messenger_e2ee")
    return iter(messages)


def _message(index: int, loc: _json.Located, member: str | None, title: str | None,
             src: Source, opts: Options) -> Message:
    raw = _json.as_dict(loc.value)
    obj = repair_all(raw)
    text = _json.text_of(obj.get("content"))
    stamp = raw.get("timestamp_ms")
    utc = readable(epoch_utc, str(stamp), 1000) if stamp is not None else None
    msg = Message(index=index, sender=obj.get("sender_name"),
                  time_written=str(stamp) if stamp is not None else None,
                  time_utc=utc, tz_source=EXPORT_UTC if utc else None, text=text,
                  system=obj.get("type") in _SERVICE_TYPES, offset=loc.start,
                  length=loc.end - loc.start, source_file=member, pointer=loc.pointer,
                  conversation=title)
    if text != _json.text_of(raw.get("content")):
        msg.text_repair = "latin1-mojibake"
    msg.deleted = bool(obj.get("is_unsent"))
    for key in _MEDIA_KEYS:
        for item in _json.as_list(obj.get(key) or []):
            msg.attachments.append(attachment(_json.as_dict(item), src))
    if isinstance(obj.get("sticker"), dict):
        msg.attachments.append(attachment(obj["sticker"], src))
    msg.extra = _json.leftover(obj, _USED)
    if obj.get("type") is not None:
        msg.extra["type"] = obj["type"]
    return msg


def attachment(item: dict[str, Any], src: Source) -> Attachment:
    """A media entry (``{"uri": ...}``): the file in the export, or a link it only names."""
    uri = _json.text_of(item.get("uri"))
    if "://" in uri or not uri:
        return Attachment(PurePosixPath(uri).name or None, None, "missing", ref=uri or None)
    return src.attachment(PurePosixPath(uri).name, uri)
