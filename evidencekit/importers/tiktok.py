"""TikTok "Download your data" in JSON (``user_data.json`` / ``user_data_tiktok.json``).

Why care: direct messages sit deep in one large file (``Direct Message → Direct Messages →
ChatHistory``), one list per partner under a key "Chat History with <username>:" — the colon is
part of the key, and a deleted account leaves the name empty. Usernames are the identity the
export holds. Times carry no zone; TikTok writes them in UTC, which the transcript says was
assumed. Empty lists are ``null``, and ``Date``/``date`` are both spelt.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import EXPORT_UTC, format_utc, parse_utc_text, readable
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Message, Transcript

NAMES = ("tiktok",)
GAPS = ("tiktok_no_videos",)
_FILE = re.compile(r"(?:^|/)user_data(?:_tiktok)?\.json$", re.IGNORECASE)
_SECTIONS = ("Direct Message", "Direct Messages")
PATTERNS: list[_json.Pattern] = [(section, "Direct Messages", "ChatHistory", "*", "*")
                                 for section in _SECTIONS]
_PARTNER = re.compile(r"Chat History with (.*?):?\s*$", re.DOTALL)
_USED = frozenset({"date", "from", "content"})


def _member(src: Source) -> str | None:
    if src.kind == "file":
        return None
    hits = [p for p in src.members if _FILE.search(p)]
    return hits[0] if len(hits) == 1 else None


def sniff(src: Source) -> int:
    head = _json.object_head(src, _member(src))
    if not head:
        return 0
    if '"ChatHistory"' in head and '"Chat History with ' in head:
        return 90
    top_keys = ('"Activity"', '"App Settings"', '"Ads and data"', '"Tiktok Live"')
    return 60 if sum(key in head for key in top_keys) >= 2 else 0


def _field(obj: dict[str, Any], name: str) -> Any:
    """A value under ``name`` whatever its capitals (``Date`` and ``date`` both occur)."""
    if name in obj:
        return obj[name]
    for key, value in obj.items():
        if key.lower() == name:
            return value
    return None


def _owner(root: dict[str, Any]) -> str | None:
    profile = _json.as_dict(root.get("Profile") or {})
    info = _json.as_dict(profile.get("Profile Info") or profile.get("Profile Information") or {})
    data = _json.as_dict(info.get("ProfileMap") or {})
    name = data.get("userName") or data.get("username")
    return name if isinstance(name, str) and name else None


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    member = _member(src)
    if src.kind != "file" and member is None:
        raise ImportFailed("importers.tiktok_no_file", name=src.name)
    doc = _json.read(src, member, PATTERNS, transcript)
    root = _json.as_dict(doc.value)
    owner = _owner(root)
    transcript.details.update({"file": member or src.name, "owner": owner})
    if owner is not None:
        transcript.me, transcript.me_origin = owner, "export"
    transcript.notice("tiktok_utc_assumed", None)
    messages: list[Message] = []
    deleted = 0
    for loc in doc.located:
        key = str(loc.path[3])
        match = _PARTNER.fullmatch(key)
        partner = match[1].strip() if match else key
        msg = _message(len(messages), loc, member, partner or key, owner, transcript)
        deleted += msg.sender is None and not msg.from_me
        messages.append(msg)
    if deleted:
        transcript.notice("deleted_account", None, count=deleted, name="")
    return iter(messages)


def _message(index: int, loc: _json.Located, member: str | None, conversation: str,
             owner: str | None, transcript: Transcript) -> Message:
    obj = _json.as_dict(loc.value)
    written = _json.text_of(_field(obj, "date")) or None
    moment = readable(parse_utc_text, written) if written else None
    if written and moment is None:
        transcript.notice("unreadable_time", index, written=written)
    sender = _json.text_of(_field(obj, "from")) or None
    msg = Message(index=index, sender=sender, time_written=written,
                  time_utc=format_utc(moment) if moment else None,
                  tz_source=EXPORT_UTC if moment else None,
                  text=_json.text_of(_field(obj, "content")), offset=loc.start,
                  length=loc.end - loc.start, source_file=member, pointer=loc.pointer,
                  conversation=conversation, sender_id=sender,
                  from_me=None if owner is None or sender is None else sender == owner)
    msg.extra = {k: v for k, v in obj.items() if k.lower() not in _USED}
    return msg
