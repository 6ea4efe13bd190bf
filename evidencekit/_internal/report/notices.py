"""The "Reported" section: each notice the worker gave, in time order, with its exhibit number.

Why a section of its own: the employer's duty to act starts when the employer is told, so a
reader looks first for whom she told and when; scattered among the exhibits, that is easy to miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evidencekit._internal.report.clock import Clock
from evidencekit._internal.report.exhibits import Exhibit
from evidencekit._internal.notice_record import Notice, notice_of


@dataclass(frozen=True)
class Given:
    """One notice and the exhibit that holds it (its letter or receipt, if any)."""

    exhibit: int
    label: str
    notice: Notice
    files: int


def build(exhibits: Sequence[Exhibit], clock: Clock) -> tuple[Given, ...]:
    """The exhibits' notices, earliest first (dates and times compared in the report's zone)."""
    found = [(exhibit, notice_of(exhibit.item)) for exhibit in exhibits]
    given = [Given(e.number, e.label, n, len(e.item.files)) for e, n in found if n is not None]
    return tuple(sorted(given, key=lambda g: (clock.sort_key(g.notice.date), g.exhibit)))
