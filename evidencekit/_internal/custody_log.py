"""The append-only, hash-chained, signed custody log of a case.

Each entry's body is canonical JSON naming the previous entry's digest and the digest of a
salted record (never the record itself), so the whole log can travel while some items stay
withheld. The signature covers the stored body bytes exactly. A signature alone does not make a
history: the log must also keep its own order (numbers, links, times, one addition per item),
and its times must agree with the timestamps proven for it (``time_problems``).
"""

from __future__ import annotations

import bisect
from sqlcipher3 import dbapi2 as sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import nacl.signing

from evidencekit._internal import canonical, keys
from evidencekit.errors import UserError
from evidencekit.models import LogEntry, Problem

ENTRY_TYPE = "evidencekit.custody-log-entry"


def append(
    conn: sqlite3.Connection,
    case_id: str,
    signer: nacl.signing.SigningKey,
    action: str,
    record_sha256: str,
    subject: str | None = None,
) -> LogEntry:
    """Append within the caller's transaction, so the entry lands with the change it records."""
    last = conn.execute(
        "SELECT seq, body FROM log_entries WHERE case_id = ? ORDER BY seq DESC LIMIT 1", (case_id,)
    ).fetchone()
    seq = last[0] + 1 if last else 1
    body = canonical.dumps(
        {
            "type": ENTRY_TYPE,
            "v": 1,
            "case": case_id,
            "seq": seq,
            "time": _time_after(last[1] if last else None),
            "action": action,
            "subject": subject,
            "record_sha256": record_sha256,
            "prev": canonical.sha256_hex(last[1]) if last else None,
            "signer": keys.public_key_string(bytes(signer.verify_key)),
        }
    )
    signature = signer.sign(body).signature
    conn.execute(
        "INSERT INTO log_entries (case_id, seq, body, signature) VALUES (?, ?, ?, ?)",
        (case_id, seq, body, signature),
    )
    return _entry(body, signature)


def _time_after(previous_body: bytes | None) -> str:
    """Now, or the previous entry's time if the clock has stepped back since (a correction, a
    changed setting): times never go backwards along the chain, and this entry was written
    after its predecessor, so that time is the earliest it can honestly claim."""
    now = canonical.utc_now()
    try:
        before = canonical.loads(canonical.as_bytes(previous_body))["time"] if previous_body else now
        return before if _moment(before) > _moment(now) else now
    except (ValueError, KeyError, TypeError, AttributeError):  # an unreadable predecessor is check's finding, not a reason to stop
        return now


def read(conn: sqlite3.Connection, case_id: str) -> list[tuple[bytes, bytes]]:
    """The stored (body, signature) pairs in order, exactly as written."""
    return [
        (canonical.as_bytes(body), canonical.as_bytes(sig))
        for body, sig in conn.execute(
            "SELECT body, signature FROM log_entries WHERE case_id = ? ORDER BY seq", (case_id,)
        )
    ]


def entries(conn: sqlite3.Connection, case_id: str) -> list[LogEntry]:
    return [_entry(body, sig) for body, sig in read(conn, case_id)]


def head(conn: sqlite3.Connection, case_id: str) -> str | None:
    row = conn.execute(
        "SELECT body FROM log_entries WHERE case_id = ? ORDER BY seq DESC LIMIT 1", (case_id,)
    ).fetchone()
    return canonical.sha256_hex(row[0]) if row else None


def _entry(body: bytes, signature: bytes) -> LogEntry:
    fields = canonical.loads(body)
    return LogEntry(
        seq=fields["seq"],
        time=fields["time"],
        action=fields["action"],
        subject=fields["subject"],
        record_sha256=fields["record_sha256"],
        prev=fields["prev"],
        signer=fields["signer"],
        digest=canonical.sha256_hex(body),
        signature=signature.hex(),
    )


def verify(stored: Iterable[tuple[bytes, bytes]], case_key: bytes) -> tuple[list[LogEntry], list[Problem]]:
    """Check signatures, order and chain; return the entries that hold and what does not.

    Beyond each signature, the log must keep its own order, because the signer could otherwise
    sign a history that never happened: numbers go up by exactly one (a gap is *missing*, a
    repeat or a step back is named as such), each ``prev`` names the entry read before it, times
    never go backwards along the chain, and an item is added once. Order findings are made on
    the entries whose signature holds, so one altered entry gives one finding, not a cascade.
    """
    pairs = list(stored)
    readable = [_readable(body, signature) for body, signature in pairs]
    present = sorted({e.seq for e in readable if isinstance(e, LogEntry)})
    problems: list[Problem] = []
    good: list[LogEntry] = []
    seen: set[int] = set()
    added: dict[str | None, int] = {}
    highest, prev_digest, previous_held = 0, None, True
    last_good: LogEntry | None = None
    for (body, signature), entry in zip(pairs, readable):
        if not isinstance(entry, LogEntry):
            problems.append(Problem("entry_unreadable", f"#{highest + 1}", {"reason": entry}))
            highest, prev_digest, previous_held = highest + 1, canonical.sha256_hex(body), False
            continue
        subject = f"#{entry.seq}"
        found = _order_problem(entry, highest, seen, present)
        if found is None and previous_held and entry.prev != prev_digest:
            found = Problem("entry_chain_broken", subject)
        held = _signature_problem(entry, body, signature, case_key)
        problems += [p for p in (found, held) if p is not None]
        if held is None:
            good.append(entry)
            problems += _content_problems(entry, last_good, added)
            last_good = entry
        seen.add(entry.seq)
        highest, prev_digest, previous_held = max(highest, entry.seq), entry.digest, held is None
    return good, problems


