"""The case's timeline, built once for the command line and the report alike.

Why one builder: the worker's own statements (an incident date, a diary note, a notice given)
are written in her local time, messages carry UTC, a capture its start. Ordered each its own
way, a note written at 22:10 landed after messages sent at 22:15. Here every line is placed by
its instant (UTC, through one :class:`Clock`), and says whether it is her statement or
something recorded, because the two weigh differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from evidencekit._internal.report.clock import Clock
from evidencekit.models import Item
from evidencekit.notices import notice_of

EXCERPT = 280
OWN = ("incident", "note", "notice")  # the worker's own statements; everything else was recorded
_BRANDS = {name.casefold(): name for name in ("WhatsApp", "Telegram", "Messenger", "Discord", "Slack", "SMS")}


@dataclass(frozen=True)
class Event:
    """One line: when (as recorded), which item, what kind, who, through which channel, and what."""

    when: str
    item: str
    kind: str  # "incident", "note", "notice", "capture", "message" or "mail"
    who: str | None  # a role (``customer`` …) for her statements, the sender for messages
    channel: str | None
    text: str
    where: str | None = None
    person: str | None = None
    witnesses: tuple[str, ...] = ()

    @property
    def own(self) -> bool:
        """Whether this is the worker's own statement rather than something recorded."""
        return self.kind in OWN


@dataclass(frozen=True)
class Entry:
    """What the timeline reads of one item: the item, its transcript's messages, and the words of
    her statement (a diary note's text, a notice's headline)."""

    item: Item
    transcript: Mapping[str, Any] | None = None
    statement: str = ""


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]
    cut: tuple[tuple[str, int], ...] = field(default=())  # (item label, messages not listed)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The text on one line, cut with an ellipsis after ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def taken_at(item: Item) -> str:
    """When the evidence was taken: a capture's start, else when it entered the locker."""
    started = item.acquired.get("started")
    if item.kind == "web" and isinstance(started, dict) and started.get("utc"):
        return str(started["utc"])
    return item.created


def channel(item: Item) -> str | None:
    """The channel the worker named, else what the evidence shows (site, app); known apps are
    spelt one way, so "whatsapp" and "WhatsApp" are one channel."""
    acquired = item.acquired
    stated = (item.incident.channel or "").strip()
    if not stated and item.kind == "web":
        url = acquired.get("final_url") or acquired.get("requested_url")
        stated = (urlsplit(url).hostname or "") if url else ""
    if not stated and acquired.get("method") == "import":
        stated = str(acquired.get("format") or "")
    return brand(stated) or None


def brand(name: str) -> str:
    """A known app's name as the app spells it ("whatsapp" → "WhatsApp"); others as given."""
    return _BRANDS.get(name.strip().casefold(), name)


def channel_key(name: str | None) -> str | None:
    """What counts as the same channel: case and surrounding spaces do not."""
    return " ".join(name.split()).casefold() if name else None


def build(entries: Iterable[Entry], clock: Clock, per_item: int | None = None, limit: int = EXCERPT) -> Timeline:
    """Every dated event of the entries in instant order (ties keep the entries' order).

    ``per_item`` caps the messages listed for one item (the report keeps them all in the
    item's transcript); the count left out is in ``cut``."""
    events: list[Event] = []
    cut: list[tuple[str, int]] = []
    for entry in entries:
        item, facts = entry.item, entry.item.incident
        where = {"where": facts.where, "person": facts.person, "witnesses": facts.witnesses}
        path = channel(item)
        notice = notice_of(item)
        if item.kind == "diary":
            events.append(Event(facts.date or item.created, item.label, "note", facts.who, path,
                                excerpt(entry.statement, limit), **where))
        elif notice is not None:
            events.append(Event(notice.date, item.label, "notice", None, None, excerpt(entry.statement, limit)))
        elif facts.date:
            events.append(Event(facts.date, item.label, "incident", facts.who, path,
                                excerpt(facts.description or "", limit), **where))
        if item.kind == "web":
            url = item.acquired.get("final_url") or item.acquired.get("requested_url") or ""
            title = item.acquired.get("title") or ""
            events.append(Event(taken_at(item), item.label, "capture", None, path,
                                excerpt(f"{title} ({url})" if title and url else title or url, limit)))
        dated = _messages(entry.transcript)
        shown = dated if per_item is None else dated[:per_item]
        mail = (entry.transcript or {}).get("format") == "email"
        for message in shown:
            extra = message.get("extra") if isinstance(message.get("extra"), dict) else {}
            text = str(extra.get("subject") or "") if mail else str(message.get("text") or "")
            events.append(Event(str(message["time_utc"]), item.label, "mail" if mail else "message",
                                str(message.get("sender") or message.get("display") or "") or None, path,
                                excerpt(text, limit)))
        if len(shown) < len(dated):
            cut.append((item.label, len(dated) - len(shown)))
    ranked = sorted(enumerate(events), key=lambda pair: (clock.sort_key(pair[1].when), pair[0]))
    return Timeline(tuple(e for _, e in ranked), tuple(cut))


def _messages(transcript: Mapping[str, Any] | None) -> Sequence[Mapping[str, Any]]:
    """A transcript's messages that are someone's words with a known time (not system lines)."""
    if not transcript:
        return []
    return [m for m in transcript.get("messages") or []
            if isinstance(m, dict) and m.get("time_utc") and not m.get("system")]
