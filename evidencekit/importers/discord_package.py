"""Discord's own data package ("Request all of my data"): ``messages/c<channel id>/``.

Why a module of its own, apart from ``discord.py`` (DiscordChatExporter): the package holds
*only the requester's own messages* — nothing anyone else wrote. It is recognised so the worker
is told that plainly, instead of importing it and believing she has the conversation; her own
messages are still imported (they show what she answered and when). Each id is a snowflake that
encodes its own creation time, checked against the written time as for DiscordChatExporter.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any, Iterator

from evidencekit.importers import _csv, _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import (EXPORT_OFFSET, EXPORT_UTC, format_utc,
                                         parse_offset_time, parse_utc_text, readable)
from evidencekit.importers.discord import check_snowflake
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("discord-package",)
GAPS = ("discord_package_own_only",)
_FILE = re.compile(r"(?:^|.*/)messages/c?(\d+)/messages\.(csv|json)$")
PATTERNS: list[_json.Pattern] = [("*",)]
_USED = {"ID", "TIMESTAMP", "CONTENTS", "ATTACHMENTS"}


def _channels(src: Source) -> list[tuple[str, str]]:
    """(channel id, member) of every channel's messages file, by channel id."""
    found = [(match[1], path) for path in src.members if (match := _FILE.fullmatch(path))]
    return sorted(found, key=lambda pair: (int(pair[0]), pair[1]))


def sniff(src: Source) -> int:
    return 95 if src.kind != "file" and _channels(src) else 0


def _json_value(src: Source, member: str | None, transcript: Transcript) -> Any:
    return None if member is None else _json.read(src, member, [], transcript).value


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    channels = _channels(src)
    if not channels:
        raise ImportFailed("importers.discord_package_no_messages", name=src.name)
    first = PurePosixPath(channels[0][1]).parent.parent
    index = _json_value(src, src.find(str(first / "index.json")), transcript) or {}
    user = _json_value(src, src.find("account/user.json"), transcript) or {}
    user = _json.as_dict(user)
    owner = {"id": str(user["id"]) if isinstance(user.get("id"), (str, int)) else None,
             "username": user.get("username") if isinstance(user.get("username"), str) else None}
    transcript.details.update({"owner": owner, "channels": len(channels)})
    if owner["id"]:
        transcript.me, transcript.me_origin = owner["id"], "export"
    return _messages(src, channels, _json.as_dict(index), owner, opts, transcript)


def _messages(src: Source, channels: list[tuple[str, str]], names: dict[str, Any],
              owner: dict[str, str | None], opts: Options,
              transcript: Transcript) -> Iterator[Message]:
    count = 0
    for channel, member in channels:
        title = names.get(channel)
        conversation = title if isinstance(title, str) and title else channel
        if member.endswith(".csv"):
            header, rows = _csv.read(src, member)
            if "ID" not in header or "TIMESTAMP" not in header:
                raise ImportFailed("importers.discord_package_bad_file", name=member)
            found = ((row.cells, row.start, row.end, None) for row in rows)
        else:
            doc = _json.read(src, member, PATTERNS, transcript)
            _json.as_list(doc.value)
            found = (({str(k).upper(): v for k, v in _json.as_dict(loc.value).items()},
                      loc.start, loc.end, loc.pointer) for loc in doc.located)
        for cells, start, end, pointer in found:
            msg = _message(count, cells, member, conversation, owner, opts, transcript)
            msg.offset, msg.length, msg.pointer = start, end - start, pointer
            count += 1
            yield msg


def _message(index: int, cells: dict[str, Any], member: str, conversation: str,
             owner: dict[str, str | None], opts: Options, transcript: Transcript) -> Message:
    written = cells.get("TIMESTAMP")
    written = str(written) if isinstance(written, (str, int)) and written != "" else None
    moment, source = None, None
    if written:
        moment = readable(parse_offset_time, written)
        source = EXPORT_OFFSET
        if moment is None:
            moment, source = readable(parse_utc_text, written), EXPORT_UTC
        if moment is None:
            transcript.notice("unreadable_time", index, written=written)
    sender = owner["username"] or opts.me
    msg = Message(index=index, sender=sender, time_written=written,
                  time_utc=format_utc(moment) if moment else None,
                  tz_source=source if moment else None,
                  text=_json.text_of(cells.get("CONTENTS")), source_file=member,
                  conversation=conversation, sender_id=owner["id"], from_me=True)
    ident = cells.get("ID")
    msg.id = str(ident) if isinstance(ident, (str, int)) and str(ident) else None
    if moment is not None:
        check_snowflake(msg, moment, transcript)
    for url in _json.text_of(cells.get("ATTACHMENTS")).split():
        msg.attachments.append(Attachment(PurePosixPath(url.split("?", 1)[0]).name or None,
                                          None, "missing", ref=url))
    msg.extra = {k.lower(): v for k, v in cells.items() if k not in _USED and v not in ("", None)}
    return msg
