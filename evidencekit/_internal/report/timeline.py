"""The report's timeline: the case's one timeline (``_internal/timeline.py``) over the exhibits.

Why a step of its own: the report lists only what it includes, leaves out a redaction whose
original is in the report too (the same event twice would look like two), and lists at most
``PER_EXHIBIT`` messages of one chat, all of which stay in its transcript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evidencekit._internal.report.clock import Clock
from evidencekit._internal.report.exhibits import Exhibit
from evidencekit._internal.timeline import Entry, Timeline, build as build_timeline

PER_EXHIBIT = 300


def build(exhibits: Sequence[Exhibit], transcripts: Mapping[str, Mapping[str, Any]], statements: Mapping[str, str],
          clock: Clock) -> Timeline:
    """Every dated event of the exhibits; a redaction counts only when its original is not here."""
    entries = [Entry(e.item, transcripts.get(e.label), statements.get(e.label, "")) for e in exhibits
               if e.link is None or e.link.status != "included"]
    return build_timeline(entries, clock, per_item=PER_EXHIBIT)
