"""Trusted timestamps for evidence: take them at capture, complete them later, check them anywhere.

A worker's own signature cannot prove *when* something existed. Two independent kinds of
timestamp can: OpenTimestamps anchors a digest in Bitcoin (no party to trust, complete only after
a block confirms it, hours later) and an RFC 3161 token is signed at once by a time-stamping
authority (trusted through its certificate, and what courts are used to). evidencekit takes both.

Typical use by the locker::

    rounds = stamp(digests, calendars, tsa_urls, timeout=10)    # right after a capture
    later = upgrade_ots(proof, timeout=10)                        # when Bitcoin has confirmed
    result = verify_ots(proof, digest, [BitcoinRpc(url), StoredHeader.from_file(path)])
    result = verify_rfc3161(token, digest, default_roots())

Every verification returns a :class:`ProofResult` with one of the statuses ``queued``,
``pending``, ``verified``, ``unconfirmed``, ``invalid`` or ``unverifiable`` and a reason a person
can read. A block header that only came with a proof never makes it ``verified`` by itself: the
reader's node, explorer or own header file (``given_by_reader=True``) must confirm the block, or
evidencekit's checkpoint table must link the header to the real chain.
"""

from __future__ import annotations

from evidencekit._internal.timestamps.bitcoin_headers import (BitcoinRpc, BlockHeader, Esplora,
                                                              HeaderError, HeaderSource,
                                                              StoredHeader, header_json,
                                                              load_stored_header,
                                                              parse_stored_header)
from evidencekit._internal.timestamps.http import ServerError
from evidencekit._internal.timestamps.model import (STATUSES, Kind, OtsDetails, ProofResult,
                                                    ServerFailure, Status, TsaDetails)
from evidencekit._internal.timestamps.ots import (OtsInfo, OtsProofError, UpgradeResult, merge_ots, ots_info, upgrade_many,
                                                  upgrade_ots, verify_ots)
from evidencekit._internal.timestamps.rfc3161 import (TsaRootError, default_roots, load_root_file,
                                                      load_roots, request_token, verify_rfc3161)
from evidencekit._internal.timestamps.servers import DEFAULT_CALENDARS, DEFAULT_TSA_URLS
from evidencekit._internal.timestamps.stamping import DigestStamps, stamp
from evidencekit._internal.timestamps.verify import proof_kind, verify_proof_file

__all__ = [
    "DEFAULT_CALENDARS", "DEFAULT_TSA_URLS", "STATUSES",
    "BitcoinRpc", "BlockHeader", "DigestStamps", "Esplora", "HeaderError", "HeaderSource",
    "Kind", "OtsDetails", "OtsInfo", "OtsProofError", "ProofResult", "ServerError", "ServerFailure",
    "Status", "StoredHeader", "TsaDetails", "TsaRootError", "UpgradeResult",
    "default_roots", "header_json", "load_root_file", "load_roots",
    "load_stored_header", "merge_ots", "ots_info", "parse_stored_header", "proof_kind",
    "request_token", "stamp", "upgrade_many", "upgrade_ots", "verify_ots", "verify_proof_file",
    "verify_rfc3161",
]
