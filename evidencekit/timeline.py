"""A case's timeline: what happened and what was recorded, in the order it happened.

The same lines the report prints, for the command line and scripts: ordered by the instant,
shown in one zone, each with who, channel and a short text, and the worker's own statements
(incident dates, diary notes, notices given) marked as such.

    line = timeline.build(locker, zone="Europe/Oslo")
    for event in line.events:
        print(line.clock.show(event.when), event.item, event.text)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from typing import Any

from evidencekit._internal import timeline as builder
from evidencekit._internal.report import contents
from evidencekit._internal.report.clock import Clock
from evidencekit._internal.timeline import Event
from evidencekit.locker import Locker
from evidencekit.models import PERIOD, Item
from evidencekit.notices import notice_of

__all__ = ["CaseTimeline", "Event", "Glance", "build", "glance", "to_json"]

SHORT = 120  # characters of text on a line for people; scripts and the report get more


@dataclass(frozen=True)
class CaseTimeline:
    clock: Clock
    events: tuple[Event, ...]


def build(locker: Locker, case: str | None = None, zone: str | None = None, limit: int = SHORT) -> CaseTimeline:
    """Every dated event of the case, every message included, in instant order."""
    clock = Clock.of(zone)
    entries = []
    for item in locker.items(case):
        notice = notice_of(item)
        statement = notice.headline() if notice else locker.note_text(item)
        entries.append(builder.Entry(item, contents.transcript(locker, item), statement))
    return CaseTimeline(clock, builder.build(entries, clock, limit=limit).events)


def to_json(event: Event, clock: Clock) -> dict[str, Any]:
    """One event for scripts: ``time`` is the instant in UTC; ``given`` is what was recorded
    (a bare date or local time stays as the worker wrote it)."""
    return {"time": _utc(clock, event.when), "given": event.when, "item": event.item, "kind": event.kind, "own": event.own,
            "who": event.who, "channel": event.channel, "text": event.text, "where": event.where,
            "person": event.person, "witnesses": list(event.witnesses)}


@dataclass(frozen=True)
class Glance:
    """One item in a line: when it happened (an incident date, a chat's period, a capture's start,
    a notice's date; None if nobody said), who, through which channel, and what it is."""

    item: Item
    happened: str | None  # as recorded; a period is ``FROM..TO`` (models.PERIOD)
    channel: str | None
    summary: str

    def to_json(self, clock: Clock) -> dict[str, Any]:
        ends = [_utc(clock, end) for end in self.happened.split(PERIOD)] if self.happened else []
        return {"happened": {"given": self.happened, "from": ends[0], "to": ends[-1]} if ends else None,
                "channel": self.channel, "summary": self.summary}


def glance(locker: Locker, item: Item, limit: int = 60) -> Glance:
    """What ``list`` says of an item: when it happened, not when it was stored."""
    notice = notice_of(item)
    data = contents.transcript(locker, item) if item.acquired.get("method") == "import" else None
    times = sorted((str(m["time_utc"]) for m in data.get("messages") or [] if isinstance(m, dict)
                    and m.get("time_utc") and not m.get("system")) if data else ())
    if notice is not None:
        happened: str | None = notice.date
    elif item.incident.date:
        happened = item.incident.date
    elif times:
        happened = times[0] if times[0] == times[-1] else f"{times[0]}{PERIOD}{times[-1]}"
    elif item.kind in ("web", "diary"):  # a capture's start; a note undated is dated by its writing
        happened = builder.taken_at(item)
    else:
        happened = None
    title = item.acquired.get("title") if item.kind == "web" else None
    source = (item.acquired.get("source") or {}).get("name") if data else None
    words = (notice.summary() if notice else item.incident.description or locker.note_text(item) or title
             or source or ", ".join(f.name for f in item.files))
    return Glance(item, happened, builder.channel(item), builder.excerpt(words, limit))


def _utc(clock: Clock, value: str) -> str | None:
    moment = clock.moment(value)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