def time_problems(entries: Sequence[LogEntry], proven: Mapping[int, str]) -> list[Problem]:
    """Entries that claim a time later than a timestamp proves they existed.

    ``proven`` maps a ``seq`` to an RFC 3339 time T such that the log head at that entry
    provably existed at or before T (a verified OpenTimestamps or RFC 3161 proof of it). As
    each entry names the digest of the one before, that head commits to every entry up to
    ``seq``: all of them existed by T, so none can honestly claim a time after T. An entry
    ``k`` is therefore bound by the earliest T proven for any entry at or after ``k``.

    Only this direction is sound. A timestamp gives an upper bound and never a lower one: it
    is made after the entry it covers (an OpenTimestamps attestation names a Bitcoin block
    that may come hours later), so an entry written after a stamped one may well claim a time
    before that stamp's T. What catches a log dated back is the rest of the log's order:
    ``verify`` refuses a time earlier than the entry before it, so an entry dated back cannot
    go below its signed predecessor, and placing it earlier in the chain changes the digests
    every later proof covers, so those proofs no longer verify. A log dated forward shows up
    here: its entries claim times after the proofs that cover them. What remains: an entry
    may be dated anywhere between its predecessor's time and the next proof's, and a log made
    before its first proof may be dated back as a whole. More frequent stamps narrow the
    first; nothing in the log rules out the second.

    ``entries`` are those ``verify`` returned (their times are known to be readable).
    """
    bounds = sorted((seq, _moment(time), time) for seq, time in proven.items())
    earliest_from: list[tuple[datetime, int, str]] = []  # suffix minima: the tightest bound at or after i
    for seq, moment, time in reversed(bounds):
        tighter = not earliest_from or moment < earliest_from[-1][0]
        earliest_from.append((moment, seq, time) if tighter else earliest_from[-1])
    earliest_from.reverse()
    seqs = [seq for seq, _, _ in bounds]
    problems = []
    for entry in entries:
        index = bisect.bisect_left(seqs, entry.seq)
        if index == len(seqs):
            continue
        moment, seq, time = earliest_from[index]
        if _moment(entry.time) > moment:
            problems.append(Problem("entry_time_after_proof", f"#{entry.seq}",
                                    {"time": entry.time, "proven": f"#{seq}", "proven_time": time}))
    return problems


def _readable(body: bytes, signature: bytes) -> LogEntry | str:
    """The entry, or why it cannot be read: a log from elsewhere may hold any JSON at all."""
    try:
        entry = _entry(body, signature)
        keys.parse_public_key(entry.signer)
        shapes = ((entry.seq, int), (entry.time, str), (entry.action, str), (entry.subject, (str, type(None))),
                  (entry.record_sha256, str), (entry.prev, (str, type(None))))
        if any(not isinstance(value, kind) or isinstance(value, bool) for value, kind in shapes) or entry.seq < 1:
            raise TypeError
        _moment(entry.time)
    except (ValueError, KeyError, TypeError, AttributeError, UserError) as exc:
        return type(exc).__name__
    return entry


def _order_problem(entry: LogEntry, highest: int, seen: set[int], present: list[int]) -> Problem | None:
    """Whether ``entry`` takes the next number after the highest so far, and if not, how it errs."""
    subject = f"#{entry.seq}"
    if entry.seq in seen:
        return Problem("entry_repeated", subject)
    if entry.seq == highest + 1:
        return None
    skipped_later = bisect.bisect_right(present, highest) < bisect.bisect_left(present, entry.seq)
    if entry.seq > highest + 1 and not skipped_later:
        return Problem("entry_missing", f"#{highest + 1}", {"count": entry.seq - highest - 1})
    return Problem("entry_out_of_order", subject, {"previous": f"#{highest}"})


def _signature_problem(entry: LogEntry, body: bytes, signature: bytes, case_key: bytes) -> Problem | None:
    signer = keys.parse_public_key(entry.signer)
    if signer != case_key:
        return Problem("signature_unknown_key", f"#{entry.seq}", {"signer": entry.signer})
    if not keys.verify(signer, body, signature):
        return Problem("entry_changed", f"#{entry.seq}")
    return None


def _content_problems(entry: LogEntry, before: LogEntry | None, added: dict[str | None, int]) -> list[Problem]:
    """What a signed entry says that its signed predecessors contradict."""
    found = []
    if before is not None and _moment(entry.time) < _moment(before.time):
        found.append(Problem("entry_time_backwards", f"#{entry.seq}",
                             {"time": entry.time, "previous": f"#{before.seq}", "previous_time": before.time}))
    if entry.action == "item.add":
        if entry.subject in added:
            found.append(Problem("item_added_twice", str(entry.subject),
                                 {"entry": f"#{entry.seq}", "first": f"#{added[entry.subject]}"}))
        else:
            added[entry.subject] = entry.seq
    return found


def _moment(text: str) -> datetime:
    """An RFC 3339 time that names its offset; one without cannot be ordered against others."""
    moment = canonical.parse_time(text)
    if moment.tzinfo is None:
        raise ValueError(f"no time zone in {text!r}")
    return moment
