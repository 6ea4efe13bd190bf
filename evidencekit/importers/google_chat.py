"""Google Chat from Google Takeout: ``Google Chat/Groups/<DM …|Space …>/messages.json``.

Why care: the e-mail address of each ``creator`` is the stable identity (names are what the
account said then); ``Google Chat/Users/User …/user_info.json`` names the account the Takeout
belongs to, so her own messages are marked. ``created_date`` is written in words, in the
account's language, with the zone at the end ("… at 21:47:12 UTC"; newer ones put a narrow
no-break space before AM/PM). One Takeout holds many conversations, named in ``group_info.json``.
"""

from __future__ import annotations

from datetime import timezone
from pathlib import PurePosixPath
from typing import Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import (EXPORT_OFFSET, format_utc, parse_worded, readable)
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Message, Transcript

NAMES = ("google-chat",)
PATTERNS: list[_json.Pattern] = [("messages", "*")]
_USED = frozenset({"creator", "created_date", "text", "message_id", "attached_files"})


def _threads(src: Source) -> list[str]:
    """Every conversation's messages.json (a Takeout folder or zip; a lone file is one)."""
    return sorted(p for p in src.members if PurePosixPath(p).name == "messages.json"
                  and PurePosixPath(p).parent.parent.name == "Groups")


def sniff(src: Source) -> int:
    members: list[str | None] = [None] if src.kind == "file" else list(_threads(src)[:1])
    for member in members:
        head = _json.sniff_text(src, member, 8192)
        if head.startswith("{") and '"creator"' in head and '"created_date"' in head:
            return 90
        if member is not None and head.startswith("{") and '"messages"' in head:
            return 60
    return 0


def _owner(src: Source, transcript: Transcript) -> str | None:
    infos = [p for p in src.members if PurePosixPath(p).name == "user_info.json"
             and PurePosixPath(p).parent.parent.name == "Users"]
    if len(infos) != 1:
        return None
    user = _json.as_dict(_json.as_dict(_json.read(src, infos[0], [], transcript).value)
                         .get("user") or {})
    email = user.get("email")
    return email.lower() if isinstance(email, str) and email else None


def _title(src: Source, folder: PurePosixPath, transcript: Transcript) -> str:
    """The conversation's name: the space's name, or the other members of a DM."""
    info_path = str(folder / "group_info.json")
    if info_path not in src.members:
        return folder.name
    info = _json.as_dict(_json.read(src, info_path, [], transcript).value)
    if isinstance(info.get("name"), str) and info["name"]:
        return info["name"]
    names = [_json.text_of(_json.as_dict(m).get("name")) or _json.text_of(m.get("email"))
             for m in _json.as_list(info.get("members") or [])]
    return ", ".join(n for n in names if n) or folder.name


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    members: list[str | None] = [None] if src.kind == "file" else list(_threads(src))
    if not members:
        raise ImportFailed("importers.google_chat_no_file", name=src.name)
    owner = None if src.kind == "file" else _owner(src, transcript)
    transcript.details.update({"owner": owner, "files": [m or src.name for m in members]})
    if owner is not None:
        transcript.me, transcript.me_origin = owner, "export"
    messages: list[Message] = []
    for member in members:
        title = src.name if member is None else \
            _title(src, PurePosixPath(member).parent, transcript)
        doc = _json.read(src, member, PATTERNS, transcript)
        _json.as_dict(doc.value)
        for loc in doc.located:
            messages.append(_message(len(messages), loc, member, title, owner, src,
                                     transcript))
    return iter(messages)


def _message(index: int, loc: _json.Located, member: str | None, title: str,
             owner: str | None, src: Source, transcript: Transcript) -> Message:
    obj = _json.as_dict(loc.value)
    creator = _json.as_dict(obj.get("creator") or {})
    email = _json.text_of(creator.get("email")) or None
    name = _json.text_of(creator.get("name")) or None
    written = _json.text_of(obj.get("created_date")) or None
    utc = None
    if written:
        parsed = readable(parse_worded, written)
        if parsed is not None and parsed[1] is not None:
            utc = format_utc((parsed[0] - parsed[1]).replace(tzinfo=timezone.utc))
        else:
            transcript.notice("unreadable_time", index, written=written)
    msg = Message(index=index, sender=name or email, time_written=written, time_utc=utc,
                  tz_source=EXPORT_OFFSET if utc else None, text=_json.text_of(obj.get("text")),
                  offset=loc.start, length=loc.end - loc.start, source_file=member,
                  pointer=loc.pointer, conversation=title, sender_id=email)
    if owner is not None:
        msg.from_me = (email or "").lower() == owner
    msg.id = _json.text_of(obj.get("message_id")) or None
    folder = PurePosixPath(member).parent if member else None
    for item in _json.as_list(obj.get("attached_files") or []):
        item = _json.as_dict(item)
        shown = _json.text_of(item.get("original_name")) or None
        stored = _json.text_of(item.get("export_name")) or None
        ref = str(folder / stored) if folder is not None and stored else stored
        msg.attachments.append(src.attachment(shown or stored, ref))
    msg.extra = _json.leftover(obj, _USED)
    if creator.get("user_type") is not None:
        msg.extra["user_type"] = creator["user_type"]
    return msg
