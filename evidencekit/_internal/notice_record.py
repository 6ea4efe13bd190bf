"""A notice as an item records it: to whom (one word of ours), when, and what identifies it.

Why apart from ``evidencekit.notices``: reading a notice back from an item needs nothing but the
item, and the report, the timeline and the deadlines read it from below the public API; recording
one needs the locker, which stays in ``evidencekit.notices``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from evidencekit._internal.dates import shown
from evidencekit.errors import UserError
from evidencekit.i18n import t
from evidencekit.models import Item

KIND = "notice"
RECEIVERS = ("employer", "safety-rep", "union", "police", "platform", "ombud", "tribunal", "health", "other")
BOKMAL = ("arbeidsgiver", "verneombud", "fagforening", "politi", "plattform", "ombud", "nemnda", "helse", "annen")
_WORDS = {**dict(zip(RECEIVERS, RECEIVERS)), **dict(zip(BOKMAL, RECEIVERS))}


@dataclass(frozen=True)
class Notice:
    """One notice as the worker recorded it: to whom (a RECEIVERS key), when, and what identifies it."""

    to: str
    date: str  # as the worker gave it, in ISO form (see ``locker.normalise_date``)
    name: str | None = None  # who received it: a person, an office, a platform
    reference: str | None = None  # case number, report id, the avvik's number
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def receiver(self, lang: str | None = None) -> str:
        """To whom, in words: "the employer", "arbeidsgiveren"."""
        return t(f"notices.to_{self.to}", lang)

    def summary(self, lang: str | None = None) -> str:
        """In one phrase: "Reported to the employer: HR (ref HR-2026-17)"."""
        line = t("notices.headline", lang, to=self.receiver(lang))
        line = t("notices.headline_name", lang, line=line, name=self.name) if self.name else line
        return t("notices.headline_ref", lang, line=line, reference=self.reference) if self.reference else line

    def headline(self, lang: str | None = None) -> str:
        """The summary marked for lists and timelines, where it stands among other kinds of lines."""
        return f"→ {self.summary(lang)}"

    def lines(self, lang: str | None = None) -> list[tuple[str, str]]:
        """The facts given, as (label, value) in the reader's language, for ``show`` and the like."""
        facts = (("to", self.receiver(lang)), ("date", shown(self.date, lang=lang)), ("name", self.name),
                 ("reference", self.reference), ("note", self.note))
        return [(t(f"notices.{key}", lang), value) for key, value in facts if value]


def receiver(word: str) -> str:
    """The RECEIVERS key for an English or bokmål word (any case); anything else is one clear error."""
    key = _WORDS.get(word.strip().casefold())
    if key is None:
        raise UserError("notices.bad_to", value=word, allowed=", ".join(RECEIVERS), bokmal=", ".join(BOKMAL))
    return key


def notice_of(item: Item) -> Notice | None:
    """The notice an item records, or None for any other kind (or a record without to whom and when).

    Only the fields known here are read, so a record written by a later version still reads."""
    data = item.acquired.get("notice") if item.kind == KIND else None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("to", "date")):
        return None
    return Notice(**{f.name: data.get(f.name) for f in fields(Notice)})
