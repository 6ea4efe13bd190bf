"""What the library hands back: plain, typed, immutable records.

Each model knows how to turn itself into JSON-safe data (``to_json``) so the CLI's ``--json``
output and the library agree field by field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from evidencekit.i18n import t

WHO = ("customer", "client", "colleague", "leader", "other", "unknown")
DIARY_FILE = "diary.txt"  # the file a diary note's words are kept in
TRANSCRIPT_FILE = "evidencekit-transcript.json"  # an import's transcript, beside the export itself
PERIOD = ".."  # an incident date FROM..TO: readable, and sorted by its start


def item_label(number: int) -> str:
    return f"E-{number:03d}"


@dataclass(frozen=True)
class KeyInfo:
    public_key: str
    fingerprint: str
    role: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    anonymous: bool
    created: str
    key: KeyInfo
    item_count: int = 0
    current: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IncidentFacts:
    """What the worker says happened; free of anything the tool measured."""

    date: str | None = None  # an instant, or a period ``FROM..TO`` (see ``locker.normalise_date``)
    who: str | None = None  # one of WHO
    channel: str | None = None
    description: str | None = None
    where: str | None = None
    person: str | None = None  # the name or identifier as the worker knows it
    witnesses: tuple[str, ...] = ()
    reaction: str | None = None  # how she reacted; whether she told them to stop
    consequences: str | None = None  # e.g. sick leave, changed shifts

    TEXTS = ("channel", "description", "where", "person", "reaction", "consequences")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IncidentFacts:
        """From a stored record; records written before a field existed simply lack it."""
        return cls(**{**data, "witnesses": tuple(data.get("witnesses", ()))})

    def given(self) -> dict[str, Any]:
        """Only the facts the worker gave: what goes into the record."""
        return {k: v for k, v in self.to_json().items() if v not in (None, [])}

    def masked(self, mask: Callable[[str], str]) -> IncidentFacts:
        """The same facts with ``mask`` applied to every free text (for redacted copies)."""
        changed: dict[str, Any] = {k: mask(getattr(self, k)) for k in self.TEXTS if getattr(self, k)}
        return replace(self, witnesses=tuple(mask(w) for w in self.witnesses), **changed)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["witnesses"] = list(self.witnesses)
        return data


@dataclass(frozen=True)
class ItemFile:
    name: str
    media_type: str
    size: int
    sha256: str
    modified: str | None = None
    phash: str | None = None
    pdq: str | None = None  # pictures added before PDQ was computed have none

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Item:
    case_id: str
    number: int
    kind: str
    created: str
    acquired: dict[str, Any]
    incident: IncidentFacts
    files: tuple[ItemFile, ...]
    record_sha256: str
    sensitive: bool = False  # a mark kept beside the record (logged), not part of it

    @property
    def label(self) -> str:
        return item_label(self.number)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = self.label
        data["files"] = [f.to_json() for f in self.files]
        data["incident"] = self.incident.to_json()
        return data


@dataclass(frozen=True)
class LogEntry:
    seq: int
    time: str
    action: str
    subject: str | None
    record_sha256: str
    prev: str | None
    signer: str
    digest: str
    signature: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Problem:
    """One thing that does not hold, said precisely: what, where, and in words."""

    code: str
    subject: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str | None = None) -> str:
        return t(f"check.{self.code}", lang, subject=self.subject, **self.params)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "subject": self.subject, "message": self.message(), **self.params}


@dataclass(frozen=True)
class CheckReport:
    case_id: str
    items: int
    files: int
    entries: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self, title: str, lang: str | None = None) -> str:
        """The line ``check`` gives a case: all holds (with what was checked) or how many problems."""
        if not self.ok:
            return t("check.problems_found", lang, title=title, count=len(self.problems))
        return t("check.all_holds", lang, title=title, items=t("check.count_items", lang, count=self.items),
                 files=t("check.count_files", lang, count=self.files),
                 entries=t("check.count_entries", lang, count=self.entries))

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "ok": self.ok,
            "items": self.items,
            "files": self.files,
            "entries": self.entries,
            "problems": [p.to_json() for p in self.problems],
        }


VERDICTS = ("valid", "valid_with_warnings", "invalid")


@dataclass(frozen=True)
class BundleCheck:
    """One thing the verifier checked: ``ok``, ``warning`` or ``failed``, and why, in words."""

    name: str
    status: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status, "message": self.message(), "code": self.key, **self.params}


@dataclass(frozen=True)
class BundleReport:
    """Everything a case handler needs from ``verify``: one verdict, then each check."""

    signer_public_key: str | None
    signer_fingerprint: str | None
    case_title: str | None
    checks: tuple[BundleCheck, ...]
    included: tuple[str, ...] = ()
    withheld: tuple[dict[str, Any], ...] = ()
    timestamps: tuple[dict[str, Any], ...] = ()
    held_back: tuple[str, ...] = ()  # included as hashes only: their content was not checked, it is not there

    @property
    def verdict(self) -> str:
        statuses = {c.status for c in self.checks}
        if "failed" in statuses:
            return "invalid"
        return "valid_with_warnings" if "warning" in statuses else "valid"

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "signer": {"public_key": self.signer_public_key, "fingerprint": self.signer_fingerprint},
            "case": self.case_title,
            "items": list(self.included),
            "withheld": list(self.withheld),
            "held_back": list(self.held_back),
            "timestamps": list(self.timestamps),
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class CaseDescription:
    """The worker's own words on what happened and why it is harassment (``case describe``).

    Kept as a salted record committed to by its custody-log entry ``seq``; the latest one wins.
    """

    case_id: str
    text: str
    written: str
    seq: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
