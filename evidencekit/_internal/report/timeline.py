"""The timeline: what happened and what was recorded, in time order, across all exhibits.

Why merged: a case handler needs to see that the e-mail came two days after the chat message
and the night before the diary note. Each line says which exhibit it comes from and whether it
is the worker's own account (an incident date or a note) or something recorded (a message, a
capture), because the two weigh differently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evidencekit._internal.report.clock import Clock
from evidencekit._internal.report.exhibits import Exhibit
from evidencekit._internal.report.transcript import Conversation
from evidencekit.notices import notice_of

PER_EXHIBIT = 300  # messages of one exhibit in the timeline; all of them stay in its transcript
EXCERPT = 280


@dataclass(frozen=True)
class Event:
    when: str
    exhibit: int
    kind: str  # "incident", "note", "notice", "capture", "message", "mail"
    who: str | None
    text: str


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]
    cut: tuple[tuple[int, int], ...]  # (exhibit, messages not listed)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def build(exhibits: Sequence[Exhibit], conversations: Mapping[str, Conversation], notes: Mapping[str, str],
          clock: Clock) -> Timeline:
    """Every dated event of the exhibits; a redaction counts only when its original is not here."""
    events: list[Event] = []
    cut: list[tuple[int, int]] = []
    for exhibit in exhibits:
        if exhibit.link is not None and exhibit.link.status == "included":
            continue
        facts = exhibit.item.incident
        if exhibit.kind == "diary":
            events.append(Event(facts.date or exhibit.item.created, exhibit.number, "note", None,
                                excerpt(notes.get(exhibit.label, ""))))
        elif (notice := notice_of(exhibit.item)) is not None:  # its words (to whom, ref) come with the notes
            events.append(Event(notice.date, exhibit.number, "notice", None, excerpt(notes.get(exhibit.label, ""))))
        elif facts.date:
            events.append(Event(facts.date, exhibit.number, "incident", facts.who, excerpt(facts.description or "")))
        if exhibit.kind == "web":
            events.append(Event(exhibit.acquired_at, exhibit.number, "capture", None, excerpt(exhibit.title or "")))
        conversation = conversations.get(exhibit.label)
        if conversation is None:
            continue
        mails = conversation.mails or (None,) * len(conversation.lines)
        dated = [(line, mail) for line, mail in zip(conversation.lines, mails) if line.time and line.side != "system"]
        for line, mail in dated[:PER_EXHIBIT]:
            events.append(Event(line.time or "", exhibit.number, "mail" if mail else "message", line.sender,
                                excerpt(mail.subject if mail else line.text)))
        hidden = max(0, len(dated) - PER_EXHIBIT) + conversation.total - len(conversation.lines)
        if hidden > 0:
            cut.append((exhibit.number, hidden))
    events.sort(key=lambda e: (clock.sort_key(e.when), e.exhibit))
    return Timeline(tuple(events), tuple(cut))
