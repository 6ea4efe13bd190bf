"""WhatsApp "Export chat" files from Android and iPhone, as ``.txt`` or ``.zip`` with media.

Why hand-written: the line format follows the phone's region (order and separators of the date,
12/24-hour clock, invisible direction marks, narrow no-break spaces) and carries no time zone, and
the day/month order can be undecidable. Every message keeps its text byte for byte and its
offset; flags (deleted, media, system) are derived from the wording and never change the text.

The file is read twice in blocks of a few megabytes (once to decide the date order, once to build
messages), so a very large export is streamed, never held whole; within a block one regular
expression finds where messages start, which keeps the importer close to a plain split in speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import IO, Iterator, NamedTuple

from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import LocalClock, Zone, format_utc
from evidencekit.importers.errors import ImportFailed, NeedsDateOrder
from evidencekit.importers.model import (Attachment, Message, Transcript, INVISIBLE,
                                         strip_marks)

NAMES = ("whatsapp",)
GAPS = ("whatsapp_names",)

#: The longest message accepted (WhatsApp allows 65,536 characters, at most 4 bytes each).
MAX_MESSAGE = 1 << 20
#: Bytes read at a time.
BLOCK = 4 << 20

_MARKS = "[" + INVISIBLE + "]*"
_DATE = r"(?P<date>\d{1,4}(?P<ds>[./-])\d{1,2}(?P=ds)\d{1,4}\.?)"
_TIME = (r"(?P<time>(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?"
         r"(?:[ \u202f\u00a0]?(?P<ampm>[AaPp]\.?[ \u202f\u00a0]?[Mm]\.?))?)")
_SEP = r"(?P<sep>,? )"
ANDROID = re.compile("^" + _MARKS + r"(?P<stamp>" + _DATE + _SEP + _TIME +
                     r") [-\u2013] (?P<rest>[^\n]*)", re.M)
IOS = re.compile("^" + _MARKS + r"\[(?P<stamp>" + _DATE + _SEP + _TIME + r")\] (?P<rest>[^\n]*)",
                 re.M)
_HAS_MARK = re.compile("[" + INVISIBLE + "]")

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


_PHONE = re.compile(r"\+?\d[\d \u00a0()-]{5,}\d")


def _strip(text: str) -> str:
    return (strip_marks(text) if _HAS_MARK.search(text) else text).strip()


# -- detection ------------------------------------------------------------------------------
def _chat_member(src: Source) -> str | None:
    """The chat text inside a zip/folder export (``_chat.txt`` on iPhone)."""
    texts = [p for p in src.members if p.lower().endswith(".txt")]
    for name in texts:
        base = PurePosixPath(name).name
        if base == "_chat.txt" or base.lower().startswith(("whatsapp chat", "whatsapp-chat")):
            return name
    good = [p for p in texts if _style(src.head(p, 8192)) is not None]
    return good[0] if len(good) == 1 else None


def _style(head: bytes) -> str | None:
    """"android" or "ios" when the start of a file has WhatsApp's dated lines."""
    text = head.decode("utf-8", "ignore")
    ios = sum(1 for _ in IOS.finditer(text))
    android = sum(1 for _ in ANDROID.finditer(text))
    if not ios and not android:
        return None
    return "ios" if ios >= android else "android"


def sniff(src: Source) -> int:
    if src.kind == "file":
        return 80 if _style(src.head()) else 0
    return 80 if _chat_member(src) else 0


# -- reading records -----------------------------------------------------------------------
class _Record(NamedTuple):
    match: re.Match[str] | None  # the dated first line; None for text before the first one
    text: str  # the whole record without its final line break
    offset: int  # byte offset of its first byte in the file
    length: int  # its length in bytes (final line break excluded)


