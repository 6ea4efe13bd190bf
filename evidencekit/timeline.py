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
from evidencekit.notices import notice_of

__all__ = ["CaseTimeline", "Event", "build", "to_json"]

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
    moment = clock.moment(event.when)
    utc = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
    return {"time": utc, "given": event.when, "item": event.item, "kind": event.kind, "own": event.own,
            "who": event.who, "channel": event.channel, "text": event.text, "where": event.where,
            "person": event.person, "witnesses": list(event.witnesses)}
