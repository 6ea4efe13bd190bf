"""OpenTimestamps: stamp digests with calendars, upgrade pending proofs, verify complete ones.

Built on the ``opentimestamps`` library's own types so the ``.ots`` files are the standard format
that ``ots info`` / ``ots verify`` read. Talking to calendars goes through our bounded HTTP (the
library's ``RemoteCalendar`` has no overall deadline), and many digests are aggregated into one
merkle tree per round, as ``ots stamp`` does, so a burst of captures costs one request per calendar.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from opentimestamps.calendar import DEFAULT_CALENDAR_WHITELIST
from opentimestamps.core.dubious.notary import EthereumBlockHeaderAttestation
from opentimestamps.core.notary import (BitcoinBlockHeaderAttestation, LitecoinBlockHeaderAttestation,
                                        PendingAttestation, UnknownAttestation)
from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.serialize import (BadMagicError, BytesDeserializationContext,
                                           BytesSerializationContext, DeserializationError,
                                           TrailingGarbageError, TruncationError,
                                           UnsupportedMajorVersion)
from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp, make_merkle_tree

from evidencekit.errors import UserError, VerificationFailed
from evidencekit._internal.timestamps.bitcoin_headers import (BlockHeader, HeaderSource,
                                                              HeaderUnavailable, source_name)
from evidencekit._internal.timestamps.http import ServerError, request
from evidencekit._internal.timestamps.model import Message, OtsDetails, ProofResult, ServerFailure

MAX_PROOF_BYTES = 1024 * 1024
MAX_CALENDAR_ANSWER = 10_000
_HEADERS = {"Accept": "application/vnd.opentimestamps.v1"}


class OtsProofError(VerificationFailed):
    """An ``.ots`` proof that cannot be read."""


# --- reading and writing proofs -------------------------------------------------------------


def _unreadable_key(exc: BaseException) -> tuple[str, dict[str, object]]:
    if isinstance(exc, BadMagicError):
        return "timestamps.ots_not_ots", {}
    if isinstance(exc, UnsupportedMajorVersion):
        return "timestamps.ots_bad_version", {}
    if isinstance(exc, TruncationError):
        return "timestamps.ots_truncated", {}
    if isinstance(exc, TrailingGarbageError):
        return "timestamps.ots_trailing", {}
    text = str(exc)
    if "op tag" in text:
        return "timestamps.ots_unknown_op", {}
    if "too long" in text or "exceeds" in text:
        return "timestamps.ots_too_long", {}
    return "timestamps.ots_damaged", {"detail": text[:200] or exc.__class__.__name__}


def parse_ots(data: bytes) -> DetachedTimestampFile:
    """The proof in an ``.ots`` file; damaged or hostile input raises :class:`OtsProofError`."""
    if len(data) > MAX_PROOF_BYTES:
        raise OtsProofError("timestamps.ots_too_big", limit=MAX_PROOF_BYTES)
    try:
        return DetachedTimestampFile.deserialize(BytesDeserializationContext(data))
    except (DeserializationError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        key, params = _unreadable_key(exc)
        raise OtsProofError(key, **params) from None


def serialize_ots(proof: DetachedTimestampFile) -> bytes:
    ctx = BytesSerializationContext()
    proof.serialize(ctx)
    return ctx.getbytes()


def merge_ots(first: bytes, second: bytes) -> bytes:
    """One proof holding both proofs' attestations (e.g. a calendar that accepted on a retry)."""
    a, b = parse_ots(first), parse_ots(second)
    if a.file_hash_op != b.file_hash_op or a.file_digest != b.file_digest:
        raise UserError("timestamps.ots_merge_different")
    a.timestamp.merge(b.timestamp)
    return serialize_ots(a)


def _walk(stamp: Timestamp):
    yield stamp
    for sub in stamp.ops.values():
        yield from _walk(sub)


def is_complete(proof: DetachedTimestampFile) -> bool:
    """Holds a Bitcoin attestation (not yet checked against a header)."""
    return any(isinstance(att, BitcoinBlockHeaderAttestation)
               for _, att in proof.timestamp.all_attestations())


def pending_calendars(proof: DetachedTimestampFile) -> tuple[str, ...]:
    return tuple(sorted({att.uri for _, att in proof.timestamp.all_attestations()
                         if isinstance(att, PendingAttestation)}))


