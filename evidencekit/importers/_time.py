"""Time conversions shared by every importer, in one place so they agree.

Why: exports write times in three ways — UTC/epoch values, local times with an offset, and bare
local times of the phone or computer. Only the last needs a zone, and then per date (daylight
saving), with a record of where the zone came from and of times that do not exist or exist twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evidencekit.importers.errors import ImportFailed

DEFAULT_TZ = "Europe/Oslo"
T = TypeVar("T")

#: tz_source values for times the export itself fixes.
EXPORT_UTC = "export-utc"
EXPORT_OFFSET = "export-offset"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Discord's epoch (2015-01-01T00:00:00Z) in ms, for snowflake ids.
DISCORD_EPOCH_MS = 1420070400000


def format_utc(moment: datetime) -> str:
    """RFC 3339 UTC with ``Z`` and fixed microseconds: sortable as text across formats."""
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_epoch(seconds: int | str | Decimal, scale: int = 1) -> datetime:
    """A UTC datetime from an epoch count in ``1/scale`` seconds, exactly (no float rounding).

    Anything that is not a plausible time (not a number, infinite, out of range) is a
    ``ValueError``.
    """
    try:
        value = Decimal(str(seconds).strip()) / scale
        whole = int(value)
        micro = int((value - whole) * 1_000_000)
        return _EPOCH + timedelta(seconds=whole, microseconds=micro)
    except (ArithmeticError, OverflowError, ValueError) as exc:
        raise ValueError(f"not a time: {seconds!r}") from exc


def readable(convert: Callable[..., T], *args: object) -> T | None:
    """``convert(*args)``, or ``None`` when the export's time cannot be read (the caller then
    notes it): one bad time must not cost the whole import."""
    try:
        return convert(*args)
    except (ValueError, OverflowError, TypeError):
        return None


def epoch_utc(seconds: int | str | Decimal, scale: int = 1) -> str:
    return format_utc(from_epoch(seconds, scale))


def parse_offset_time(text: str) -> datetime:
    """An ISO 8601 time that carries its own offset (``Z`` or ``+02:00``)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no offset")
    return moment


def snowflake_time(snowflake: int) -> datetime:
    """The creation time Discord encodes in every id (top 42 bits: ms since 2015)."""
    return from_epoch((snowflake >> 22) + DISCORD_EPOCH_MS, 1000)


