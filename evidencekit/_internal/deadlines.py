"""The tribunal's time limit, said while there is still time to act on it.

Why: the Anti-Discrimination Tribunal (Diskrimineringsnemnda) can dismiss acts more than three
years old. A worker who keeps a diary for months may not know this; once the earliest incident
of a case is more than ``WARN_AFTER_MONTHS`` old, ``timeline``, ``report`` and ``case show``
say when the limit is reached, as a local date.

The earliest incident is the earliest incident date the worker gave (for a period, its start),
else, for an item without one, the earliest message of an imported chat or e-mail, else the
day the item was stored. Notices given are not incidents and do not count.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from evidencekit._internal import notice_record
from evidencekit._internal.report import contents
from evidencekit._internal.report.clock import Clock
from evidencekit.i18n import t
from evidencekit.models import Item

WARN_AFTER_MONTHS = 30
LIMIT_YEARS = 3
NOT_INCIDENTS = (notice_record.KIND,)


@dataclass(frozen=True)
class Deadline:
    """The earliest incident (a local date, and the item it comes from) and when the limit falls."""

    earliest: date
    item: str
    limit: date
    passed: bool

    def sentence(self, lang: str | None = None) -> str:
        key = "deadlines.passed" if self.passed else "deadlines.ahead"
        return t(key, lang, earliest=long_date(self.earliest, lang), limit=long_date(self.limit, lang))

    def to_json(self) -> dict[str, Any]:
        return {"earliest_incident": self.earliest.isoformat(), "item": self.item,
                "limit": self.limit.isoformat(), "passed": self.passed}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the 31st (or 29 February) falls back to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def long_date(day: date, lang: str | None = None) -> str:
    """``3 March 2024`` / ``3. mars 2024``: no reader mistakes day for month."""
    return t("deadlines.long_date", lang, day=day.day, month=t(f"deadlines.month_{day.month}", lang), year=day.year)


def incident_start(item: Item, locker: Any, clock: Clock) -> date | None:
    """When the item's incident began, as a local date (see the module's rule)."""
    if item.kind in NOT_INCIDENTS:
        return None
    moment = clock.moment(item.incident.date)  # a period counts from its start
    if moment is None:
        data = contents.transcript(locker, item)
        times = [m.get("time_utc") for m in (data or {}).get("messages", []) if isinstance(m, dict)]
        known = [when for when in (clock.moment(x) for x in times if isinstance(x, str)) if when is not None]
        moment = min(known) if known else clock.moment(item.created)
    return moment.date() if moment else None


def deadline(locker: Any, items: Sequence[Item], clock: Clock, today: date | None = None) -> Deadline | None:
    """The warning for these items, or None while the earliest incident is ``WARN_AFTER_MONTHS`` old or less."""
    starts = [(start, item.label) for item in items if (start := incident_start(item, locker, clock))]
    if not starts:
        return None
    earliest, label = min(starts)
    today = today or datetime.now(clock.zone).date()
    if add_months(earliest, WARN_AFTER_MONTHS) >= today:
        return None
    limit = add_months(earliest, 12 * LIMIT_YEARS)
    return Deadline(earliest, label, limit, limit <= today)



def of_case(locker: Any, case: str | None = None, zone: str | None = None, today: date | None = None) -> Deadline | None:
    """The warning for all of a case's items, in ``zone`` (default Europe/Oslo): for ``timeline`` and ``case show``."""
    return deadline(locker, locker.items(case), Clock.of(zone), today)
