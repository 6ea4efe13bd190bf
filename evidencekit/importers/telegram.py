"""Telegram Desktop "Export chat history" / "Export Telegram data" JSON (``result.json``).

Why care: ``text`` is either a string or a list of strings and entity objects that must be joined
exactly (no spaces added); ``date`` is the exporting computer's local time without an offset,
while newer exports add ``date_unixtime`` (UTC). Where both exist we use the UTC value and check
that the written local time fits the chosen zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import (EXPORT_UTC, LocalClock, epoch_utc, format_utc, from_epoch,
                                         readable)
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("telegram",)

PATTERNS: list[_json.Pattern] = [
    ("messages", "*"),
    ("chats", "list", "*", "messages", "*"),
    ("left_chats", "list", "*", "messages", "*"),
]
_USED = frozenset({"id", "type", "date", "date_unixtime", "from", "from_id", "actor", "actor_id",
                   "text", "text_entities", "edited", "edited_unixtime", "reply_to_message_id"})
#: Keys that name a file; Telegram writes "(File not included. …)" when it left the file out.
_FILE_KEYS = ("photo", "file", "thumbnail")
_NOT_INCLUDED = "(File not included"


def _member(src: Source) -> str | None:
    if src.kind == "file":
        return None
    hits = [p for p in src.members if PurePosixPath(p).name == "result.json"]
    return min(hits, key=len) if hits else None


def sniff(src: Source) -> int:
    head = _json.object_head(src, _member(src))
    if not head:
        return 0
    if '"text_entities"' in head or '"date_unixtime"' in head:
        return 90
    if '"personal_information"' in head and '"chats"' in head:
        return 90
    if '"from_id"' in head and '"messages"' in head and '"type"' in head:
        return 60
    return 0


def join_text(value: Any) -> str:
    """Telegram's ``text``: a string, or a list of strings and ``{"type", "text"}`` objects,
    joined exactly as written."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise TypeError("text is neither a string nor a list")
    parts = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        else:
            parts.append(_json.text_of(_json.as_dict(part).get("text")))
    return "".join(parts)


def _naive(text: Any) -> datetime:
    """Telegram's ``date``: a local time written without an offset."""
    moment = datetime.fromisoformat(_json.text_of(text))
    if moment.tzinfo is not None:
        raise ValueError("unexpected offset")
    return moment


def _offset_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


class _Reader:
    def __init__(self, src: Source, opts: Options, transcript: Transcript, member: str | None):
        self.src, self.opts, self.t, self.member = src, opts, transcript, member
        self.seen_offsets: set[str] = set()
        self.last_utc: datetime | None = None
        self.zone_used = False
        self.clock = LocalClock(opts.zone)

    def attachments(self, obj: dict[str, Any]) -> list[Attachment]:
        found = []
        for key in _FILE_KEYS:
            value = obj.get(key)
            if value is None:
                continue
            value = _json.text_of(value)
            name = obj.get("file_name") if key == "file" else None
            if value.startswith(_NOT_INCLUDED):
                found.append(Attachment(name or None, None, "omitted", ref=value))
            else:
                found.append(self.src.attachment(name or PurePosixPath(value).name, value))
        return found

    def time(self, msg: Message, obj: dict[str, Any]) -> None:
        written = obj.get("date")
        unix = obj.get("date_unixtime")
        msg.time_written = _json.text_of(written) if written is not None else (
            str(unix) if unix is not None else None)
        local = readable(_naive, written) if written is not None else None
        utc = readable(from_epoch, str(unix)) if unix is not None else None
        if msg.time_written is not None and local is None and utc is None:
            self.t.notice("unreadable_time", msg.index, written=msg.time_written)
        if utc is not None:
            msg.time_utc, msg.tz_source = format_utc(utc), EXPORT_UTC
            if local is not None:
                observed = local - utc.replace(tzinfo=None)
                expected = utc.astimezone(self.opts.zone.info).utcoffset()
                if observed != expected:
                    label = _offset_text(observed)
                    if label not in self.seen_offsets:
                        self.seen_offsets.add(label)
                        self.t.notice("telegram_offset_differs", msg.index, observed=label,
                                      zone=self.opts.zone.name,
                                      expected=_offset_text(expected or timedelta()))
            self.last_utc = utc
        elif local is not None:
            result = self.clock.to_utc(local, self.last_utc)
            msg.time_utc, msg.tz_source = format_utc(result.utc), self.opts.zone.source
            self.zone_used = True
            if result.problem:
                self.t.notice(f"local_time_{result.problem}", msg.index, written=written,
                              zone=self.opts.zone.name, chosen=msg.time_utc)
            self.last_utc = result.utc
        edited_unix = obj.get("edited_unixtime")
        if edited_unix is not None or obj.get("edited") is not None:
            msg.edited = True
            if edited_unix is not None:
                msg.edited_utc = readable(epoch_utc, str(edited_unix))

    def message(self, index: int, loc: _json.Located, chat: str | None) -> Message:
        obj = _json.as_dict(loc.value)
        kind = obj.get("type")
        service = kind == "service"
        sender = obj.get("actor" if service else "from")
        sender_id = obj.get("actor_id" if service else "from_id")
        msg = Message(index=index, sender=_json.text_of(sender) if sender is not None else None,
                      time_written=None, time_utc=None, tz_source=None,
                      text=join_text(obj.get("text", "")), system=service,
                      offset=loc.start, length=loc.end - loc.start, source_file=self.member,
                      pointer=loc.pointer, conversation=chat)
        msg.id = str(obj["id"]) if obj.get("id") is not None else None
        msg.sender_id = str(sender_id) if sender_id is not None else None
        if obj.get("reply_to_message_id") is not None:
            msg.reply_to = str(obj["reply_to_message_id"])
        self.time(msg, obj)
        msg.attachments = self.attachments(obj)
        msg.extra = _json.leftover(obj, _USED)
        return msg


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    member = _member(src)
    if src.kind != "file" and member is None:
        raise ImportFailed("importers.telegram_no_result", name=src.name)
    doc = _json.read(src, member, PATTERNS, transcript)
    root = _json.as_dict(doc.value)
    full = "messages" not in root
    transcript.details.update({"export": "full" if full else "chat",
                               "chat_file": member or src.name})
    if not full:
        transcript.details.update({"chat_name": root.get("name"), "chat_type": root.get("type"),
                                   "chat_id": root.get("id")})
    owner = _json.as_dict(root.get("personal_information") or {}).get("user_id") if full else None
    if opts.me is None and isinstance(owner, (int, str)) and str(owner).isdigit():
        # a full export names its owner; her messages carry from_id "user<id>"
        transcript.me, transcript.me_origin = f"user{owner}", "export"
    reader = _Reader(src, opts, transcript, member)
    seen: dict[tuple[Any, str], int] = {}
    messages = []
    for index, loc in enumerate(doc.located):
        chat = root.get("name") if not full else _json.as_dict(
            root[loc.path[0]]["list"][loc.path[2]]).get("name")
        msg = reader.message(index, loc, chat)
        key = (loc.path[:-1], msg.id or "")
        if msg.id is not None and key in seen:
            transcript.notice("duplicate_id", index, id=msg.id, first=seen[key])
        seen.setdefault(key, index)
        messages.append(msg)
    if reader.zone_used:
        transcript.tz, transcript.tz_origin = opts.zone.name, opts.zone.origin
    return iter(messages)