def _records(handle: IO[bytes], regex: re.Pattern[str], name: str) -> Iterator[_Record]:
    """Cut the file into records at every dated line, block by block, with byte offsets.

    A record still growing at the end of a block is carried into the next one; one longer than
    :data:`MAX_MESSAGE` is refused (no real export has one, a hostile file might).
    """
    carry = b""
    base = 0  # file offset of carry[0]
    at_start = True
    while True:
        raw = handle.read(BLOCK)
        final = not raw
        data = carry + raw
        if at_start and base == 0 and data.startswith(b"\xef\xbb\xbf"):
            data, base = data[3:], 3
        if final and not data:
            return
        cut = len(data) if final else data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > MAX_MESSAGE:
                raise ImportFailed("importers.line_too_long", name=name, offset=base,
                                   limit_kb=MAX_MESSAGE >> 10)
            carry = data
            continue
        chunk, tail = data[:cut], data[cut:]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFailed("importers.not_utf8", name=name, offset=base + exc.start) from exc
        starts: list[tuple[int, re.Match[str] | None]] = [(m.start(), m) for m in regex.finditer(text)]
        if at_start and (not starts or starts[0][0] > 0):
            starts.insert(0, (0, None))
        # byte offset of every record start, and of the block's end, in one pass
        if len(text) == len(chunk):  # pure ASCII: characters are bytes
            offsets = [base + pos for pos, _ in starts] + [base + len(text)]
        else:
            offsets = []
            previous, byte = 0, base
            for pos, _ in starts:
                byte += len(text[previous:pos].encode("utf-8"))
                offsets.append(byte)
                previous = pos
            offsets.append(byte + len(text[previous:].encode("utf-8")))
        last = len(starts) if final else len(starts) - 1
        for i in range(max(last, 0)):
            begin, match = starts[i]
            finish = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            record = text[begin:finish]
            brk = 0
            if record.endswith("\n"):
                brk = 2 if record.endswith("\r\n") else 1
                record = record[:-brk]
            start = offsets[i]
            if len(record) > MAX_MESSAGE:
                raise ImportFailed("importers.line_too_long", name=name, offset=start,
                                   limit_kb=MAX_MESSAGE >> 10)
            yield _Record(match, record, start, offsets[i + 1] - start - brk)
        if final:
            return
        if starts:
            keep = starts[-1][0]
            carry = chunk[offsets[-2] - base:] + tail
            base = offsets[-2]
            at_start = at_start and keep == 0 and starts[-1][1] is None
        else:  # no record starts here: the block continues the preamble or previous record
            carry = data
        if len(carry) > MAX_MESSAGE + BLOCK:
            raise ImportFailed("importers.line_too_long", name=name, offset=base,
                               limit_kb=MAX_MESSAGE >> 10)


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
    style: str
    dates: set[str] = field(default_factory=set)
    media: set[tuple[str, date, str]] = field(default_factory=set)


def _survey(src: Source, member: str | None, style: str) -> _Survey:
    """Every distinct written date, and dates found in media file names on dated lines."""
    survey = _Survey(style)
    regex = IOS if style == "ios" else ANDROID
    with src.open(member) as handle:
        for text in _texts(handle, member or src.name):
            for match in regex.finditer(text):
                survey.dates.add(match["date"])
                rest = match["rest"]
                if "-" not in rest:
                    continue
                for found in _NAME_DATE.finditer(rest):
                    groups = [g for g in found.groups() if g]
                    try:
                        named = date(int(groups[0]), int(groups[1]), int(groups[2]))
                    except ValueError:
                        continue
                    survey.media.add((match["date"], named, found.group(0)))
    return survey


