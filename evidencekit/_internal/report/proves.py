""""What this proves — and what it does not", written from the facts of this very case.

Why generated: a fixed paragraph would claim timestamps that are still pending or DKIM
signatures that could not be checked. Each sentence here is chosen by what the proofs, the
signatures and the capture records actually say, and names the exhibits it is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evidencekit._internal.report.clock import Clock
from evidencekit._internal.report.exhibits import Exhibit
from evidencekit._internal.report.transcript import Conversation
from evidencekit.i18n import t


@dataclass(frozen=True)
class Proves:
    holds: tuple[str, ...]  # what the evidence shows
    limits: tuple[str, ...]  # what it does not show
    warnings: tuple[str, ...]  # what the reader must check or treat with care


def exhibits_phrase(values: Sequence[int], lang: str) -> str:
    """``Exhibit 6`` or ``Exhibits 1–3, 5`` (``Bilag …`` in bokmål), to start a sentence with."""
    key = "report.exhibits_one" if len(set(values)) == 1 else "report.exhibits_many"
    return t(key, lang, list=numbers(values))


def numbers(values: Sequence[int]) -> str:
    """``1–3, 5``: exhibit numbers, runs shortened."""
    runs: list[list[int]] = []
    for n in sorted(set(values)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


class _Writer:
    def __init__(self, lang: str, clock: Clock) -> None:
        self.lang, self.clock = lang, clock
        self.holds: list[str] = []
        self.limits: list[str] = []
        self.warnings: list[str] = []

    def say(self, into: list[str], key: str, **params: object) -> None:
        sentence = t(f"report.{key}", self.lang, **params)
        if sentence not in into:
            into.append(sentence)


def build(exhibits: Sequence[Exhibit], conversations: Mapping[str, Conversation], *, log_length: int,
          log_head: str | None, fingerprint: str, withheld: int, blurred: Sequence[int], grouped: bool,
          lang: str, clock: Clock) -> Proves:
    w = _Writer(lang, clock)
    w.say(w.holds, "proves_integrity", fingerprint=fingerprint)
    w.say(w.holds, "proves_log", count=log_length, head=log_head or "-")
    w.say(w.limits, "limit_signature")
    _timestamps(w, exhibits)
    for exhibit in exhibits:
        _exhibit(w, exhibit, conversations.get(exhibit.label))
    if withheld:
        w.say(w.limits, "limit_withheld", count=withheld)
    if blurred:
        w.say(w.warnings, "warn_blurred", exhibits=exhibits_phrase(blurred, lang))
    if grouped:
        w.say(w.limits, "limit_duplicates")
    return Proves(tuple(w.holds), tuple(w.limits), tuple(w.warnings))


def _timestamps(w: _Writer, exhibits: Sequence[Exhibit]) -> None:
    verified: dict[tuple[str, str, str, int | None], list[int]] = {}
    pending: list[int] = []
    bare: list[int] = []
    for exhibit in exhibits:
        good = [p for p in exhibit.proofs if p.status == "verified"]
        for proof in good:
            key = (proof.kind, proof.authority, proof.time or "", proof.block)
            verified.setdefault(key, []).append(exhibit.number)
        if any(p.status == "pending" for p in exhibit.proofs):
            pending.append(exhibit.number)
        if not good:
            bare.append(exhibit.number)
        for proof in exhibit.proofs:
            if proof.status in ("invalid", "unverifiable", "unconfirmed"):
                w.say(w.warnings, f"warn_stamp_{proof.status}", exhibit=exhibit.number, server=proof.server,
                      reason=proof.result.reason_in(w.lang))
    for (kind, authority, time, block), which in verified.items():
        phrase = exhibits_phrase(which, w.lang)
        if kind == "rfc3161":
            w.say(w.holds, "proves_tsa", exhibits=phrase, tsa=authority, time=w.clock.show(time, True))
        else:
            w.say(w.holds, "proves_ots", exhibits=phrase, block=block, time=w.clock.show(time))
    if pending:
        w.say(w.warnings, "warn_pending", exhibits=exhibits_phrase(pending, w.lang))
    if bare:
        w.say(w.warnings, "warn_no_stamp", exhibits=exhibits_phrase(bare, w.lang))
    w.say(w.limits, "limit_stamp")


def _exhibit(w: _Writer, exhibit: Exhibit, conversation: Conversation | None) -> None:
    n = exhibit.number
    if exhibit.kind == "web":
        facts = exhibit.acquired
        server = (facts.get("http") or {}).get("server") or {}
        w.say(w.holds, "proves_web", exhibit=n, url=exhibit.url or "-", ip=server.get("ip") or "-",
              time=w.clock.show(exhibit.acquired_at, True))
        tls = facts.get("tls")
        if tls:
            w.say(w.holds, "proves_tls", exhibit=n, subject=tls.get("subject") or "-",
                  issuer=tls.get("issuer") or "-")
        skew = (facts.get("server_date") or {}).get("server_minus_local_seconds")
        if isinstance(skew, int):
            w.say(w.holds if abs(skew) <= 120 else w.warnings, "proves_server_clock", exhibit=n, seconds=skew)
        w.say(w.limits, "limit_web")
    elif exhibit.kind in ("chat", "email") or exhibit.format:
        if conversation and conversation.mails:
            for mail in conversation.mails:
                for result, sentence in mail.dkim:
                    w.say(w.holds if result == "pass" else w.warnings, "dkim_line", exhibit=n, sentence=sentence)
                if not mail.dkim:
                    w.say(w.warnings, "warn_no_dkim", exhibit=n)
            w.say(w.limits, "limit_email")
        else:
            w.say(w.holds, "proves_export", exhibit=n)
            w.say(w.limits, "limit_chat")
            if conversation and conversation.zone_note:
                w.say(w.limits, "limit_chat_zone", exhibit=n, note=conversation.zone_note)
        for gap in conversation.gaps if conversation else ():
            w.say(w.limits, "limit_export_gap", exhibit=n, gap=gap)
    elif exhibit.kind == "diary":
        w.say(w.limits, "limit_diary")
    elif exhibit.kind == "redaction" and exhibit.link is not None:
        into = w.warnings if exhibit.link.status == "not_logged" else w.holds
        w.say(into, "proves_redaction", line=exhibit.link.message(w.lang))
        w.say(w.limits, "limit_redaction")
    else:
        w.say(w.limits, "limit_file")
