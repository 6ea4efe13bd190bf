"""The append-only, hash-chained, signed custody log of a case.

Each entry's body is canonical JSON naming the previous entry's digest and the digest of a
salted record (never the record itself), so the whole log can travel while some items stay
withheld. The signature covers the stored body bytes exactly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

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
            "time": canonical.utc_now(),
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
    """Check signatures, sequence and chain; return the entries that hold and what does not."""
    problems: list[Problem] = []
    good: list[LogEntry] = []
    expected_seq, prev_digest, previous_held = 1, None, True
    for body, signature in stored:
        try:
            entry = _entry(body, signature)
            signer = keys.parse_public_key(entry.signer)
        except (ValueError, KeyError, TypeError, UserError) as exc:
            problems.append(Problem("entry_unreadable", f"#{expected_seq}", {"reason": type(exc).__name__}))
            expected_seq, prev_digest, previous_held = expected_seq + 1, canonical.sha256_hex(body), False
            continue
        subject = f"#{entry.seq}"
        found: list[Problem] = []
        if entry.seq > expected_seq:
            found.append(Problem("entry_missing", f"#{expected_seq}", {"count": entry.seq - expected_seq}))
        elif entry.prev != prev_digest and previous_held:
            found.append(Problem("entry_chain_broken", subject))
        if signer != case_key:
            found.append(Problem("signature_unknown_key", subject, {"signer": entry.signer}))
        elif not keys.verify(signer, body, signature):
            found.append(Problem("entry_changed", subject))
        else:
            good.append(entry)
        problems += found
        expected_seq, prev_digest, previous_held = entry.seq + 1, entry.digest, not found
    return good, problems
