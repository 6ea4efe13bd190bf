"""Stamp a batch of digests with every calendar and every TSA at once, within one time budget.

The locker calls this right after evidence is added. Nothing here may block a capture for long or
fail it: each server gets the same deadline, servers are asked in parallel, and every server that
does not answer usably is returned as a :class:`ServerFailure` for the locker to queue and retry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from evidencekit._internal.timestamps.http import ServerError
from evidencekit._internal.timestamps.model import ServerFailure
from evidencekit._internal.timestamps.ots import check_digest, stamp_ots
from evidencekit._internal.timestamps.servers import DEFAULT_CALENDARS, DEFAULT_TSA_URLS
from evidencekit._internal.timestamps.rfc3161 import request_token

_TSA_WORKERS = 8

__all__ = ["DEFAULT_CALENDARS", "DEFAULT_TSA_URLS", "DigestStamps", "stamp"]


@dataclass(frozen=True)
class DigestStamps:
    """Everything one stamping round produced for one digest.

    ``ots`` is a standard ``.ots`` file (pending until upgraded) or None if no calendar accepted;
    ``tokens`` maps each TSA URL that answered to its DER ``.tsr``; ``failures`` lists every server
    that did not, with the reason, so it can be queued.
    """

    digest: bytes
    ots: bytes | None
    ots_calendars: tuple[str, ...]
    tokens: Mapping[str, bytes]
    failures: tuple[ServerFailure, ...]


def stamp(digests: Sequence[bytes], calendars: Sequence[str], tsa_urls: Sequence[str], *,
          timeout: float = 10.0) -> list[DigestStamps]:
    """Stamp SHA-256 digests; returns one :class:`DigestStamps` per digest, in order.

    All calendars get one request for the whole batch (a merkle tree); each TSA gets one request
    per digest. The call returns within about ``timeout`` seconds whatever the servers do.
    """
    for digest in digests:
        check_digest(digest)
    if not digests:
        return []
    deadline = time.monotonic() + timeout
    tokens: list[dict[str, bytes]] = [{} for _ in digests]
    tsa_failures: list[list[ServerFailure]] = [[] for _ in digests]
    jobs = [(i, url) for i in range(len(digests)) for url in tsa_urls]
    with ThreadPoolExecutor(max_workers=max(1, min(_TSA_WORKERS, len(jobs)))) as pool:
        futures = [(i, url, pool.submit(_token_or_failure, url, digests[i], deadline))
                   for i, url in jobs]
        round_ = stamp_ots(digests, calendars, timeout=max(0.0, deadline - time.monotonic()))
        for i, url, future in futures:
            outcome = future.result()
            if isinstance(outcome, ServerFailure):
                tsa_failures[i].append(outcome)
            else:
                tokens[i][url] = outcome
    return [DigestStamps(digest, round_.proofs[i], round_.accepted, tokens[i],
                         round_.failures + tuple(tsa_failures[i]))
            for i, digest in enumerate(digests)]


def _token_or_failure(url: str, digest: bytes, deadline: float) -> bytes | ServerFailure:
    if time.monotonic() >= deadline:
        return ServerFailure("rfc3161", url, "timestamps.server_not_tried", {"url": url})
    try:
        return request_token(url, digest, deadline=deadline)
    except ServerError as exc:
        return ServerFailure.from_error("rfc3161", url, exc)
