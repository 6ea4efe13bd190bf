"""X (Twitter) archive: direct messages and group DMs (``data/direct-messages*.js``).

Why care: the archive writes JavaScript, not JSON (``window.YTD.direct_messages.part0 = [...]``),
and names people only by numeric user id — which is exactly the stable identity a receiver asks
for. ``data/manifest.js`` (or ``data/account.js``) says which id is the archive's owner, so her
own messages are marked without asking. Text is HTML-escaped and links are t.co: the stored text
is kept, and a readable ``display`` unescapes it and shows where each link really went.
"""

from __future__ import annotations

import html
import re
from pathlib import PurePosixPath
from typing import Any, Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import EXPORT_OFFSET, format_utc, parse_offset_time, readable
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("x", "twitter")
#: The DM files; a large archive splits each into ``-part1.js``, ``-part2.js`` …
_FILE = re.compile(r"direct-messages(?:-group)?(?:-part(\d+))?\.js")
PATTERNS: list[_json.Pattern] = [("*", "dmConversation", "messages", "*")]
_ASSIGN = re.compile(rb"\s*window\.(?:YTD\.[A-Za-z_]+\.part\d+|__THAR_CONFIG)\s*=\s*")
_USED = frozenset({"id", "senderId", "initiatingUserId", "text", "createdAt", "mediaUrls"})


def _members(src: Source) -> list[str | None]:
    if src.kind == "file":
        return [None]
    found = [p for p in src.members if _FILE.fullmatch(PurePosixPath(p).name)]
    return sorted(found, key=lambda p: ("group" in p, int(_FILE.fullmatch(
        PurePosixPath(p).name)[1] or 0), p))


def sniff(src: Source) -> int:
    for member in _members(src):
        head = _json.sniff_text(src, member, 4096)
        if head.startswith("window.YTD.direct_messages") and "dmConversation" in head:
            return 95
    return 0


def load_js(src: Source, member: str | None, patterns: list[_json.Pattern],
            transcript: Transcript) -> _json.JsonDoc:
    """One archive ``.js`` file read as the JSON after its ``window.… =`` assignment, with byte
    offsets that count from the start of the file."""
    name = member or src.name
    data = src.read(member)
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    match = _ASSIGN.match(data, bom)
    if match is None:
        raise ImportFailed("importers.x_not_archive_js", name=name)
    body = data[match.end():].rstrip()
    if body.endswith(b";"):
        body = body[:-1]
    doc = _json.load(body, name, patterns)
    for loc in doc.located:
        loc.start += match.end()
        loc.end += match.end()
    for key in sorted(set(doc.duplicate_keys)):
        transcript.notice("duplicate_json_key", None, key=key, file=name)
    return doc


def _owner(src: Source, transcript: Transcript) -> dict[str, str]:
    """The archive owner's id, username and display name, from manifest.js or account.js."""
    if src.kind == "file":
        return {}
    manifest, account = src.find("data/manifest.js"), src.find("data/account.js")
    if manifest is not None:
        info = _json.as_dict(_json.as_dict(load_js(src, manifest, [], transcript).value)
                             .get("userInfo") or {})
        found = {"id": info.get("accountId"), "username": info.get("userName"),
                 "name": info.get("displayName"), "from": "manifest.js"}
    elif account is not None:
        rows = _json.as_list(load_js(src, account, [], transcript).value)
        info = _json.as_dict(_json.as_dict(rows[0] if rows else {}).get("account") or {})
        found = {"id": info.get("accountId"), "username": info.get("username"),
                 "name": info.get("accountDisplayName"), "from": "account.js"}
    else:
        return {}
    return {k: str(v) for k, v in found.items() if isinstance(v, (str, int))}


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    members = _members(src)
    if not members:
        raise ImportFailed("importers.x_no_file", name=src.name)
    owner = _owner(src, transcript)
    transcript.details.update({"files": [m or src.name for m in members], "owner": owner or None})
    if owner.get("id"):
        transcript.me, transcript.me_origin = owner["id"], "export"
    messages: list[Message] = []
    unordered = False
    for member in members:
        doc = load_js(src, member, PATTERNS, transcript)
        _json.as_list(doc.value)
        by_thread: dict[Any, list[_json.Located]] = {}
        for loc in doc.located:
            by_thread.setdefault(loc.path[0], []).append(loc)
        for thread, located in by_thread.items():
            conversation = _json.as_dict(_json.as_dict(doc.value[thread])["dmConversation"])
            ident = _json.text_of(conversation.get("conversationId")) or None
            first = len(messages)
            for loc in reversed(located):  # the archive lists the newest message first
                msg = _message(len(messages), loc, member, ident, owner, src, transcript)
                if msg.extra.get("event") == "conversationNameUpdate":
                    transcript.details.setdefault("group_names", {})[ident] = msg.text
                messages.append(msg)
            times = [m.time_utc for m in messages[first:] if m.time_utc]
            unordered = unordered or times != sorted(times)
    if unordered:
        transcript.notice("not_in_time_order", None)
    return iter(messages)


def display(text: str, urls: list[Any]) -> str | None:
    """The text as X shows it: HTML escapes undone, t.co links replaced by where they lead."""
    shown = html.unescape(text)
    for link in urls:
        if isinstance(link, dict) and isinstance(link.get("url"), str) \
                and isinstance(link.get("expanded"), str) and link["url"]:
            shown = shown.replace(link["url"], link["expanded"])
    return shown if shown != text else None


def _message(index: int, loc: _json.Located, member: str | None, conversation: str | None,
             owner: dict[str, str], src: Source, transcript: Transcript) -> Message:
    wrapper = _json.as_dict(loc.value)
    kind, body = next(iter(wrapper.items())) if len(wrapper) == 1 else ("", {})
    obj = _json.as_dict(body)
    sender_id = obj.get("senderId", obj.get("initiatingUserId"))
    sender_id = str(sender_id) if isinstance(sender_id, (str, int)) else None
    mine = None if not owner.get("id") or sender_id is None else sender_id == owner["id"]
    sender = sender_id
    if mine and owner.get("username"):
        sender = "@" + owner["username"]
    written = _json.text_of(obj.get("createdAt")) or None
    moment = readable(parse_offset_time, written) if written else None
    if written and moment is None:
        transcript.notice("unreadable_time", index, written=written)
    text = _json.text_of(obj.get("text") if kind == "messageCreate" else obj.get("name"))
    msg = Message(index=index, sender=sender, time_written=written,
                  time_utc=format_utc(moment) if moment else None,
                  tz_source=EXPORT_OFFSET if moment else None, text=text,
                  system=kind != "messageCreate", offset=loc.start, length=loc.end - loc.start,
                  source_file=member, pointer=loc.pointer, conversation=conversation,
                  sender_id=sender_id, from_me=mine)
    msg.id = str(obj["id"]) if isinstance(obj.get("id"), (str, int)) else None
    msg.display = display(text, _json.as_list(obj.get("urls") or []))
    for url in _json.as_list(obj.get("mediaUrls") or []):
        url = _json.text_of(url)
        base = PurePosixPath(url.split("?", 1)[0]).name
        local = src.find(f"{msg.id}-{base}") if msg.id and base and src.kind != "file" else None
        msg.attachments.append(src.attachment(base, local) if local
                               else Attachment(base or None, None, "missing", ref=url or None))
    msg.extra = _json.leftover(obj, _USED)
    if kind != "messageCreate":  # someone joined, left, renamed the group: an event, not words
        msg.extra["event"] = kind
    return msg