@dataclass(frozen=True)
class OtsInfo:
    """What a proof holds, without any network: enough to decide whether to upgrade it and which
    block header to keep beside it."""

    file_digest: bytes
    hash_algorithm: str
    complete: bool
    block_heights: tuple[int, ...]
    pending_calendars: tuple[str, ...]


def ots_info(data: bytes) -> OtsInfo:
    proof = parse_ots(data)
    heights = sorted({att.height for _, att in proof.timestamp.all_attestations()
                      if isinstance(att, BitcoinBlockHeaderAttestation)})
    return OtsInfo(proof.file_digest, proof.file_hash_op.TAG_NAME, bool(heights), tuple(heights),
                   pending_calendars(proof))


# --- talking to calendars -------------------------------------------------------------------


def _read_timestamp(body: bytes, msg: bytes, url: str) -> Timestamp:
    try:
        ctx = BytesDeserializationContext(body)
        stamp = Timestamp.deserialize(ctx, msg)
        ctx.assert_eof()
    except (DeserializationError, ValueError, TypeError, RecursionError, MemoryError):
        raise ServerError("timestamps.calendar_garbage", url) from None
    return stamp


def submit_to_calendar(url: str, digest: bytes, deadline: float) -> Timestamp:
    """The calendar's (pending) timestamp for ``digest``, or :class:`ServerError`."""
    resp = request(url.rstrip("/") + "/digest", method="POST", body=digest, deadline=deadline,
                   headers=_HEADERS, max_bytes=MAX_CALENDAR_ANSWER)
    if resp.status != 200:
        raise ServerError("timestamps.server_bad_status", url, status=resp.status)
    return _read_timestamp(resp.body, digest, url)


def fetch_from_calendar(url: str, commitment: bytes, deadline: float) -> Timestamp | None:
    """The calendar's upgraded timestamp for ``commitment``, or None while it is still pending."""
    resp = request(url.rstrip("/") + "/timestamp/" + commitment.hex(), deadline=deadline,
                   headers=_HEADERS, max_bytes=MAX_CALENDAR_ANSWER)
    if resp.status == 404:
        return None
    if resp.status != 200:
        raise ServerError("timestamps.server_bad_status", url, status=resp.status)
    return _read_timestamp(resp.body, commitment, url)


@dataclass(frozen=True)
class OtsRound:
    """One stamping round: a proof per digest (None if no calendar accepted) and who failed."""

    proofs: tuple[bytes | None, ...]
    accepted: tuple[str, ...]
    failures: tuple[ServerFailure, ...]


def check_digest(digest: bytes) -> None:
    if not isinstance(digest, bytes) or len(digest) != 32:
        raise UserError("timestamps.digest_not_sha256",
                        length=len(digest) if isinstance(digest, bytes) else 0)


def stamp_ots(digests: Sequence[bytes], calendars: Sequence[str], *, timeout: float) -> OtsRound:
    """Stamp all digests with one merkle tree, submitted to every calendar at once."""
    for digest in digests:
        check_digest(digest)
    if not digests:
        return OtsRound((), (), ())
    files = [DetachedTimestampFile(OpSHA256(), Timestamp(digest)) for digest in digests]
    # A random nonce per digest keeps one proof from revealing its neighbours' digests.
    leaves = [f.timestamp.ops.add(OpAppend(os.urandom(16))).ops.add(OpSHA256()) for f in files]
    tip = make_merkle_tree(leaves)
    accepted: list[str] = []
    failures: list[ServerFailure] = []
    if calendars:
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(max_workers=len(calendars)) as pool:
            futures = [(url, pool.submit(submit_to_calendar, url, tip.msg, deadline))
                       for url in calendars]
            for url, future in futures:
                try:
                    tip.merge(future.result())
                    accepted.append(url)
                except ServerError as exc:
                    failures.append(ServerFailure.from_error("ots", url, exc))
    proofs = tuple(serialize_ots(f) if accepted else None for f in files)
    return OtsRound(proofs, tuple(accepted), tuple(failures))


