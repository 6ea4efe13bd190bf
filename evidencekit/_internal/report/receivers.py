"""The same verified exhibits, arranged as one receiver asks for them (``report --for``).

Why: the Anti-Discrimination Tribunal asks what happened, why it is harassment, when, where,
who and who saw it; the police ask which accounts and identifiers were involved and what was
preserved when; an employer needs the notice it was given and a request to act. Each gets the
facts it asks for gathered from every exhibit, in front of the general report, which follows
unchanged (the union reads the general report as it is).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from evidencekit._internal.report import contents
from evidencekit._internal.report.exhibits import Exhibit
from evidencekit._internal.report.notices import Given
from evidencekit._internal.report.proves import numbers
from evidencekit.models import CaseDescription

RECEIVERS = ("tribunal", "police", "employer", "union")


@dataclass(frozen=True)
class Mention:
    """One fact as the worker gave it (a place, a name) and the exhibits that give it: ``1–3, 5``."""

    text: str
    exhibits: str


@dataclass(frozen=True)
class Account:
    """Someone who wrote in an imported chat or e-mail: the name shown, what identifies it, where."""

    name: str
    identifiers: tuple[str, ...]
    messages: int
    exhibits: str


@dataclass(frozen=True)
class Arrangement:
    receiver: str
    description: CaseDescription | None  # the worker's own words (``case describe``)
    places: tuple[Mention, ...]
    roles: tuple[Mention, ...]  # a WHO key each
    people: tuple[Mention, ...]
    witnesses: tuple[Mention, ...]
    reactions: tuple[Mention, ...]
    consequences: tuple[Mention, ...]
    notices: tuple[Given, ...]  # in time order, as the "Reported" section lists them
    accounts: tuple[Account, ...]  # police only: reading every transcript again costs time
    urls: tuple[Mention, ...]


def arrange(locker: Any, receiver: str, exhibits: Sequence[Exhibit], description: CaseDescription | None,
            given: Sequence[Given]) -> Arrangement:
    """What ``receiver`` is shown first, from the exhibits and the notices among them."""
    facts = [(e.number, e.item.incident) for e in exhibits if _counted(e)]
    return Arrangement(
        receiver=receiver,
        description=description,
        places=_mentions((n, f.where) for n, f in facts),
        roles=_mentions((n, f.who) for n, f in facts),
        people=_mentions((n, f.person) for n, f in facts),
        witnesses=_mentions((n, w) for n, f in facts for w in f.witnesses),
        reactions=_mentions((n, f.reaction) for n, f in facts),
        consequences=_mentions((n, f.consequences) for n, f in facts),
        notices=tuple(given),
        accounts=tuple(_accounts(locker, exhibits)) if receiver == "police" else (),
        urls=_mentions((e.number, url) for e in exhibits if e.kind == "web"
                       for url in dict.fromkeys(u for u in (e.acquired.get("requested_url"), e.url) if u)),
    )


def _counted(exhibit: Exhibit) -> bool:
    """A redaction whose original is in the report adds nothing new."""
    return exhibit.link is None or exhibit.link.status != "included"


def _mentions(pairs: Iterable[tuple[int, str | None]]) -> tuple[Mention, ...]:
    """Each distinct text (first spelling kept, letter case ignored) with its exhibits, in first-seen order."""
    found: dict[str, tuple[str, list[int]]] = {}
    for number, text in pairs:
        if text and text.strip():
            found.setdefault(text.strip().casefold(), (text.strip(), []))[1].append(number)
    return tuple(Mention(text, numbers(where)) for text, where in found.values())


def _accounts(locker: Any, exhibits: Sequence[Exhibit]) -> list[Account]:
    """Everyone who wrote in the imported chats and e-mails, but the worker herself."""
    seen: dict[str, tuple[str, dict[str, None], list[int], list[int]]] = {}
    for exhibit in exhibits:
        if not _counted(exhibit):
            continue
        data = contents.transcript(locker, exhibit.item)
        for message in (data or {}).get("messages", []):
            if not isinstance(message, dict) or message.get("system") or message.get("from_me"):
                continue
            name = str(message.get("sender") or message.get("display") or "").strip()
            if not name:
                continue
            _, identifiers, count, where = seen.setdefault(name.casefold(), (name, {}, [0], []))
            for value in (message.get("display"), message.get("sender_id")):
                if value and str(value).strip() and str(value).strip() != name:
                    identifiers[str(value).strip()] = None
            count[0] += 1
            if exhibit.number not in where:
                where.append(exhibit.number)
    return [Account(name, tuple(ids), count[0], numbers(where)) for name, ids, count, where in seen.values()]
