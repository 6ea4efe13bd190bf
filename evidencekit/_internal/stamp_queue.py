"""The locker's timestamps: what waits to be stamped, what each server gave, and the proofs.

What is stamped is the custody-log head after each change. Its digest commits, through the hash
chain and the salted records, to every entry and item before it, so one stamp covers a whole
batch and every item of the case, also items later withheld from a bundle.

A request is recorded in the same transaction as the change, so neither a crash nor a dead
network loses it. Which servers still owe a stamp is worked out when sending, from the servers
configured *then*: a server owes one for a case while it holds no proof for the case's newest
request. Sending stamps that newest head, which covers the older ones: a stamp taken now proves
no earlier time for them anyway.

A TSA that asks for time between requests (setting ``tsa_spacing``) gets at most one request per
interval, across every evidencekit process on this locker: the moment is reserved in the locker
before the request goes out. What would come sooner simply stays queued; nothing waits for it.
"""

from __future__ import annotations

import re
from sqlcipher3 import dbapi2 as sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from evidencekit._internal import canonical, database, settings

if TYPE_CHECKING:  # proofs are made and read by libraries that take a while to load: only when used
    from cryptography import x509

    from evidencekit._internal.timestamps.bitcoin_headers import HeaderSource
    from evidencekit._internal.timestamps.model import ProofResult, ServerFailure

Progress = Callable[[str, str], None]  # (kind, server), called once each server has answered


@dataclass(frozen=True)
class Stamp:
    """A proof from one server for one log head, or (``status == "queued"``) one still owed."""

    case_id: str
    seq: int
    digest: str
    kind: str
    server: str
    status: str
    proof: bytes | None = None


@dataclass
class Summary:
    """What one round did, and where the case's timestamps stand afterwards."""

    stamped: int = 0
    upgraded: int = 0
    failures: list[ServerFailure] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "stamped": self.stamped,
            "upgraded": self.upgraded,
            "counts": self.counts,
            "failures": [{"kind": f.kind, "server": f.url, "reason": f.reason} for f in self.failures],
        }


def servers(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    calendars = settings.value(conn, "ots_calendars")
    tsas = settings.value(conn, "tsa_urls")
    assert isinstance(calendars, list) and isinstance(tsas, list)
    return [("ots", url) for url in calendars] + [("rfc3161", url) for url in tsas]


def request(conn: sqlite3.Connection, case_id: str, seq: int, digest: str) -> None:
    """Ask for log head ``seq`` to be stamped; call inside the transaction of the change."""
    conn.execute(
        "INSERT OR IGNORE INTO stamp_requests (case_id, seq, digest, created) VALUES (?, ?, ?, ?)",
        (case_id, seq, digest, canonical.utc_now()),
    )


def proofs(conn: sqlite3.Connection, case_id: str | None = None, status: str | None = None) -> list[Stamp]:
    query = (
        "SELECT s.case_id, s.seq, r.digest, s.kind, s.server, s.status, s.proof FROM stamps s"
        " JOIN stamp_requests r ON r.case_id = s.case_id AND r.seq = s.seq WHERE 1=1"
    )
    args: list[object] = []
    if case_id:
        query, args = query + " AND s.case_id = ?", [*args, case_id]
    if status:
        query, args = query + " AND s.status = ?", [*args, status]
    return [Stamp(c, s, d, k, srv, st, bytes(p)) for c, s, d, k, srv, st, p in
            conn.execute(query + " ORDER BY s.case_id, s.seq, s.kind, s.server", args)]


def queued(conn: sqlite3.Connection, case_id: str | None = None) -> list[Stamp]:
    """The stamps still owed: each configured server lacking a proof for a case's newest request."""
    newest = conn.execute(
        "SELECT case_id, MAX(seq), digest FROM stamp_requests"
        + (" WHERE case_id = ?" if case_id else "") + " GROUP BY case_id ORDER BY case_id",
        (case_id,) if case_id else (),
    ).fetchall()
    owed = []
    for case, seq, digest in newest:
        for kind, server in servers(conn):
            covered = conn.execute(
                "SELECT 1 FROM stamps WHERE case_id = ? AND kind = ? AND server = ? AND seq >= ?",
                (case, kind, server, seq),
            ).fetchone()
            if not covered:
                owed.append(Stamp(case, seq, digest, kind, server, "queued"))
    return owed


def counts(conn: sqlite3.Connection, case_id: str | None = None) -> dict[str, int]:
    found = {"queued": len(queued(conn, case_id)), "pending": 0, "complete": 0}
    for row in proofs(conn, case_id):
        found[row.status] += 1
    return found


def send(conn: sqlite3.Connection, timeout: float, progress: Progress | None = None) -> Summary:
    """Ask every server that owes stamps once; a calendar gets one merkle tree for all of them."""
    from evidencekit._internal.timestamps.stamping import stamp

    by_server: dict[tuple[str, str], list[Stamp]] = {}
    for owed in queued(conn):
        by_server.setdefault((owed.kind, owed.server), []).append(owed)
    held = _spaced(conn, by_server)

    def ask(kind: str, server: str, targets: list[Stamp]) -> list[tuple[Stamp, bytes | None, ServerFailure | None]]:
        calendars, tsas = ([server], []) if kind == "ots" else ([], [server])
        results = stamp([bytes.fromhex(t.digest) for t in targets], calendars, tsas, timeout=timeout)
        if progress:
            progress(kind, server)
        answers = []
        for target, result in zip(targets, results):
            proof = result.ots if kind == "ots" else result.tokens.get(server)
            answers.append((target, proof, None if proof else result.failures[0]))
        return answers

    summary = Summary(failures=held)
    with ThreadPoolExecutor(max_workers=max(1, len(by_server))) as pool:
        jobs = [pool.submit(ask, kind, server, targets) for (kind, server), targets in by_server.items()]
        answers = [answer for job in jobs for answer in job.result()]
    now = canonical.utc_now()
    with database.transaction(conn):
        for target, proof, failure in answers:
            if failure:
                summary.failures.append(failure)
                continue
            summary.stamped += 1
            conn.execute(
                "INSERT OR REPLACE INTO stamps (case_id, seq, kind, server, status, proof, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (target.case_id, target.seq, target.kind, target.server,
                 "pending" if target.kind == "ots" else "complete", proof, now),
            )
    summary.counts = counts(conn)
    return summary


