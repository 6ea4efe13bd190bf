"""Messenger's end-to-end-encrypted chat backup (``messages.zip``: one JSON file per thread).

Why its own format: since 2024 Messenger's encrypted chats are left out of the ordinary "Download
your information" export (see ``messenger.GAPS``) and come only from the app's separate chat
backup, in another shape: ``participants`` (names), ``threadName``, and ``messages[]`` with
``senderName``, ``text``, ``timestamp`` (milliseconds since 1970, UTC), ``isUnsent`` and
``media[]``. Each thread is one conversation, so ``--list``/``--conversation`` choose among them.
"""

from __future__ import annotations

from typing import Iterator

from evidencekit.importers import _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import EXPORT_UTC, epoch_utc, readable
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.messenger import attachment
from evidencekit.importers.model import Message, Transcript

NAMES = ("messenger-e2ee",)
GAPS = ("names_only",)
PATTERNS: list[_json.Pattern] = [("messages", "*")]
_USED = frozenset({"senderName", "text", "timestamp", "isUnsent", "media"})


def _looks(head: str) -> bool:
    return head.startswith("{") and '"threadName"' in head and '"senderName"' in head


def _members(src: Source) -> list[str | None]:
    if src.kind == "file":
        return [None] if _looks(_json.sniff_text(src)) else []
    return sorted(p for p in src.members if p.lower().endswith(".json")
                  and _looks(_json.sniff_text(src, p)))


def sniff(src: Source) -> int:
    return 92 if _members(src) else 0


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    members = _members(src)
    if not members:
        raise ImportFailed("importers.e2ee_no_threads", name=src.name)
    transcript.details["files"] = [m or src.name for m in members]
    threads: dict[str, list[str]] = {}

    def generate() -> Iterator[Message]:
        index = 0
        for member in members:
            doc = _json.read(src, member, PATTERNS, transcript)
            root = _json.as_dict(doc.value)
            thread = _json.text_of(root.get("threadName")) or None
            threads[thread or member or src.name] = [
                _json.text_of(p) for p in _json.as_list(root.get("participants") or [])]
            times: list[str] = []
            for loc in doc.located:
                msg = _message(index, loc, member, thread, src)
                if msg.time_utc:
                    times.append(msg.time_utc)
                elif msg.time_written is not None:
                    transcript.notice("unreadable_time", index, written=msg.time_written)
                index += 1
                yield msg
            if times != sorted(times):
                transcript.notice("not_in_time_order", None)
        transcript.details["threads"] = threads

    return generate()


def _message(index: int, loc: _json.Located, member: str | None, thread: str | None,
             src: Source) -> Message:
    obj = _json.as_dict(loc.value)
    stamp = obj.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float, str, type(None))):
        raise TypeError("timestamp is not a number")
    utc = readable(epoch_utc, str(stamp), 1000) if stamp is not None else None
    sender = obj.get("senderName")
    msg = Message(index=index, sender=_json.text_of(sender) if sender is not None else None,
                  time_written=str(stamp) if stamp is not None else None, time_utc=utc,
                  tz_source=EXPORT_UTC if utc else None, text=_json.text_of(obj.get("text")),
                  offset=loc.start, length=loc.end - loc.start, source_file=member,
                  pointer=loc.pointer, conversation=thread)
    msg.deleted = obj.get("isUnsent") is True
    for item in _json.as_list(obj.get("media") or []):
        msg.attachments.append(attachment(_json.as_dict(item), src))
    msg.extra = _json.leftover(obj, _USED)
    return msg
