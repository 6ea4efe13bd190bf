"""Snapchat "My Data" chat history (``json/chat_history.json`` in the zip, or the file alone).

Why care: the export holds only the chats that were *saved* in the chat (or were still on the
server when the data was asked for); a worker must not take it for the whole conversation, so
every transcript says so (``GAPS``). Two layouts exist: the older one splits "Received Saved
Chat History" and "Sent Saved Chat History"; the newer one groups by conversation and says
``IsSender``. The ``From`` username is the stable identity (display names can be changed and
copied).
"""

from __future__ import annotations

import html
from pathlib import PurePosixPath
from typing import Any, Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import EXPORT_UTC, format_utc, parse_utc_text, readable
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("snapchat",)
GAPS = ("snapchat_saved_only",)
FILE = "chat_history.json"
PATTERNS: list[_json.Pattern] = [("*", "*")]
RECEIVED, SENT = "Received Saved Chat History", "Sent Saved Chat History"
_USED = frozenset({"From", "To", "Created", "Text", "Content", "IsSender", "Media IDs"})
#: Media types that are words; any other type is a snap, picture, video or voice note the
#: chat history names but does not hold.
_WORDS = {"TEXT", ""}


def _member(src: Source) -> str | None:
    return None if src.kind == "file" else src.find(FILE)


def sniff(src: Source) -> int:
    head = _json.object_head(src, _member(src), 8192)
    if '"Media Type"' not in head or '"Created"' not in head:
        return 0
    return 90 if (RECEIVED in head or SENT in head or '"IsSender"' in head) else 60


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    member = _member(src)
    if src.kind != "file" and member is None:
        raise ImportFailed("importers.snapchat_no_file", name=src.name)
    doc = _json.read(src, member, PATTERNS, transcript)
    root = _json.as_dict(doc.value)
    older = RECEIVED in root or SENT in root
    transcript.details.update({"file": member or src.name,
                               "layout": "older" if older else "by-conversation"})
    media = _media(src)
    messages = [_message(index, loc, older, member, src, media, _json.as_dict(loc.value))
                for index, loc in enumerate(doc.located)]
    if older:  # received and sent lists apart: put them in time order, keeping each one's place
        messages.sort(key=lambda m: (m.time_utc is None, m.time_utc or "", m.index))
        for index, msg in enumerate(messages):
            msg.index = index
    for msg in messages:
        if msg.time_written and msg.time_utc is None:
            transcript.notice("unreadable_time", msg.index, written=msg.time_written)
    return iter(messages)


def _media(src: Source) -> dict[str, str]:
    """The files of ``chat_media/`` by the media id in their names (``2019-02-12_<id>.jpg``)."""
    found: dict[str, str] = {}
    for path in src.members:
        name = PurePosixPath(path)
        if name.parent.name == "chat_media" and "_" in name.stem:
            found.setdefault(name.stem.split("_", 1)[1], path)
    return found


def _message(index: int, loc: _json.Located, older: bool, member: str | None, src: Source,
             media: dict[str, str], obj: dict[str, Any]) -> Message:
    group = str(loc.path[0])
    written = _json.text_of(obj.get("Created")) or None
    moment = readable(parse_utc_text, written) if written else None
    text = _json.text_of(obj.get("Text" if "Text" in obj else "Content"))
    sender = _json.text_of(obj.get("From")) or None
    if older:
        mine = group == SENT
        partner = obj.get("To") if mine else sender
        conversation = _json.text_of(partner) or None
    else:
        flag = obj.get("IsSender")
        mine = flag if isinstance(flag, bool) else None
        title = obj.get("Conversation Title")
        conversation = title if isinstance(title, str) and title else group
    msg = Message(index=index, sender=sender, time_written=written,
                  time_utc=format_utc(moment) if moment else None,
                  tz_source=EXPORT_UTC if moment else None, text=text, offset=loc.start,
                  length=loc.end - loc.start, source_file=member, pointer=loc.pointer,
                  conversation=conversation, sender_id=_json.text_of(obj.get("From")) or None)
    msg.from_me = mine
    shown = html.unescape(text)  # the older layout escapes some characters (&#39;)
    msg.display = shown if shown != text else None
    ids = [i.strip() for i in _json.text_of(obj.get("Media IDs")).split("|") if i.strip()]
    for ident in ids:
        found = media.get(ident)
        msg.attachments.append(Attachment(ident, None, "missing") if found is None
                               else src.attachment(PurePosixPath(found).name, found))
    kind = _json.text_of(obj.get("Media Type")).upper()
    if kind not in _WORDS and not ids:
        msg.attachments.append(Attachment(None, None, "omitted"))
    msg.extra = _json.leftover(obj, _USED)
    return msg
