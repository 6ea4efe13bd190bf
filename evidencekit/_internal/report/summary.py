"""The summary: who the incidents involve, through which channels, over which period.

Why counts of exhibits and not of messages: one hostile chat of 400 messages is one incident
record, a single cruel e-mail another; counting messages would let volume pass for severity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evidencekit._internal.report.clock import Clock
from evidencekit._internal.report.exhibits import Exhibit
from evidencekit._internal.report.transcript import Conversation
from evidencekit._internal.timeline import channel, channel_key
from evidencekit.models import PERIOD


@dataclass(frozen=True)
class Summary:
    by_who: tuple[tuple[str | None, int], ...]  # None: not stated
    by_channel: tuple[tuple[str | None, int], ...]
    by_kind: tuple[tuple[str, int], ...]
    first: str | None
    last: str | None
    messages: int
    withheld: int


def build(exhibits: Sequence[Exhibit], transcripts: Mapping[str, Mapping[str, Any]],
          conversations: Mapping[str, Conversation], withheld: int, clock: Clock) -> Summary:
    counted = [e for e in exhibits if e.link is None or e.link.status != "included"]
    by_who = Counter(e.item.incident.who for e in counted)
    spelt: dict[str | None, str | None] = {}  # one channel, one spelling: the first one met
    for e in counted:
        spelt.setdefault(channel_key(channel(e.item)), channel(e.item))
    by_channel = Counter(spelt[channel_key(channel(e.item))] for e in counted)
    by_kind = Counter(e.kind for e in exhibits)
    when = sorted(_happened(counted, transcripts, clock), key=clock.sort_key)
    return Summary(
        tuple(sorted(by_who.items(), key=lambda kv: (-kv[1], kv[0] or "~"))),
        tuple(sorted(by_channel.items(), key=lambda kv: (-kv[1], kv[0] or "~"))),
        tuple(sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))),
        when[0] if when else None,
        when[-1] if when else None,
        sum(c.total for c in conversations.values()),
        withheld,
    )


def _happened(exhibits: Sequence[Exhibit], transcripts: Mapping[str, Mapping[str, Any]], clock: Clock
              ) -> Iterator[str]:
    """When things happened: the incident dates she gave (both ends of a period) and the times of
    messages. Not when they were captured or imported: that would stretch the period to today."""
    for exhibit in exhibits:
        if exhibit.item.incident.date:
            yield from (end for end in exhibit.item.incident.date.split(PERIOD) if clock.moment(end))
        for message in (transcripts.get(exhibit.label) or {}).get("messages") or []:
            if isinstance(message, dict) and not message.get("system") and clock.moment(message.get("time_utc")):
                yield str(message["time_utc"])