def _spaced(conn: sqlite3.Connection, by_server: dict[tuple[str, str], list[Stamp]]) -> list[ServerFailure]:
    """Leave in ``by_server`` only what its TSA's spacing allows now (one request, once the
    interval since the last one has passed); return the rest as stamps that stay queued."""
    from evidencekit._internal.timestamps.model import ServerFailure

    spacing = settings.value(conn, "tsa_spacing")
    assert isinstance(spacing, dict)
    held: list[ServerFailure] = []
    spaced = [(kind, server) for kind, server in by_server if kind == "rfc3161" and spacing.get(server)]
    if not spaced:
        return held
    now = time.time()
    with database.transaction(conn):
        for kind, server in spaced:
            targets, gap = by_server[(kind, server)], spacing[server]
            name = f"tsa_last_request.{server}"
            row = conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
            since = now - float(row[0]) if row else None
            allowed = 0 if since is not None and 0 <= since < gap else 1  # a clock set back frees it
            if allowed:
                conn.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, repr(now)))
            held += [ServerFailure("rfc3161", server, "timestamps.tsa_spaced", {"url": server, "seconds": f"{gap:g}"})
                     for _ in targets[allowed:]]
            if allowed:
                by_server[(kind, server)] = targets[:allowed]
            else:
                del by_server[(kind, server)]
    return held


def upgrade(conn: sqlite3.Connection, timeout: float, progress: Progress | None = None) -> Summary:
    """Fetch completed OpenTimestamps proofs from the calendars that hold the pending ones."""
    from evidencekit._internal.timestamps.ots import upgrade_many

    pending = proofs(conn, status="pending")
    allowed = [server for _, server in servers(conn)] + [p.server for p in pending]
    results = upgrade_many([p.proof or b"" for p in pending], timeout=timeout, allowed_calendars=allowed)
    summary = Summary()
    now = canonical.utc_now()
    with database.transaction(conn):
        for row, result in zip(pending, results):
            if progress:
                progress(row.kind, row.server)
            summary.failures.extend(result.failures)
            if result.changed:
                summary.upgraded += int(result.complete)
                conn.execute(
                    "UPDATE stamps SET status = ?, proof = ?, updated = ?"
                    " WHERE case_id = ? AND seq = ? AND kind = ? AND server = ?",
                    ("complete" if result.complete else "pending", result.ots, now,
                     row.case_id, row.seq, row.kind, row.server),
                )
    summary.counts = counts(conn)
    return summary


