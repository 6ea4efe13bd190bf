"""Notices given: that, when and to whom the worker reported what happened (an e-mail to HR, an
avvik, a varsel, a police report, a platform report), with the letter or receipt as its files.

Why an item of its own: the employer's duty to act starts when the employer is told, and the
tribunal asks whom she told and when. Kept as an item, a notice is signed, logged and stamped like
any evidence, so its date cannot be moved afterwards. Its facts live in the item's salted record
(under ``acquired["notice"]``), so a withheld notice reveals nothing, not even whom she told.

    record_notice(locker, passphrase, "employer", "2026-03-02", name="HR, Kari Hansen",
                  reference="HR-2026-17", files=[Path("varsel.pdf")])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from evidencekit import __version__
from evidencekit._internal.dates import shown
from evidencekit.errors import UserError
from evidencekit.i18n import t
from evidencekit.locker import Locker, file_source, normalise_date
from evidencekit.models import IncidentFacts, Item

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


def record_notice(locker: Locker, passphrase: str, to: str, date: str, name: str | None = None,
                  reference: str | None = None, note: str | None = None, files: Sequence[Path | str] = (),
                  case: str | None = None) -> Item:
    """Store a notice as one item: its facts in the record, the letter or receipt (if any) as files.

    Everything is checked before anything is stored: a bad receiver, date or file changes nothing.
    """
    notice = Notice(receiver(to), normalise_date(date), _given(name), _given(reference), _given(note))
    sources = [file_source(Path(f)) for f in files]
    acquired = {"method": KIND, "tool": f"evidencekit {__version__}", "notice": notice.to_json()}
    return locker.add_items([(KIND, sources, acquired, IncidentFacts())], passphrase, case)[0]


def _given(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None
