"""How the report writes times: one zone for the whole report, named once on the cover.

Why: the locker keeps UTC, chat exports keep the phone's local time, and a worker gives bare
dates. A reader needs one clock, in the zone where things happened, with the offset shown so
nothing is ambiguous around daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from evidencekit._internal import dates
from evidencekit.importers._time import Zone
from evidencekit.models import PERIOD


def parse(value: str | None) -> datetime | date | None:
    """An RFC 3339 time (UTC ``Z`` or with offset), a bare date-time, or a date; else None.

    A period the worker gave (``FROM..TO``) counts as its start, so it sorts where it began."""
    if not value:
        return None
    text = value.partition(PERIOD)[0].strip()
    try:
        if len(text) <= 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Clock:
    """Shows times in one zone; bare times and dates (the worker's own) are read in that zone."""

    zone: ZoneInfo
    name: str
    lang: str | None = None  # the words dates are written in (the report's language; None: the current one)

    @classmethod
    def of(cls, name: str | None, lang: str | None = None) -> Clock:
        """The clock for a zone name (default Europe/Oslo); an unknown name is one clear error."""
        zone = Zone.resolve(name)
        return cls(zone.info, zone.name, lang)

    def moment(self, value: str | None) -> datetime | None:
        """The value as an aware time in this zone (a date counts as its start); None if unreadable."""
        parsed = parse(value)
        if parsed is None:
            return None
        if not isinstance(parsed, datetime):
            parsed = datetime(parsed.year, parsed.month, parsed.day)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(self.zone)

    def sort_key(self, value: str | None) -> str:
        """UTC text that orders dates and times together; unreadable values sort last."""
        moment = self.moment(value)
        if moment is None:
            return "~"
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")

    def show(self, value: str | None, seconds: bool = False) -> str:
        """``03.03.2024 22:10`` (in the reader's words) in this zone, which is named once elsewhere; a
        bare date stays a date; unreadable text is shown as given."""
        if value and PERIOD in value:
            start, _, end = value.partition(PERIOD)
            return f"{self.show(start, seconds)} – {self.show(end, seconds)}"
        parsed = parse(value)
        if parsed is None or value is None:
            return value or ""
        if not isinstance(parsed, datetime):
            return dates.local_text(parsed.isoformat(), self._zone, self.lang)
        return dates.local_text(self.moment(value).isoformat(), self._zone, self.lang, seconds=seconds)  # type: ignore[union-attr]

    @property
    def _zone(self) -> Zone:
        return Zone(self.name, "given", self.zone)

    def day(self, value: str | None) -> str:
        """Only the date, in this zone, in the reader's words."""
        moment = self.moment(value)
        return dates.local_text(moment.date().isoformat(), self._zone, self.lang) if moment else (value or "")