def verify(conn: sqlite3.Connection, case_id: str, header_sources: Sequence[HeaderSource],
           roots: Sequence[x509.Certificate]) -> list[tuple[Stamp, ProofResult]]:
    """Check every proof of a case; headers that verify are kept so the next check works offline."""
    from evidencekit._internal.timestamps.model import ProofResult
    from evidencekit._internal.timestamps.ots import verify_ots
    from evidencekit._internal.timestamps.rfc3161 import verify_rfc3161

    sources = [*header_sources, *stored_headers(conn)]
    results = []
    for row in proofs(conn, case_id):
        assert row.proof is not None
        if row.kind == "ots":
            result = verify_ots(row.proof, bytes.fromhex(row.digest), sources)
            _keep_header(conn, result)
        else:
            result = verify_rfc3161(row.proof, bytes.fromhex(row.digest), roots)
        results.append((row, result))
    results += [(row, ProofResult.queued(row.kind, row.server)) for row in queued(conn, case_id)]  # type: ignore[arg-type]
    return results


@dataclass(frozen=True)
class ProofFile:
    """A proof as a standard file: ``.ots`` (all calendars merged, as ``ots info`` expects) or a
    DER ``.tsr`` per time-stamping authority."""

    name: str
    kind: str
    seq: int
    digest: str
    servers: tuple[str, ...]
    data: bytes


def proof_files(conn: sqlite3.Connection, case_id: str) -> list[ProofFile]:
    from evidencekit._internal.timestamps.ots import merge_ots

    files: dict[str, ProofFile] = {}
    for row in proofs(conn, case_id):
        assert row.proof is not None
        stem = f"log-{row.seq:06d}-{row.digest[:16]}"
        if row.kind == "ots":
            name = f"{stem}.ots"
            earlier = files.get(name)
            data = merge_ots(earlier.data, row.proof) if earlier else row.proof
            servers = (*earlier.servers, row.server) if earlier else (row.server,)
        else:
            name, data, servers = f"{stem}.{_host(row.server)}.tsr", row.proof, (row.server,)
        files[name] = ProofFile(name, row.kind, row.seq, row.digest, servers, data)
    return list(files.values())


def header_files(conn: sqlite3.Connection, proofs: Sequence[ProofFile]) -> dict[str, bytes]:
    """The block headers that verified these proofs, as JSON files a recipient can check by hand
    (only theirs: the headers of other cases would tell when those were stamped)."""
    from evidencekit._internal.timestamps.ots import ots_info

    heights = {h for p in proofs if p.kind == "ots" for h in ots_info(p.data).block_heights}
    return {
        f"block-{height}.header.json": text.encode("utf-8")
        for height, text in conn.execute("SELECT height, header_json FROM block_headers ORDER BY height")
        if height in heights
    }


def _host(url: str) -> str:
    parts = urlsplit(url)
    return re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parts.hostname}{'-' + str(parts.port) if parts.port else ''}")


def stored_headers(conn: sqlite3.Connection) -> list[HeaderSource]:
    from evidencekit._internal.timestamps.bitcoin_headers import StoredHeader, parse_stored_header

    network = settings.value(conn, "bitcoin_network")
    return [
        StoredHeader(parse_stored_header(text), network=network, name=f"block {height}")  # type: ignore[arg-type]
        for height, text in conn.execute("SELECT height, header_json FROM block_headers ORDER BY height")
    ]


def _keep_header(conn: sqlite3.Connection, result: ProofResult) -> None:
    from evidencekit._internal.timestamps.bitcoin_headers import header_json, parse_header_hex

    details = result.details
    header_hex = getattr(details, "header_hex", None)
    if result.status != "verified" or not header_hex:
        return
    height = details.block_height  # type: ignore[union-attr]
    with database.transaction(conn):
        conn.execute(
            "INSERT OR IGNORE INTO block_headers (height, block_hash, header_json, source) VALUES (?, ?, ?, ?)",
            (height, details.block_hash, header_json(parse_header_hex(header_hex), height),  # type: ignore[union-attr]
             details.header_source),  # type: ignore[union-attr]
        )
