"""Slack workspace export (zip or unpacked folder): ``users.json``, ``channels.json`` and one
folder per conversation with one JSON file per day.

Why care: ``ts`` is both the UTC time and the message id; the text is stored with Slack's own
markup (``<@U123>`` for a person, ``<url|label>`` for links) and HTML escaping (``&lt;`` ``&gt;``
``&amp;``). The stored text is kept exactly; a readable ``display`` with names and plain
characters is derived next to it.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import EXPORT_UTC, epoch_utc, readable
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("slack",)
PATTERNS: list[_json.Pattern] = [("*",)]
_USED = frozenset({"user", "text", "ts", "edited", "thread_ts", "files", "file",
                   "user_profile", "username"})
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
_LISTS = ("channels.json", "groups.json", "dms.json", "mpims.json")
#: Subtypes that are people (or their bots) writing; other subtypes are service events.
_SPOKEN = {None, "bot_message", "file_share", "file_comment", "thread_broadcast", "me_message",
           "reply_broadcast", "file_mention"}
_MARKUP = re.compile(r"<([@#!])?([^<>|]*)(?:\|([^<>]*))?>")


def _root(src: Source) -> str | None:
    """The folder prefix of the export inside the zip/folder ("" at top level)."""
    for path in sorted(src.members, key=len):
        if PurePosixPath(path).name != "users.json":
            continue
        prefix = path[: -len("users.json")]
        if any(prefix + name in src.members for name in _LISTS):
            return prefix
    return None


def sniff(src: Source) -> int:
    if src.kind == "file":
        return 0
    root = _root(src)
    if root is None:
        return 0
    days = [p for p in src.members if p.startswith(root) and _DAY.fullmatch(PurePosixPath(p).name)]
    return 90 if days else 50


def display(text: str, users: dict[str, str], channels: dict[str, str]) -> str:
    """Slack text made readable: mentions by name, links by label, HTML escapes undone."""
    def swap(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return "@" + (label or users.get(target, target))
        if sigil == "#":
            return "#" + (label or channels.get(target, target))
        if sigil == "!":
            return "@" + (label or target.split("^")[0])
        return label or target
    shown = _MARKUP.sub(swap, text)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _names(src: Source, root: str, transcript: Transcript) -> tuple[dict[str, str], dict[str, str],
                                                                      dict[str, str]]:
    users: dict[str, str] = {}
    doc = _json.read(src, root + "users.json", [], transcript)
    for user in _json.as_list(doc.value):
        user = _json.as_dict(user)
        profile = user.get("profile") or {}
        users[str(user.get("id"))] = (profile.get("display_name") or user.get("real_name")
                                      or profile.get("real_name") or user.get("name")
                                      or str(user.get("id")))
    channels: dict[str, str] = {}
    folder_ids: dict[str, str] = {}
    for name in _LISTS:
        if root + name not in src.members:
            continue
        for chan in _json.as_list(_json.read(src, root + name, [], transcript).value):
            chan = _json.as_dict(chan)
            label = chan.get("name") or chan.get("id")
            channels[str(chan.get("id"))] = str(label)
            folder_ids[str(label)] = str(chan.get("id"))
    return users, channels, folder_ids


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    root = _root(src)
    if root is None:
        raise ImportFailed("importers.slack_no_users", name=src.name)
    users, channels, folder_ids = _names(src, root, transcript)
    days = sorted(p for p in src.members
                  if p.startswith(root) and _DAY.fullmatch(PurePosixPath(p).name)
                  and PurePosixPath(p[len(root):]).parent != PurePosixPath("."))
    transcript.details.update({"root": root or None, "conversations": sorted(
        {str(PurePosixPath(p[len(root):]).parent) for p in days}), "users": len(users)})
    ignored = sorted(p for p in src.members if p.startswith(root) and p not in days
                     and PurePosixPath(p[len(root):]).parent == PurePosixPath(".")
                     and p[len(root):] not in ("users.json",) + _LISTS)
    if ignored:
        transcript.notice("files_not_messages", None, files=", ".join(ignored))
    messages: list[Message] = []
    for day in days:
        conversation = str(PurePosixPath(day[len(root):]).parent)
        doc = _json.read(src, day, PATTERNS, transcript)
        _json.as_list(doc.value)
        for loc in doc.located:
            messages.append(_message(len(messages), loc, day, conversation, users, channels,
                                     src, opts, transcript))
    return iter(messages)


def _message(index: int, loc: _json.Located, member: str, conversation: str,
             users: dict[str, str], channels: dict[str, str], src: Source,
             opts: Options, transcript: Transcript) -> Message:
    obj = _json.as_dict(loc.value)
    text = _json.text_of(obj.get("text"))
    comment = obj.get("comment") if isinstance(obj.get("comment"), dict) else {}
    user = obj.get("user") or comment.get("user") or obj.get("bot_id")
    profile = obj.get("user_profile") or {}
    written = profile.get("display_name") or profile.get("real_name") or obj.get("username")
    if written:
        sender, sender_from = written, "message"
    elif user is not None and str(user) in users:
        sender, sender_from = users[str(user)], "users.json"
    else:
        sender, sender_from = (str(user) if user is not None else None), "id"
    ts = _json.text_of(obj.get("ts")) or None
    utc = readable(epoch_utc, ts) if ts else None
    if ts and utc is None:
        transcript.notice("unreadable_time", index, written=ts)
    msg = Message(index=index, sender=sender, time_written=ts,
                  time_utc=utc, tz_source=EXPORT_UTC if utc else None,
                  text=text, system=obj.get("subtype") not in _SPOKEN, offset=loc.start,
                  length=loc.end - loc.start, source_file=member, pointer=loc.pointer,
                  conversation=conversation)
    msg.id = ts
    msg.sender_id = str(user) if user is not None else None
    shown = display(text, users, channels)
    if not text.strip() and isinstance(obj.get("attachments"), list):
        shown = "\n".join(display(_json.text_of(a.get("fallback")), users, channels)
                          for a in obj["attachments"] if isinstance(a, dict))
    msg.display = shown if shown != text else None
    edited = obj.get("edited")
    if isinstance(edited, dict):
        msg.edited = True
        if edited.get("ts"):
            msg.edited_utc = readable(epoch_utc, _json.text_of(edited["ts"]))
    thread = obj.get("thread_ts")
    if thread and thread != ts:
        msg.reply_to = str(thread)
    msg.deleted = obj.get("subtype") in ("tombstone", "message_deleted")
    files = list(_json.as_list(obj.get("files") or []))
    if isinstance(obj.get("file"), dict):
        files.append(obj["file"])
    for item in files:
        item = _json.as_dict(item)
        name = item.get("name") or item.get("title")
        msg.attachments.append(Attachment(name, None, "missing",
                                          ref=item.get("url_private") or item.get("permalink")))
    msg.extra = _json.leftover(obj, _USED)
    msg.extra["sender_from"] = sender_from
    return msg