# --- upgrading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpgradeResult:
    """A proof after asking its calendars: new bytes, whether anything changed, whether complete."""

    ots: bytes
    changed: bool
    complete: bool
    pending_calendars: tuple[str, ...]
    failures: tuple[ServerFailure, ...]


def _default_allowed() -> tuple[str, ...]:
    return tuple(parsed.geturl() for parsed in DEFAULT_CALENDAR_WHITELIST)


def calendar_allowed(uri: str, allowed: Sequence[str]) -> bool:
    """Whether a calendar named inside a proof may be contacted (globs in the host, like ``ots``)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or parts.query or parts.fragment:
        return False
    for pattern in allowed:
        want = urlsplit(pattern)
        if (want.scheme == parts.scheme and want.path.rstrip("/") == parts.path.rstrip("/")
                and fnmatch.fnmatch(parts.netloc, want.netloc)):
            return True
    return False


def upgrade_many(proofs: Sequence[bytes], *, timeout: float,
                 allowed_calendars: Sequence[str] = ()) -> list[UpgradeResult]:
    """Upgrade several proofs, asking each calendar once per commitment they share.

    Calendars named in a proof are contacted only if they match the library's default list of
    public calendars or ``allowed_calendars``: a proof from elsewhere must not make us call any URL.
    """
    parsed = [parse_ots(data) for data in proofs]
    allowed = _default_allowed() + tuple(allowed_calendars)
    deadline = time.monotonic() + timeout
    cache: dict[tuple[str, bytes], Timestamp | None] = {}
    down: dict[str, ServerFailure] = {}
    results = []
    for data, proof in zip(proofs, parsed):
        changed = False
        failures: dict[str, ServerFailure] = {}
        if not is_complete(proof):
            targets = [(sub, att.uri) for sub in _walk(proof.timestamp)
                       for att in sub.attestations if isinstance(att, PendingAttestation)]
            for sub, uri in targets:
                if not calendar_allowed(uri, allowed):
                    failures[uri] = ServerFailure("ots", uri, "timestamps.calendar_not_allowed",
                                                  {"url": uri})
                    continue
                if uri in down:
                    failures[uri] = down[uri]
                    continue
                key = (uri, sub.msg)
                if key not in cache:
                    try:
                        cache[key] = fetch_from_calendar(uri, sub.msg, deadline)
                    except ServerError as exc:
                        down[uri] = failures[uri] = ServerFailure.from_error("ots", uri, exc)
                        continue
                upgraded = cache[key]
                if upgraded is None:
                    continue
                before = {att for _, att in sub.all_attestations()}
                sub.merge(upgraded)
                if {att for _, att in sub.all_attestations()} != before:
                    changed = True
        new_bytes = serialize_ots(proof) if changed else data
        complete = is_complete(proof)
        results.append(UpgradeResult(new_bytes, changed, complete,
                                     () if complete else pending_calendars(proof),
                                     tuple(failures.values())))
    return results


def upgrade_ots(data: bytes, *, timeout: float,
                allowed_calendars: Sequence[str] = ()) -> UpgradeResult:
    """Ask a pending proof's calendars whether Bitcoin has confirmed it yet."""
    return upgrade_many([data], timeout=timeout, allowed_calendars=allowed_calendars)[0]


# --- verifying ------------------------------------------------------------------------------


