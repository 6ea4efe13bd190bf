"""DiscordChatExporter JSON (one channel per file).

Why the extra check: every Discord id (a "snowflake") encodes the moment it was created, so a
message whose ``timestamp`` disagrees with its own id has been edited by hand after export — a
free consistency check worth reporting. Ids written twice are reported too; both are kept.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath
from typing import Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import (EXPORT_OFFSET, format_utc, parse_offset_time,
                                         readable, snowflake_time)
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("discord",)
PATTERNS: list[_json.Pattern] = [("messages", "*")]
_USED = frozenset({"id", "type", "timestamp", "timestampEdited", "content", "author",
                   "attachments", "reference"})
#: Message types that are people talking; everything else is a service event.
_SPOKEN = {"Default", "Reply", "ThreadStarterMessage"}
#: How far a timestamp may stray from its id's time before we report it (ms rounding only).
TOLERANCE_MS = 1000


def check_snowflake(msg: Message, moment: datetime, transcript: Transcript) -> None:
    """Report a message whose written time disagrees with the time its own id encodes."""
    created = readable(snowflake_time, int(msg.id)) if msg.id and msg.id.isdigit() else None
    if created is not None and abs((moment - created).total_seconds()) * 1000 > TOLERANCE_MS:
        transcript.notice("snowflake_mismatch", msg.index, id=msg.id, written=msg.time_utc,
                          id_time=format_utc(created))


def _member(src: Source) -> str | None:
    if src.kind == "file":
        return None
    hits = [p for p in src.members if p.lower().endswith(".json")
            and '"guild"' in _json.sniff_text(src, p, 4096)]
    return hits[0] if len(hits) == 1 else None


def sniff(src: Source) -> int:
    head = _json.object_head(src, _member(src))
    if '"guild"' in head and '"channel"' in head:
        return 90
    return 0


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    member = _member(src)
    if src.kind != "file" and member is None:
        raise ImportFailed("importers.discord_no_file", name=src.name)
    doc = _json.read(src, member, PATTERNS, transcript)
    root = _json.as_dict(doc.value)
    guild = _json.as_dict(root.get("guild") or {})
    channel = _json.as_dict(root.get("channel") or {})
    transcript.details.update({
        "guild": guild.get("name"), "guild_id": guild.get("id"),
        "channel": channel.get("name"), "channel_id": channel.get("id"),
        "category": channel.get("category"), "date_range": root.get("dateRange"),
        "message_count_written": root.get("messageCount"), "file": member or src.name})
    written = root.get("messageCount")
    if isinstance(written, int) and written != len(doc.located):
        transcript.notice("count_differs", None, written=written, found=len(doc.located))
    seen: dict[str, int] = {}
    messages = []
    for index, loc in enumerate(doc.located):
        obj = _json.as_dict(loc.value)
        author = _json.as_dict(obj.get("author") or {})
        sender = author.get("nickname") or author.get("name")
        msg = Message(index=index, sender=sender, time_written=obj.get("timestamp"),
                      time_utc=None, tz_source=None, text=_json.text_of(obj.get("content")),
                      system=obj.get("type", "Default") not in _SPOKEN, offset=loc.start,
                      length=loc.end - loc.start, source_file=member, pointer=loc.pointer,
                      conversation=channel.get("name"))
        msg.id = str(obj.get("id")) if obj.get("id") is not None else None
        msg.sender_id = str(author["id"]) if author.get("id") is not None else None
        if opts.me is not None:
            msg.from_me = opts.me in (author.get("name"), author.get("nickname"))
        moment = readable(parse_offset_time, msg.time_written) if msg.time_written else None
        if moment is not None:
            msg.time_utc, msg.tz_source = format_utc(moment), EXPORT_OFFSET
            check_snowflake(msg, moment, transcript)
        elif msg.time_written:
            transcript.notice("unreadable_time", index, written=str(msg.time_written))
        edited = obj.get("timestampEdited")
        if edited is not None:
            msg.edited = True
            edited_at = readable(parse_offset_time, edited)
            msg.edited_utc = format_utc(edited_at) if edited_at is not None else None
        reference = obj.get("reference")
        if isinstance(reference, dict) and reference.get("messageId") is not None:
            msg.reply_to = str(reference["messageId"])
        for item in _json.as_list(obj.get("attachments") or []):
            item = _json.as_dict(item)
            url = _json.text_of(item.get("url"))
            local = None if "://" in url else url
            name = item.get("fileName") or PurePosixPath(url).name or None
            msg.attachments.append(src.attachment(name, local) if local
                                   else Attachment(name, None, "missing", ref=url or None))
        msg.extra = _json.leftover(obj, _USED)
        msg.extra["author"] = author
        if msg.id is not None:
            if msg.id in seen:
                transcript.notice("duplicate_id", index, id=msg.id, first=seen[msg.id])
            seen.setdefault(msg.id, index)
        messages.append(msg)
    return iter(messages)
