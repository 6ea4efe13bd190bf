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
from pathlib import Path

from evidencekit import __version__
from evidencekit._internal.notice_record import BOKMAL, KIND, RECEIVERS, Notice, notice_of, receiver
from evidencekit.locker import Locker, file_source, normalise_date
from evidencekit.models import IncidentFacts, Item

__all__ = ["BOKMAL", "KIND", "RECEIVERS", "Notice", "notice_of", "receiver", "record_notice"]

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
