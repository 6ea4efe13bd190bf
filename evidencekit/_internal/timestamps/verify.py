"""Verify one standalone proof file against the file it is about, whatever tool made it.

A recipient holds a ``.ots`` or ``.tsr`` and a file; they should not need to know which kind of
proof it is or which hash it used. This recognises the kind, hashes the file with the proof's own
algorithm, and hands over to the OpenTimestamps or RFC 3161 verifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from opentimestamps.core.timestamp import DetachedTimestampFile

from evidencekit.errors import NotFound, UserError
from evidencekit._internal.timestamps.bitcoin_headers import HeaderSource
from evidencekit._internal.timestamps.model import Kind, ProofResult
from evidencekit._internal.timestamps.ots import OtsProofError, parse_ots, verify_ots
from evidencekit._internal.timestamps.rfc3161 import (HASH_OIDS, default_roots, parse_token,
                                                      verify_rfc3161)

_CHUNK = 1024 * 1024


def proof_kind(data: bytes) -> Kind | None:
    """``ots`` or ``rfc3161`` by content (not by file name), or None if it is neither."""
    if data.startswith(DetachedTimestampFile.HEADER_MAGIC[:16]):
        return "ots"
    try:
        parse_token(data)
    except ValueError:
        return None
    return "rfc3161"


def _hash_file(path: Path, algorithm: str) -> bytes:
    hasher = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.digest()


def verify_proof_file(proof: bytes, target: Path, *, header_sources: Sequence[HeaderSource] = (),
                      roots: Sequence[x509.Certificate] | None = None) -> ProofResult:
    """Check ``proof`` (``.ots`` or ``.tsr`` bytes) for the file at ``target``.

    ``roots`` defaults to the TSA roots shipped with evidencekit. Raises :class:`UserError` only
    when the input is unusable (no such file, not a proof at all); a proof that does not hold is a
    result, not an exception.
    """
    if not target.is_file():
        raise NotFound("timestamps.target_missing", path=str(target))
    kind = proof_kind(proof)
    if kind is None:
        raise UserError("timestamps.not_a_proof")
    try:
        if kind == "ots":
            try:
                parsed = parse_ots(proof)
            except OtsProofError as exc:
                return ProofResult("ots", "invalid", exc.key, dict(exc.params))
            with target.open("rb") as handle:
                digest = parsed.file_hash_op.hash_fd(handle)
            return verify_ots(proof, digest, header_sources)
        answer = parse_token(proof)
        algorithm = HASH_OIDS.get(answer.tst_info.message_imprint.hash_algorithm.dotted_string)
        digest = _hash_file(target, algorithm or "sha256")
    except OSError:
        raise UserError("timestamps.target_unreadable", path=str(target)) from None
    return verify_rfc3161(proof, digest, default_roots() if roots is None else roots)
