"""Which time-stamping authorities are *qualified* under eIDAS, from a small trust-list file.

Why: in the EU/EEA (Norway included) a qualified electronic time stamp carries a legal
presumption that its time and the integrity of what it covers are right (eIDAS article 41). Only
the EU's trusted lists say which TSA is qualified, so a token is called qualified only when its
certificate chains to a certificate that the shipped file (``evidencekit/data/qualified-tsa.json``,
made from those lists by ``tools/refresh_qualified_tsa.py``) marks as a qualified time-stamping
service (QTST) with the status *granted* at the token's time. Anything else is a plain "time
stamp by <TSA>", however trustworthy. The format is in ``docs/timestamps.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from evidencekit.errors import UserError

FORMAT = "evidencekit-qualified-tsa"
QTST = "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST"
GRANTED = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
ENV = "EVIDENCEKIT_QUALIFIED_TSA_LIST"  # another list file (a fresher one, or a test's)
_MAX_CHAIN = 8


@dataclass(frozen=True)
class Service:
    """One certificate a trusted list names as a qualified time-stamping service."""

    sha256: str
    subject: str
    service_name: str
    territory: str  # the trusted list it comes from: "ES", "NO", …
    status_since: str  # RFC 3339 UTC: granted from then on
    list_issued: str  # when that trusted list was issued


@dataclass(frozen=True)
class TrustList:
    source: str
    fetched: str | None
    services: tuple[Service, ...]

    def find(self, sha256: str) -> Service | None:
        return next((s for s in self.services if s.sha256 == sha256), None)


def load(data: bytes, name: str = "-") -> TrustList:
    """Parse a list file; only QTST entries with the status granted count, the rest are dropped."""
    try:
        raw = json.loads(data)
        if raw.get("format") != FORMAT or raw.get("version") != 1:
            raise ValueError("not a qualified-TSA list")
        services = tuple(
            Service(str(s["sha256"]).lower(), str(s["subject"]), str(s.get("service_name", "")),
                    str(s["territory"]), str(s["status_since"]), str(s.get("list_issued", "")))
            for s in raw["services"] if s.get("service_type") == QTST and s.get("status") == GRANTED
        )
        return TrustList(str(raw.get("source", "")), raw.get("fetched"), services)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserError("timestamps.qualified_list_bad", path=name) from None


@lru_cache(maxsize=4)
def _load_path(path: str) -> TrustList:
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise UserError("timestamps.qualified_list_bad", path=path) from None
    return load(data, path)


def current() -> TrustList:
    """The list in force: the one named by ``EVIDENCEKIT_QUALIFIED_TSA_LIST``, else the shipped one."""
    if os.environ.get(ENV):
        return _load_path(os.environ[ENV])
    return load((resources.files("evidencekit") / "data" / "qualified-tsa.json").read_bytes(), "qualified-tsa.json")


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def qualified_service(signer: x509.Certificate, embedded: Sequence[x509.Certificate],
                      roots: Sequence[x509.Certificate], gen_time: str, listed: TrustList) -> Service | None:
    """The listed service the signer's chain leads to, if it was granted at ``gen_time``.

    The chain is walked upwards by signature (the signer, the token's certificates, the roots), so
    a certificate only counts when it really issued the one below it.
    """
    current_cert: x509.Certificate | None = signer
    pool = [*embedded, *roots]
    for _ in range(_MAX_CHAIN):
        if current_cert is None:
            return None
        service = listed.find(fingerprint(current_cert))
        if service is not None and service.status_since <= gen_time:
            return service
        current_cert = _issuer(current_cert, pool)
    return None


def _issuer(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    if cert.issuer == cert.subject:
        return None
    for candidate in pool:
        if candidate.subject == cert.issuer and candidate != cert:
            try:
                cert.verify_directly_issued_by(candidate)
            except Exception:  # wrong key type, bad signature: not its issuer
                continue
            return candidate
    return None
