"""Dates and times as a worker writes them, read in her zone, kept in one form, and said back.

Why: ``03.03.2024``, ``3.3.2024 22:10`` and ``i går 22:10`` are how people write; the record needs
one form that sorts and means one instant. A bare time is read on its own date in the local zone
(daylight saving included), stored in UTC, and said back in local time with the zone named, so she
sees what was understood. Two readings are never guessed between: a slash date that could be
day-first or month-first is refused, a time in the spring gap is refused, and in the autumn hour
that happens twice the first is taken and the words said back say so.

The local zone is ``TZ`` when it names a zone, else Europe/Oslo (the report's default).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evidencekit.errors import UserError
from evidencekit.i18n import t
from evidencekit.importers._time import Zone, format_utc, local_to_utc
from evidencekit.models import PERIOD

_TIME = r"(?:\s*(?:kl\.?|at)?\s*(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?)?"
_DOTTED = re.compile(rf"(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.(?P<year>\d{{4}}){_TIME}")
_SLASHED = re.compile(rf"(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})/(?P<year>\d{{4}}){_TIME}")
_RELATIVE = re.compile(rf"(?P<word>i\s*dag|today|i\s*går|yesterday|i\s*forgårs){_TIME}")
_DAYS_BACK = {"idag": 0, "today": 0, "igår": 1, "yesterday": 1, "iforgårs": 2}


def local_zone() -> Zone:
    """``TZ`` when it names a zone (``Europe/Oslo``, ``UTC``), else the default zone."""
    name = os.environ.get("TZ", "").strip().removeprefix(":")
    try:
        if name:
            return Zone(name, "given", ZoneInfo(name))
    except (ZoneInfoNotFoundError, ValueError):
        pass
    return Zone.resolve(None)


@dataclass(frozen=True)
class Reading:
    """A date, instant or period as it is kept (``value``) and as it was understood (``said``)."""

    value: str  # "2024-03-03", "2024-03-03T21:10:00.000000Z", or FROM..TO of those
    said: str  # "03.03.2024 22:10 (Europe/Oslo)", in the reader's language


def read(text: str, zone: Zone | None = None, today: date | None = None) -> Reading:
    """What the worker wrote, checked; a period ``FROM..TO`` must not end before it begins."""
    zone = zone or local_zone()
    today = today or datetime.now(zone.info).date()
    if PERIOD in text:
        start_text, _, end_text = text.partition(PERIOD)
        start, end = _one(start_text, text, zone, today), _one(end_text, text, zone, today)
        if _last_instant(end, zone) < _first_instant(start, zone):
            raise UserError("items.bad_period", value=text)
        return Reading(f"{start}{PERIOD}{end}", shown(f"{start}{PERIOD}{end}", zone))
    value = _one(text, text, zone, today)
    return Reading(value, shown(value, zone))


def shown(value: str, zone: Zone | None = None, lang: str | None = None, named: bool = True) -> str:
    """A kept date, instant or period in local time, the zone named once at the end (``named``; a
    list of times names it once above them instead, see ``times_in``)."""
    zone = zone or local_zone()
    if PERIOD in value:
        start, _, end = value.partition(PERIOD)
        parts = [_local(start, zone, lang), _local(end, zone, lang)]
        words, notes = " – ".join(p for p, _ in parts), [n for _, n in parts]
    else:
        words, note = _local(value, zone, lang)
        notes = [note]
    return words + _zone_note(zone, notes) if named else words


def times_in(zone: Zone | None = None, lang: str | None = None) -> str:
    """The line above a list of local times that names their zone."""
    return t("dates.times_in", lang, zone=(zone or local_zone()).name)


def local_text(value: str, zone: Zone, lang: str | None = None, seconds: bool = False) -> str:
    """One kept date or instant as local words for a place that names the zone elsewhere (a
    report's cover, a list's heading); the hour that happens twice still says which it is."""
    words, note = _local(value, zone, lang, seconds, short=True)
    return f"{words} ({note})" if note else words


def _local(value: str, zone: Zone, lang: str | None, seconds: bool = False,
           short: bool = False) -> tuple[str, str | None]:
    """``(words, note)``: the local date/time, and None for a date, "" or a DST note for a time."""
    if len(value) <= 10:
        return _day(date.fromisoformat(value), lang), None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # written before times were kept in UTC: a bare local time
        moment = moment.replace(tzinfo=zone.info)
    local = moment.astimezone(zone.info)
    clock = local.strftime("%H:%M:%S" if seconds or local.second else "%H:%M")
    note = ""
    if local_to_utc(local.replace(tzinfo=None), zone).problem == "ambiguous":
        season = "summer" if local.dst() else "winter"
        note = t(f"dates.{season}_short" if short else f"dates.{season}_time", lang)
    return f"{_day(local.date(), lang)} {clock}", note


def _zone_note(zone: Zone, notes: list[str | None]) -> str:
    if all(note is None for note in notes):
        return ""
    extra = "".join(f", {note}" for note in dict.fromkeys(notes) if note)
    return f" ({zone.name}{extra})"


def _day(day: date, lang: str | None = None) -> str:
    return t("dates.day", lang, day=day.day, month=day.month, year=day.year)


def _one(text: str, given: str, zone: Zone, today: date) -> str:
    """One date or time in its kept form: a date as ISO, a time in UTC."""
    value = " ".join(text.strip().casefold().split())
    if not value:
        raise UserError("items.bad_date", value=given)
    for shape in (_DOTTED, _SLASHED, _RELATIVE):
        found = shape.fullmatch(value)
        if found:
            return _from_parts(found, given, zone, today)
    try:
        if len(value) <= 10:
            return date.fromisoformat(value).isoformat()
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError("items.bad_date", value=given) from exc
    if moment.tzinfo is not None:
        return format_utc(moment)
    return _instant(moment, given, zone)


def _from_parts(found: re.Match[str], given: str, zone: Zone, today: date) -> str:
    parts = found.groupdict()
    if "word" in parts:
        day = today - timedelta(days=_DAYS_BACK[parts["word"].replace(" ", "")])
    elif "a" in parts:
        day = _slashed_day(int(parts["a"]), int(parts["b"]), int(parts["year"]), given)
    else:
        day = _checked_day(int(parts["year"]), int(parts["month"]), int(parts["day"]), given)
    if parts["hour"] is None:
        return day.isoformat()
    try:
        moment = datetime(day.year, day.month, day.day, int(parts["hour"]), int(parts["minute"]),
                          int(parts["second"] or 0))
    except ValueError as exc:
        raise UserError("items.bad_date", value=given) from exc
    return _instant(moment, given, zone)


def _slashed_day(a: int, b: int, year: int, given: str) -> date:
    """``13/04/2024`` can only be day first and ``04/13/2024`` only month first; ``03/04/2024`` is refused."""
    if a != b and a <= 12 and b <= 12:
        raise UserError("dates.ambiguous", value=given, day_first=_day(date(year, b, a)),
                        month_first=_day(date(year, a, b)))
    return _checked_day(year, b, a, given) if a > 12 or a == b else _checked_day(year, a, b, given)


def _checked_day(year: int, month: int, day: int, given: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise UserError("items.bad_date", value=given) from exc


def _instant(local: datetime, given: str, zone: Zone) -> str:
    """A wall-clock time on its own date in ``zone``, in UTC; a time the clocks skipped is refused."""
    utc, problem = local_to_utc(local, zone)
    if problem == "nonexistent":
        raise UserError("dates.skipped", value=given, time=local.strftime("%H:%M"), day=_day(local.date()),
                        zone=zone.name)
    return format_utc(utc)


def _first_instant(value: str, zone: Zone) -> datetime:
    if len(value) <= 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), zone.info).astimezone(timezone.utc)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def _last_instant(value: str, zone: Zone) -> datetime:
    """A date as an end counts until its last moment: ``2024-03-01..2024-03-01`` is one whole day."""
    if len(value) <= 10:
        return _first_instant((date.fromisoformat(value) + timedelta(days=1)).isoformat(), zone)
    return _first_instant(value, zone)