def _time_text(header: BlockHeader) -> str:
    return datetime.fromtimestamp(header.time, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _other_attestation(att: object) -> str:
    if isinstance(att, LitecoinBlockHeaderAttestation):
        return f"litecoin block {att.height}"
    if isinstance(att, EthereumBlockHeaderAttestation):
        return f"ethereum block {att.height}"
    if isinstance(att, UnknownAttestation):
        return f"unknown tag {att.TAG.hex()}"
    return att.__class__.__name__


def verify_ots(data: bytes, digest: bytes, header_sources: Sequence[HeaderSource]) -> ProofResult:
    """Check an ``.ots`` proof for ``digest`` against block headers from the sources, in order.

    The first source that returns a header for a block decides; a source that cannot answer is
    skipped. A Bitcoin attestation is ``verified`` only when its header is confirmed (the reader
    chose the source, or the checkpoint table links it to the real chain); a header that only came
    with the proof leaves it ``unconfirmed``, with the block to confirm and how. Never contacts a
    calendar: verification works offline with a stored header.
    """
    try:
        proof = parse_ots(data)
    except OtsProofError as exc:
        return ProofResult("ots", "invalid", exc.key, dict(exc.params))
    algorithm = proof.file_hash_op.TAG_NAME
    calendars = pending_calendars(proof)
    others = tuple(sorted({_other_attestation(att) for _, att in proof.timestamp.all_attestations()
                           if not isinstance(att, (PendingAttestation, BitcoinBlockHeaderAttestation))}))
    base = OtsDetails(file_digest=proof.file_digest.hex(), hash_algorithm=algorithm,
                      pending_calendars=calendars, unknown_attestations=others)
    if proof.file_digest != digest:
        return ProofResult("ots", "invalid", "timestamps.ots_other_digest",
                           {"proof_digest": proof.file_digest.hex(), "digest": digest.hex(),
                            "algorithm": algorithm}, base)

    bitcoin = sorted(((att.height, msg) for msg, att in proof.timestamp.all_attestations()
                      if isinstance(att, BitcoinBlockHeaderAttestation)), key=lambda x: x[0])
    headers: dict[int, tuple[BlockHeader, HeaderSource] | list[Message]] = {}
    mismatch: ProofResult | None = None
    unconfirmed: ProofResult | None = None
    unusable: ProofResult | None = None
    for height, msg in bitcoin:
        if height not in headers:
            headers[height] = _header_for(height, header_sources)
        found = headers[height]
        if isinstance(found, list):
            unusable = unusable or ProofResult(
                "ots", "unverifiable", "timestamps.ots_no_header",
                {"height": height, "problems": found or [Message("timestamps.no_header_source")]},
                _with(base, block_height=height))
            continue
        header, source = found
        details = _with(base, block_height=height, block_hash=header.block_hash,
                        header_source=source_name(source), header_hex=header.hex,
                        attested_time=header.time_utc)
        if msg == header.merkle_root:
            confirmation = source.confirmation(height)
            params = {"height": height, "time": _time_text(header),
                      "block_hash": header.block_hash, "where": source.where}
            if confirmation.by is None:
                unconfirmed = unconfirmed or ProofResult(
                    "ots", "unconfirmed", "timestamps.ots_unconfirmed",
                    {**params, "missing": confirmation.missing}, details)
                continue
            key = ("timestamps.ots_verified_checkpoint" if confirmation.by == "checkpoint"
                   else "timestamps.ots_verified_stored" if source.kind == "stored"
                   else "timestamps.ots_verified_node")
            return ProofResult("ots", "verified", key, params,
                               _with(details, confirmed_by=confirmation.by))
        if source.vouches_for_height:
            mismatch = mismatch or ProofResult("ots", "invalid", "timestamps.ots_merkle_mismatch",
                                               {"height": height, "where": source.where}, details)
        else:
            unusable = unusable or ProofResult("ots", "unverifiable",
                                               "timestamps.ots_header_other_block",
                                               {"height": height}, details)
    if mismatch:
        return mismatch
    if unconfirmed:
        return unconfirmed
    if unusable:
        return unusable
    if calendars:
        return ProofResult("ots", "pending", "timestamps.ots_pending",
                           {"calendars": ", ".join(calendars)}, base)
    if others:
        return ProofResult("ots", "unverifiable", "timestamps.ots_unknown_attestation",
                           {"attestations": ", ".join(others)}, base)
    return ProofResult("ots", "invalid", "timestamps.ots_no_attestation", {}, base)


def _with(details: OtsDetails, **changes: object) -> OtsDetails:
    return replace(details, **changes)


def _header_for(height: int, sources: Sequence[HeaderSource]
                ) -> tuple[BlockHeader, HeaderSource] | list[Message]:
    problems: list[Message] = []
    for source in sources:
        try:
            return source.header_at(height), source
        except HeaderUnavailable as exc:
            if exc.key == "timestamps.header_wrong_height":
                # A locker keeps headers of many blocks; one line says none of them is this one.
                problem = Message("timestamps.no_stored_header", {"height": height})
            else:
                problem = Message("timestamps.source_problem",
                                  {"source": source_name(source),
                                   "problem": Message(exc.key, exc.params)})
            if problem not in problems:
                problems.append(problem)
    return problems