@dataclass(frozen=True, slots=True)
class Zone:
    """The zone bare local times are read in, and whether the person chose it."""

    name: str
    origin: str  # "given" | "default"
    info: ZoneInfo

    @property
    def source(self) -> str:
        """The tz_source written on each message converted with this zone."""
        return f"{self.origin}:{self.name}"

    @classmethod
    def resolve(cls, name: str | None) -> "Zone":
        origin = "default" if name is None else "given"
        name = name or DEFAULT_TZ
        try:
            return cls(name, origin, ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ImportFailed("importers.unknown_zone", zone=name) from exc


class LocalResult(NamedTuple):
    utc: datetime
    problem: str | None  # None, "ambiguous" (happens twice) or "nonexistent" (skipped hour)


def local_to_utc(local: datetime, zone: Zone, after: datetime | None = None) -> LocalResult:
    """Read a bare wall-clock time in ``zone`` on its own date (daylight saving included).

    In the autumn hour that happens twice, the earlier reading is taken unless it would fall
    before ``after`` (the previous message) while the later one does not: chats run forward.
    A time in the spring gap does not exist; it is read with the offset in force before the
    change and reported.
    """
    first = local.replace(tzinfo=zone.info, fold=0)
    second = local.replace(tzinfo=zone.info, fold=1)
    off0, off1 = first.utcoffset(), second.utcoffset()
    if off0 == off1:
        return LocalResult(first.astimezone(timezone.utc), None)
    utc0 = first.astimezone(timezone.utc)
    utc1 = second.astimezone(timezone.utc)
    # A real repeated hour has the earlier reading (fold=0) first in UTC; a gap has it reversed.
    if utc0 < utc1:
        chosen = utc0
        if after is not None and utc0 < after <= utc1:
            chosen = utc1
        return LocalResult(chosen, "ambiguous")
    # zoneinfo's fold=0 in a gap uses the offset from before the change.
    return LocalResult(utc0, "nonexistent")


class LocalClock:
    """:func:`local_to_utc` for many times in one zone, fast: the UTC offset is looked up once
    per local hour and reused, except in hours where the offset changes (those take the exact,
    slow path with its ambiguity rules)."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self._hours: dict[tuple[int, int, int, int], timedelta | None] = {}

    def _steady_offset(self, local: datetime) -> timedelta | None:
        key = (local.year, local.month, local.day, local.hour)
        if key in self._hours:
            return self._hours[key]
        top = local.replace(minute=0, second=0, microsecond=0)
        end = top.replace(minute=59, second=59, microsecond=999999)
        offsets = {moment.replace(tzinfo=self.zone.info, fold=fold).utcoffset()
                   for moment in (top, end) for fold in (0, 1)}
        steady = offsets.pop() if len(offsets) == 1 else None
        self._hours[key] = steady
        return steady

    def to_utc(self, local: datetime, after: datetime | None = None) -> LocalResult:
        offset = self._steady_offset(local)
        if offset is None:
            return local_to_utc(local, self.zone, after)
        return LocalResult((local - offset).replace(tzinfo=timezone.utc), None)


def parse_utc_text(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` with or without a trailing ``UTC`` (Snapchat, LinkedIn, TikTok),
    read as UTC; fractions of a second are kept."""
    text = text.strip()
    if text.endswith("UTC"):
        text = text[:-3].rstrip()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        raise ValueError("unexpected offset")
    return moment.replace(tzinfo=timezone.utc)


#: Month names and abbreviations in the languages Norwegian workers' accounts use (English,
#: bokmål, nynorsk), for exports that write dates in words in the account's language.
MONTHS = {name: number for number, names in enumerate((
    "january jan januar", "february feb februar", "march mar mars", "april apr",
    "may mai", "june jun juni", "july jul juli", "august aug", "september sep sept",
    "october oct okt oktober", "november nov", "december dec des desember"), 1)
    for name in names.split()}
_WORDED = re.compile(r"(?P<number>\d{1,4})|(?P<word>[^\W\d_]+(?:\.(?=\s|$))?)")
_ZONE_WORD = re.compile(r"\b(?:UTC|GMT)(?:\s*(?P<sign>[+\-\u2212])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?)?")
#: No written date is longer; a longer "date" is refused before any pattern looks at it.
MAX_DATE_TEXT = 200
_HALF = re.compile(r"(?<![\w.])([ap])\.?m\.?(?!\w)")


def zone_offset(text: str) -> timedelta | None:
    """The offset a ``UTC+01:00`` / ``GMT-5`` / ``UTC`` token in ``text`` names, if any."""
    match = _ZONE_WORD.search(text)
    if match is None:
        return None
    if not match["sign"]:
        return timedelta(0)
    minutes = int(match["h"]) * 60 + int(match["m"] or 0)
    if minutes > 18 * 60:
        raise ValueError("offset out of range")
    return timedelta(minutes=-minutes if match["sign"] in "-\u2212" else minutes)


_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?")


def parse_worded(text: str) -> tuple[datetime, timedelta | None]:
    """A date written in words — "Jan 05, 2021, 9:47 PM", "Monday, 1 March 2024 at 21:47:12
    UTC", "5. januar 2024 kl. 21:47" — as a naive local time and the offset it names (if any).

    Why one reader: Facebook/Instagram HTML and Google Chat write the date in the words of the
    account's language, and the order of day and month differs; the month is always a word.
    """
    if len(text) > MAX_DATE_TEXT:
        raise ValueError("too long for a date")
    offset = None
    if "UTC" in text or "GMT" in text:
        offset = zone_offset(text)
        text = _ZONE_WORD.sub(" ", text)
    clock = _CLOCK.search(text)
    if clock is None:
        raise ValueError(f"no time of day: {text!r}")
    year, month, day, half, offset = _date_words(text[:clock.start()] + " " + text[clock.end():],
                                                 offset)
    hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
    if half is not None:
        if not 1 <= hour <= 12:
            raise ValueError("12-hour clock out of range")
        hour = hour % 12 + (12 if half == "p" else 0)
    return datetime(year, month, day, hour, minute, second), offset


@lru_cache(maxsize=4096)
def _date_words(rest: str, offset: timedelta | None) -> tuple[int, int, int, str | None,
                                                               timedelta | None]:
    """Year, month, day, "a"/"p" and offset of the words around a time; cached because the
    messages of one day share them."""
    rest = rest.replace("\u202f", " ").replace("\xa0", " ").lower()
    month = day = year = None
    for match in _WORDED.finditer(rest):
        if match["number"] is not None:
            number = match["number"]
            if len(number) == 4:
                year = int(number)
            elif day is None:
                day = int(number)
        elif match["word"] is not None:
            word = match["word"].rstrip(".")
            if month is None and word in MONTHS:
                month = MONTHS[word]
    if month is None or day is None or year is None:
        raise ValueError(f"not a worded date: {rest!r}")
    half = _HALF.search(rest)
    return year, month, day, half[1] if half else None, offset
