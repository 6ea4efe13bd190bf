"""A stored transcript as the report shows it: a conversation, and e-mail headers in brief.

Why a view of its own: the transcript JSON keeps everything (offsets, pointers, raw headers);
a reader needs who wrote what and when, what was attached, what was edited or deleted, the
importer's doubts, and for e-mail whether the sending domain's DKIM signature holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evidencekit._internal.report.clock import Clock
from evidencekit.importers.email import describe_dkim
from evidencekit.importers.model import MAIL_FORMATS, Notice, describe_gap, describe_tz_source

MESSAGE_LIMIT = 2000  # per exhibit; the rest stay in the transcript file, and the report says so
COLOURS = 6


@dataclass(frozen=True)
class Line:
    """One message as shown: who, when (as written and in the report's zone), what."""

    index: int
    sender: str
    sender_id: str | None  # phone, address, profile link or user id, when the export has one
    side: str  # "me", "them" or "system"
    colour: int
    written: str | None
    time: str | None
    text: str
    attachments: tuple[tuple[str, str], ...]  # (name, status)
    edited: bool
    deleted: bool
    notices: tuple[str, ...]


@dataclass(frozen=True)
class Mail:
    """The headers of one e-mail that matter to a reader, and what its signatures say."""

    sender: str
    to: str
    cc: str
    subject: str
    date: str
    message_id: str
    hops: int
    first_received: str | None
    last_received: str | None
    dkim: tuple[tuple[str, str], ...]  # (pass|fail|cannot_check, sentence)
    arc: str | None
    forwarded: bool


@dataclass(frozen=True)
class Conversation:
    format: str
    source: str
    zone_note: str | None
    lines: tuple[Line, ...]
    mails: tuple[Mail, ...]
    notices: tuple[str, ...]
    total: int
    gaps: tuple[str, ...] = ()  # what this kind of export does not hold, as sentences


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _mail(extra: dict[str, Any], lang: str, clock: Clock) -> Mail:
    hops = [h.get("time_utc") for h in extra.get("received") or [] if isinstance(h, dict)]
    times = sorted((h for h in hops if h), key=clock.sort_key)
    dkim = tuple((str(d.get("result")), describe_dkim(d, lang)) for d in extra.get("dkim") or [])
    arc = (extra.get("arc") or {}).get("result")
    return Mail(_text(extra.get("from")), _text(extra.get("to")), _text(extra.get("cc")),
                _text(extra.get("subject")), _text(extra.get("date")), _text(extra.get("message_id")),
                len(hops), times[0] if times else None, times[-1] if times else None, dkim,
                None if arc in (None, "none") else str(arc), bool(extra.get("looks_forwarded")))


def _notice(raw: dict[str, Any], lang: str) -> str:
    return Notice(str(raw.get("code")), dict(raw.get("params") or {}), raw.get("message_index")).text(lang)


def conversation(data: dict[str, Any], lang: str, clock: Clock, limit: int = MESSAGE_LIMIT) -> Conversation:
    """The view of a transcript dict (the stored JSON), at most ``limit`` messages."""
    messages = [m for m in data.get("messages") or [] if isinstance(m, dict)]
    notices_by_message: dict[int, list[str]] = {}
    general = []
    for raw in data.get("notices") or []:
        if not isinstance(raw, dict):
            continue
        index = raw.get("message_index")
        if isinstance(index, int):
            notices_by_message.setdefault(index, []).append(_notice(raw, lang))
        else:
            general.append(_notice(raw, lang))
    colours: dict[str, int] = {}
    lines, mails = [], []
    for message in messages[:limit]:
        sender = _text(message.get("sender") or message.get("display"))
        system = bool(message.get("system"))
        colour = colours.setdefault(sender, len(colours) % COLOURS)
        side = "system" if system else "me" if message.get("from_me") else "them"
        attachments = tuple((_text(a.get("name") or a.get("ref")), _text(a.get("status")))
                            for a in message.get("attachments") or [] if isinstance(a, dict))
        index = int(message.get("index") or 0)
        sender_id = _text(message.get("sender_id")) or None
        lines.append(Line(index, sender, sender_id if sender_id != sender else None, side, colour, message.get("time_written"), message.get("time_utc"),
                          _text(message.get("text")), attachments, bool(message.get("edited")),
                          bool(message.get("deleted")), tuple(notices_by_message.get(index, ()))))
        extra = message.get("extra") or {}
        if data.get("format") in MAIL_FORMATS and isinstance(extra, dict):
            mails.append(_mail({**extra, "from": sender}, lang, clock))
    zone = next((describe_tz_source(m.get("tz_source"), lang) for m in messages if m.get("tz_source")), None)
    source = data.get("source") or {}
    return Conversation(_text(data.get("format")), _text(source.get("name")), zone, tuple(lines), tuple(mails),
                        tuple(general), len(messages),
                        tuple(describe_gap(str(g), lang) for g in data.get("gaps") or [] if isinstance(g, str)))
