"""The summary: who the incidents involve, through which channels, over which period.

Why counts of exhibits and not of messages: one hostile chat of 400 messages is one incident
record, a single cruel e-mail another; counting messages would let volume pass for severity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from evidencekit._internal.report.clock import Clock
from evidencekit._internal.report.exhibits import Exhibit
from evidencekit._internal.report.timeline import Timeline
from evidencekit._internal.report.transcript import Conversation


@dataclass(frozen=True)
class Summary:
    by_who: tuple[tuple[str | None, int], ...]  # None: not stated
    by_channel: tuple[tuple[str | None, int], ...]
    by_kind: tuple[tuple[str, int], ...]
    first: str | None
    last: str | None
    messages: int
    withheld: int


def channel(exhibit: Exhibit) -> str | None:
    """The channel the worker named, else what the evidence itself shows (site, app)."""
    stated = exhibit.item.incident.channel
    if stated:
        return stated
    if exhibit.kind == "web" and exhibit.url:
        return urlsplit(exhibit.url).hostname
    return exhibit.format


def build(exhibits: Sequence[Exhibit], timeline: Timeline, conversations: Mapping[str, Conversation],
          withheld: int, clock: Clock) -> Summary:
    counted = [e for e in exhibits if e.link is None or e.link.status != "included"]
    by_who = Counter(e.item.incident.who for e in counted)
    by_channel = Counter(channel(e) for e in counted)
    by_kind = Counter(e.kind for e in exhibits)
    when = sorted((e.when for e in timeline.events if clock.moment(e.when)), key=clock.sort_key)
    return Summary(
        tuple(sorted(by_who.items(), key=lambda kv: (-kv[1], kv[0] or "~"))),
        tuple(sorted(by_channel.items(), key=lambda kv: (-kv[1], kv[0] or "~"))),
        tuple(sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))),
        when[0] if when else None,
        when[-1] if when else None,
        sum(c.total for c in conversations.values()),
        withheld,
    )
