"""WhatsApp "Export chat" files from Android and iPhone, as ``.txt`` or ``.zip`` with media.

Why hand-written: the line format follows the phone's region (order and separators of the date,
12/24-hour clock, invisible direction marks, narrow no-break spaces) and carries no time zone, and
the day/month order can be undecidable. Every message keeps its text byte for byte and its
offset; flags (deleted, media, system) are derived from the wording and never change the text.

The file is read line by line twice (once to decide the date order, once to build messages), so a
very large export is streamed, never held whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import IO, Iterator

from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import Zone, format_utc, local_to_utc
from evidencekit.importers.errors import ImportFailed, NeedsDateOrder
from evidencekit.importers.model import (Attachment, Message, Transcript, INVISIBLE,
                                         strip_marks)

NAMES = ("whatsapp",)

#: The longest line accepted (a WhatsApp message is at most 65,536 characters).
MAX_LINE = 1 << 20

_MARKS = "[" + INVISIBLE + "]*"
_DATE = r"(?P<date>\d{1,4}(?P<ds>[./-])\d{1,2}(?P=ds)\d{1,4}\.?)"
_TIME = (r"(?P<time>(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?"
         r"(?:[ \u202f\u00a0]?(?P<ampm>[AaPp]\.?[ \u202f\u00a0]?[Mm]\.?))?)")
_SEP = r"(?P<sep>,? )"
ANDROID = re.compile(_MARKS + r"(?P<stamp>" + _DATE + _SEP + _TIME + r") [-\u2013] (?P<rest>.*)",
                     re.S)
IOS = re.compile(_MARKS + r"\[(?P<stamp>" + _DATE + _SEP + _TIME + r")\] (?P<rest>.*)", re.S)

_NAME_SPLIT = ": "

#: Wordings that mark a deleted message (compared without marks, spaces and final full stop).
DELETED = {
    "This message was deleted", "You deleted this message",
    "Denne meldingen ble slettet", "Du slettet denne meldingen",
    "Diese Nachricht wurde gelöscht", "Du hast diese Nachricht gelöscht",
    "Dit bericht is verwijderd", "U hebt dit bericht verwijderd", "Je hebt dit bericht verwijderd",
    "Tato zpráva byla odstraněna", "Tuto zprávu jste odstranil/a",
}
#: Android: "<Media omitted>" and its translations (any short "<…>" line without a colon).
_OMITTED_ANDROID = re.compile(r"<[^<>:]{2,40}>")
#: iPhone: "image omitted", "bilde utelatt", …
_OMITTED_IOS = re.compile(
    r"(?:[\w-]+ ){0,2}(?:omitted|utelatt|weggelassen|weggelaten|vynechán[oay]?|vynecháno)",
    re.I)
#: Android: "IMG-20220318-WA0001.jpg (file attached)" in several languages.
_FILE_ATTACHED = re.compile(
    r"(?P<name>.+?) \((?:file attached|fil vedlagt|vedlagt fil|Datei angehängt|"
    r"bestand bijgevoegd|soubor byl přiložen|archivo adjunto|fichier joint|fil bifogad)\)",
    re.I)
_MEDIA_NAME = re.compile(r"(?:IMG|VID|AUD|PTT|STK|DOC)-\d{8}-WA\d+\.\w+")
_FILE_ATTACHED_ANY = re.compile(r"(?P<name>" + _MEDIA_NAME.pattern + r") \([^()]{3,40}\)")
#: iPhone: "<attached: 00000035-PHOTO-2022-03-27-21-41-55.jpg>" and translations.
_ATTACHED_IOS = re.compile(r"<(?:attached|vedlagt|Anhang|bijgevoegd|příloha|adjunto|pièce jointe)"
                           r": (?P<name>[^<>]+)>|<[^<>:]{2,20}: (?P<name2>\d{8}-[^<>]+)>", re.I)
_LOCATION = re.compile(r"(?:location|Location|posisjon|Standort|locatie|poloha): https?://", re.I)

#: Dates written into media file names: Android IMG-20220318-WA0001, iPhone 00000005-PHOTO-2022-…
_NAME_DATE = re.compile(r"(?:IMG|VID|AUD|PTT|STK|DOC)-(\d{4})(\d{2})(\d{2})-WA|"
                        r"\d{8}-[A-Z]+-(\d{4})-(\d{2})-(\d{2})-\d{2}-\d{2}-\d{2}")

ORDERS = ("dmy", "mdy", "ymd")


def _strip(text: str) -> str:
    return strip_marks(text).strip()


# -- detection ------------------------------------------------------------------------------
def _chat_member(src: Source) -> str | None:
    """The chat text inside a zip/folder export (``_chat.txt`` on iPhone)."""
    texts = [p for p in src.members if p.lower().endswith(".txt")]
    for name in texts:
        base = PurePosixPath(name).name
        if base == "_chat.txt" or base.startswith(("WhatsApp Chat", "WhatsApp-Chat")):
            return name
    good = [p for p in texts if _style(src.head(p, 8192)) is not None]
    return good[0] if len(good) == 1 else None


def _style(head: bytes) -> str | None:
    """"android" or "ios" when the first lines look like a WhatsApp export."""
    try:
        text = head.decode("utf-8", "ignore")
    except Exception:  # pragma: no cover - "ignore" never raises
        return None
    votes = {"android": 0, "ios": 0}
    for line in text.lstrip("\ufeff").splitlines()[:20]:
        if IOS.match(line):
            votes["ios"] += 1
        elif ANDROID.match(line):
            votes["android"] += 1
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] else None


def sniff(src: Source) -> int:
    if src.kind == "file":
        return 80 if _style(src.head()) else 0
    return 80 if _chat_member(src) else 0


# -- reading lines --------------------------------------------------------------------------
@dataclass(slots=True)
class _Line:
    offset: int  # first byte of the line (after a byte-order mark)
    text: str  # without the line break
    brk: str  # the line break itself ("\n", "\r\n" or "" at the end)


def _lines(handle: IO[bytes], name: str) -> Iterator[_Line]:
    offset = 0
    first = True
    while True:
        raw = handle.readline(MAX_LINE + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise ImportFailed("importers.line_too_long", name=name, offset=offset,
                               limit_kb=MAX_LINE >> 10)
        start = offset
        offset += len(raw)
        if first:
            first = False
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
                start += 3
        if raw.endswith(b"\r\n"):
            body, brk = raw[:-2], "\r\n"
        elif raw.endswith(b"\n"):
            body, brk = raw[:-1], "\n"
        else:
            body, brk = raw, ""
        try:
            yield _Line(start, body.decode("utf-8"), brk)
        except UnicodeDecodeError as exc:
            raise ImportFailed("importers.not_utf8", name=name, offset=start + exc.start) from exc


# -- dates ----------------------------------------------------------------------------------
def _fields(date_text: str) -> tuple[str, str, str]:
    parts = re.split(r"[./-]", date_text.rstrip("."))
    return parts[0], parts[1], parts[2]


def _year(text: str) -> int:
    value = int(text)
    return value + 2000 if len(text) <= 2 else value


def _as_date(date_text: str, order: str) -> date | None:
    a, b, c = _fields(date_text)
    try:
        if order == "dmy":
            return date(_year(c), int(b), int(a))
        if order == "mdy":
            return date(_year(c), int(a), int(b))
        return date(_year(a), int(b), int(c))
    except ValueError:
        return None


def _possible(date_text: str, order: str) -> bool:
    a, _, c = _fields(date_text)
    if order == "ymd":
        if len(a) != 4:
            return False
    elif len(a) > 2 or len(c) not in (2, 4):
        return False
    return _as_date(date_text, order) is not None


@dataclass(slots=True)
class _Survey:
    style: str | None = None
    dates: set[str] = field(default_factory=set)
    media: set[tuple[str, date, str]] = field(default_factory=set)


def _survey(src: Source, member: str | None) -> _Survey:
    survey = _Survey()
    votes = {"android": 0, "ios": 0}
    with src.open(member) as handle:
        for line in _lines(handle, member or src.name):
            match = IOS.match(line.text) or ANDROID.match(line.text)
            if match is None:
                continue
            votes["ios" if match.re is IOS else "android"] += 1
            survey.dates.add(match["date"])
            for found in _NAME_DATE.finditer(match["rest"]):
                groups = [g for g in found.groups() if g]
                try:
                    named = date(int(groups[0]), int(groups[1]), int(groups[2]))
                except ValueError:
                    continue
                survey.media.add((match["date"], named, found.group(0)))
    if votes["ios"] or votes["android"]:
        survey.style = "ios" if votes["ios"] >= votes["android"] else "android"
    return survey


def decide_date_order(dates: set[str], media: set[tuple[str, date, str]],
                      given: str | None) -> tuple[str, str, str | None]:
    """(order, how it was decided, example) from the written dates and media file names.

    Raises :class:`NeedsDateOrder` when the export cannot tell and nobody said.
    """
    fitting = [o for o in ORDERS if all(_possible(d, o) for d in dates)]
    if given is not None:
        if given not in ORDERS:
            raise ImportFailed("importers.bad_date_order", given=given)
        if given not in fitting:
            bad = next((d for d in sorted(dates) if not _possible(d, given)), "")
            raise ImportFailed("importers.date_order_contradicted", given=given, example=bad)
        return given, "given", None
    if not fitting:
        raise ImportFailed("importers.dates_unreadable", example=sorted(dates)[0] if dates else "")
    if len(fitting) == 1:
        example = next((d for d in sorted(dates)
                        if all(not _possible(d, o) for o in ORDERS if o != fitting[0])), None)
        return fitting[0], "values", example
    support = {o: 0 for o in fitting}
    example: dict[str, str] = {}
    for written, named, file_name in media:
        readings = {o: _as_date(written, o) for o in fitting}
        if len(set(readings.values())) < 2:
            continue  # e.g. 03/03: says nothing about the order
        for order, reading in readings.items():
            if reading == named:
                support[order] += 1
                example.setdefault(order, file_name)
    backed = [o for o in fitting if support[o]]
    if len(backed) == 1:
        return backed[0], "media-names", example[backed[0]]
    sample = sorted(dates)[0] if dates else ""
    raise NeedsDateOrder("importers.needs_date_order", candidates=fitting, example=sample)


def _clock(match: re.Match[str]) -> tuple[int, int, int] | None:
    hour, minute = int(match["h"]), int(match["m"])
    second = int(match["s"]) if match["s"] else 0
    ampm = match["ampm"]
    if ampm:
        if not 1 <= hour <= 12:
            return None
        pm = ampm[0] in "Pp"
        hour = (hour % 12) + (12 if pm else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


# -- messages -------------------------------------------------------------------------------
def _attachments(text: str, src: Source, ios: bool) -> tuple[list[Attachment], bool]:
    """Files named in a message, and whether the text is an "omitted media" line."""
    first = text.split("\n", 1)[0].rstrip("\r")
    bare = _strip(first)
    names: list[str] = []
    omitted = False
    if ios:
        for found in _ATTACHED_IOS.finditer(first):
            names.append(_strip(found["name"] or found["name2"]))
        if not names and _OMITTED_IOS.fullmatch(bare):
            omitted = True
    else:
        found = _FILE_ATTACHED.fullmatch(bare) or _FILE_ATTACHED_ANY.fullmatch(bare)
        if found:
            names.append(_strip(found["name"]))
        elif _OMITTED_ANDROID.fullmatch(bare):
            omitted = True
    result = [Attachment(None, None, "omitted")] if omitted else []
    result.extend(src.attachment(name) for name in names)
    return result, omitted


def _is_deleted(text: str) -> bool:
    return _strip(text).rstrip(".") in DELETED


class _Builder:
    """Turns header lines and their continuation lines into messages."""

    def __init__(self, src: Source, member: str | None, transcript: Transcript, zone: Zone,
                 order: str, style: str, me: str | None) -> None:
        self.src, self.member, self.t = src, member, transcript
        self.zone, self.order, self.ios, self.me = zone, order, style == "ios", me
        self.regex = IOS if self.ios else ANDROID
        self.last_utc: datetime | None = None
        self.index = 0
        self.conversation = transcript.details.get("chat_name")

    def message(self, start: _Line, match: re.Match[str] | None, rest: list[_Line]) -> Message:
        if match is None:  # text before the first dated line: kept, never dropped
            head_text, prefix_len = start.text, 0
            sender, stamp = None, None
        else:
            rest_text = match["rest"]
            prefix_len = len(start.text) - len(rest_text)
            sender, _, body = rest_text.partition(_NAME_SPLIT)
            if not _ or len(sender) > 100 or '"' in sender:
                sender, body = None, rest_text
            head_text, stamp = body, match
            prefix_len = len(start.text) - len(body)
        text = head_text + "".join(prev.brk + line.text for prev, line in
                                   zip([start] + rest[:-1], rest))
        end_line = rest[-1] if rest else start
        length = end_line.offset + len(end_line.text.encode("utf-8")) - start.offset
        index = self.index
        self.index += 1
        msg = Message(index=index, sender=sender, time_written=None, time_utc=None,
                      tz_source=None, text=text, offset=start.offset, length=length,
                      source_file=self.member, conversation=self.conversation)
        msg.extra["text_offset"] = start.offset + len(start.text[:prefix_len].encode("utf-8"))
        if sender is not None:
            msg.sender_id = _strip(sender)
            if self.me is not None:
                msg.from_me = msg.sender_id == _strip(self.me)
        if stamp is None:
            msg.system = True
            self.t.notice("text_before_first_message", index, offset=start.offset)
            return msg
        msg.time_written = stamp["stamp"]
        self._time(msg, stamp)
        msg.attachments, omitted = _attachments(text, self.src, self.ios)
        msg.deleted = _is_deleted(text)
        if sender is None:
            msg.system = True
        elif self.ios and text.startswith("\u200e") and not (
                msg.deleted or msg.attachments or omitted or _LOCATION.match(_strip(text))):
            msg.system = True  # iPhone writes WhatsApp's own notices under the chat's name
        return msg

    def _time(self, msg: Message, stamp: re.Match[str]) -> None:
        day = _as_date(stamp["date"], self.order)
        clock = _clock(stamp)
        if day is None or clock is None:
            self.t.notice("unreadable_time", msg.index, written=stamp["stamp"])
            return
        local = datetime(day.year, day.month, day.day, *clock)
        result = local_to_utc(local, self.zone, self.last_utc)
        msg.time_utc = format_utc(result.utc)
        msg.tz_source = self.zone.source
        msg.extra["time_local"] = local.isoformat()
        if result.problem:
            self.t.notice(f"local_time_{result.problem}", msg.index, written=stamp["stamp"],
                          zone=self.zone.name, chosen=msg.time_utc)
        self.last_utc = result.utc

    def run(self, handle: IO[bytes]) -> Iterator[Message]:
        start: _Line | None = None
        match: re.Match[str] | None = None
        rest: list[_Line] = []
        regex = self.regex
        for line in _lines(handle, self.member or self.src.name):
            found = regex.match(line.text)
            if found is None and start is not None:
                rest.append(line)
                continue
            if start is not None:
                yield self.message(start, match, rest)
            start, match, rest = line, found, []
        if start is not None:
            yield self.message(start, match, rest)


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    member = None if src.kind == "file" else _chat_member(src)
    if src.kind != "file" and member is None:
        raise ImportFailed("importers.whatsapp_no_chat", name=src.name)
    chat_file = PurePosixPath(member).name if member else src.name
    survey = _survey(src, member)
    if survey.style is None:
        raise ImportFailed("importers.whatsapp_no_messages", name=chat_file)
    order, how, example = decide_date_order(survey.dates, survey.media, opts.date_order)
    transcript.date_order, transcript.date_order_source = order, how
    transcript.tz, transcript.tz_origin = opts.zone.name, opts.zone.origin
    name = re.sub(r"^WhatsApp[ -]Chat(?: with| mit| med| met| s| -)? ?", "",
                  PurePosixPath(chat_file).stem)
    transcript.details.update({"platform": survey.style, "chat_file": member or src.name,
                               "chat_name": name if name and name != "_chat" else None})
    if how == "media-names":
        transcript.notice("date_order_from_media", None, order=order, example=example)
    builder = _Builder(src, member, transcript, opts.zone, order, survey.style, opts.me)

    def generate() -> Iterator[Message]:
        with src.open(member) as handle:
            yield from builder.run(handle)

    return generate()