def _texts(handle: IO[bytes], name: str) -> Iterator[str]:
    """The file as text in blocks that end at line breaks (for the survey pass)."""
    carry = b""
    offset = 0
    while True:
        raw = handle.read(BLOCK)
        data = carry + raw
        if not data:
            return
        cut = len(data) if not raw else data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > MAX_MESSAGE + BLOCK:
                raise ImportFailed("importers.line_too_long", name=name, offset=offset,
                                   limit_kb=MAX_MESSAGE >> 10)
            carry = data
            continue
        chunk, carry = data[:cut], data[cut:]
        try:
            yield chunk.decode("utf-8-sig" if offset == 0 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFailed("importers.not_utf8", name=name, offset=offset + exc.start) from exc
        offset += len(chunk)
        if not raw:
            return


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
    names: list[str] = []
    omitted = False
    if ios:
        if "<" in first:
            for found in _ATTACHED_IOS.finditer(first):
                names.append(_strip(found["name"] or found["name2"]))
        if not names and len(first) < 60 and _OMITTED_IOS.fullmatch(_strip(first)):
            omitted = True
    elif first.endswith(")") or first.endswith(">"):
        bare = _strip(first)
        found = _FILE_ATTACHED.fullmatch(bare) or _FILE_ATTACHED_ANY.fullmatch(bare)
        if found:
            names.append(_strip(found["name"]))
        elif _OMITTED_ANDROID.fullmatch(bare):
            omitted = True
    result = [Attachment(None, None, "omitted")] if omitted else []
    result.extend(src.attachment(name) for name in names)
    return result, omitted


_DELETED_FIRST = {phrase[0] for phrase in DELETED} | set(INVISIBLE) | {" "}


def _is_deleted(text: str) -> bool:
    return (len(text) < 80 and text[:1] in _DELETED_FIRST
            and _strip(text).rstrip(".") in DELETED)


class _Builder:
    """Turns records into messages."""

    def __init__(self, src: Source, member: str | None, transcript: Transcript, zone: Zone,
                 order: str, style: str, me: str | None) -> None:
        self.src, self.member, self.t = src, member, transcript
        self.zone, self.order, self.ios = zone, order, style == "ios"
        self.me = _strip(me) if me is not None else None
        self.regex = IOS if self.ios else ANDROID
        self.clock = LocalClock(zone)
        self.tz_source = zone.source
        self.last_utc: datetime | None = None
        self.index = 0
        self.conversation = transcript.details.get("chat_name")
        self.days: dict[str, date | None] = {}
        self.senders: dict[str, str] = {}
        self.stamps: dict[str, tuple[str, datetime]] = {}

    def message(self, record: _Record) -> Message:
        match = record.match
        index = self.index
        self.index += 1
        if match is None:  # text before the first dated line: kept, never dropped
            msg = Message(index=index, sender=None, time_written=None, time_utc=None,
                          tz_source=None, text=record.text, system=True, offset=record.offset,
                          length=record.length, source_file=self.member,
                          conversation=self.conversation)
            msg.extra["text_offset"] = record.offset
            self.t.notice("text_before_first_message", index, offset=record.offset)
            return msg
        first_line = match["rest"]
        prefix = match.start("rest") - match.start()
        sender: str | None
        sender, found, _ = first_line.partition(_NAME_SPLIT)
        if not found or len(sender) > 100 or '"' in sender:
            sender = None
        else:
            prefix += len(sender) + len(_NAME_SPLIT)
        text = record.text[prefix:]
        head = record.text[:prefix]
        msg = Message(index=index, sender=sender, time_written=match["stamp"], time_utc=None,
                      tz_source=None, text=text, offset=record.offset,
                      length=record.length, source_file=self.member,
                      conversation=self.conversation)
        msg.extra["text_offset"] = record.offset + len(head.encode("utf-8"))
        if sender is not None:
            bare = self.senders.get(sender)
            if bare is None:
                bare = self.senders[sender] = _strip(sender)
            # a contact the phone has not saved is shown by number: then the name is the number
            msg.sender_id = bare if _PHONE.fullmatch(bare) else None
            if self.me is not None:
                msg.from_me = bare == self.me
        self._time(msg, match)
        omitted = False
        if "<" in text or ")" in text or (self.ios and len(text) < 60):
            msg.attachments, omitted = _attachments(text, self.src, self.ios)
        msg.deleted = _is_deleted(text)
        if sender is None:
            msg.system = True
        elif self.ios and text.startswith("\u200e") and not (
                msg.deleted or msg.attachments or omitted or _LOCATION.match(_strip(text))):
            msg.system = True  # iPhone writes WhatsApp's own notices under the chat's name
        return msg

    def _time(self, msg: Message, stamp: re.Match[str]) -> None:
        known = self.stamps.get(stamp["stamp"])
        if known is not None and (self.last_utc is None or known[1] >= self.last_utc):
            msg.time_utc, msg.tz_source = known[0], self.tz_source
            self.last_utc = known[1]
            return
        written = stamp["date"]
        if written in self.days:
            day = self.days[written]
        else:
            day = self.days[written] = _as_date(written, self.order)
        clock = _clock(stamp)
        if day is None or clock is None:
            self.t.notice("unreadable_time", msg.index, written=stamp["stamp"])
            return
        local = datetime(day.year, day.month, day.day, *clock)
        result = self.clock.to_utc(local, self.last_utc)
        msg.time_utc = format_utc(result.utc)
        msg.tz_source = self.tz_source
        if result.problem:
            self.t.notice(f"local_time_{result.problem}", msg.index, written=stamp["stamp"],
                          zone=self.zone.name, chosen=msg.time_utc)
        else:  # the same written time always reads the same; remember it
            if len(self.stamps) > 4096:
                self.stamps.clear()
            self.stamps[stamp["stamp"]] = (msg.time_utc, result.utc)
        self.last_utc = result.utc

    def run(self, handle: IO[bytes]) -> Iterator[Message]:
        for record in _records(handle, self.regex, self.member or self.src.name):
            yield self.message(record)


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    member = None if src.kind == "file" else _chat_member(src)
    if src.kind != "file" and member is None:
        raise ImportFailed("importers.whatsapp_no_chat", name=src.name)
    chat_file = PurePosixPath(member).name if member else src.name
    style = _style(src.head(member))
    if style is None:
        raise ImportFailed("importers.whatsapp_no_messages", name=chat_file)
    survey = _survey(src, member, style)
    if not survey.dates:
        raise ImportFailed("importers.whatsapp_no_messages", name=chat_file)
    order, how, example = decide_date_order(survey.dates, survey.media, opts.date_order)
    transcript.date_order, transcript.date_order_source = order, how
    transcript.tz, transcript.tz_origin = opts.zone.name, opts.zone.origin
    name = re.sub(r"^WhatsApp[ -]Chat(?: with| mit| med| met| s| -)? ?", "",
                  PurePosixPath(chat_file).stem, flags=re.I)
    transcript.details.update({"platform": survey.style, "chat_file": member or src.name,
                               "chat_name": name if name and name != "_chat" else None})
    if how == "media-names":
        transcript.notice("date_order_from_media", None, order=order, example=example)
    builder = _Builder(src, member, transcript, opts.zone, order, survey.style, opts.me)

    def generate() -> Iterator[Message]:
        with src.open(member) as handle:
            yield from builder.run(handle)

    return generate()
