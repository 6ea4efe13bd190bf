"""RFC 3161 time-stamp tokens: ask a TSA for one, and check one against a trust store.

A TSA's token is trusted only through its certificate: the signature must chain to a root the
reader trusts, the signer must carry the critical timeStamping purpose, and the token must name
exactly the digest in question. ``rfc3161-client`` does those checks; this module builds the
request for an already computed digest (the library's builder only hashes data itself), talks to
the TSA with a deadline, and turns the outcome into one plain verdict.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import PKIStatus, VerifierBuilder, decode_timestamp_response
from rfc3161_client.tsp import TimeStampResponse

from evidencekit.errors import UserError
from evidencekit._internal.timestamps import qualified
from evidencekit._internal.timestamps.http import ServerError, request
from evidencekit._internal.timestamps.model import ProofResult, TsaDetails

MAX_TSA_ANSWER = 256 * 1024
MAX_TOKEN_BYTES = 1024 * 1024
_MAX_CHAIN = 8

HASH_OIDS: dict[str, str] = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
_OID_OF = {name: oid for oid, name in HASH_OIDS.items()}
_DIGEST_SIZE = {"sha256": 32, "sha384": 48, "sha512": 64}


class TsaRootError(UserError):
    """A trust-store file given by the user holds no usable certificate."""


# --- DER for the request (one SEQUENCE; see RFC 3161 section 2.4.1) ---------------------------


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        length = bytes([size])
    else:
        raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _der_uint(value: int) -> bytes:
    return _der(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big"))


def _der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


def build_request(digest: bytes, *, algorithm: str = "sha256",
                  nonce: int | None = None) -> tuple[bytes, int]:
    """A DER TimeStampReq for a digest we already have, asking for the signer's certificate."""
    if _DIGEST_SIZE.get(algorithm) != len(digest):
        raise UserError("timestamps.digest_not_sha256", length=len(digest))
    nonce = secrets.randbits(64) if nonce is None else nonce
    algorithm_id = _der(0x30, _der_oid(_OID_OF[algorithm]) + b"\x05\x00")
    imprint = _der(0x30, algorithm_id + _der(0x04, digest))
    body = _der_uint(1) + imprint + _der_uint(nonce) + b"\x01\x01\xff"
    return _der(0x30, body), nonce


def _wrap_token(token: bytes) -> bytes:
    """A bare TimeStampToken (as ``openssl ts -token_out`` writes) inside a granted response."""
    return _der(0x30, _der(0x30, _der_uint(0)) + token)


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """Tag, start of content and end of the DER element at ``pos`` (single-byte tags only)."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, first = data[pos], data[pos + 1]
    start = pos + 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise ValueError("bad length")
        size = int.from_bytes(data[start:start + count], "big")
        start += count
    else:
        size = first
    if start + size > len(data):
        raise ValueError("truncated")
    return tag, start, start + size


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    out, pos = [], start
    while pos < end:
        tag, content, stop = _tlv(data, pos)
        out.append((tag, pos, content, stop))
        pos = stop
    return out


def _sort_certificates(response: bytes) -> bytes:
    """The response with its certificate SET in DER order.

    Many TSAs (and ``openssl ts``) list certificates in chain order, which strict DER parsers
    reject. The certificate list is not covered by the signature, so ordering it changes nothing
    that is verified; the length of every element stays the same.
    """
    _, start, end = _tlv(response, 0)
    token = _children(response, start, end)[1]
    content_info = _children(response, token[2], token[3])
    explicit = content_info[1]
    signed_data = _children(response, explicit[2], explicit[3])[0]
    for tag, _pos, content, stop in _children(response, signed_data[2], signed_data[3]):
        if tag == 0xA0:
            certs = [response[p:e] for _t, p, _c, e in _children(response, content, stop)]
            width = max(len(c) for c in certs)
            certs.sort(key=lambda c: c + b"\x00" * (width - len(c)))
            return response[:content] + b"".join(certs) + response[stop:]
    return response


def parse_token(data: bytes) -> TimeStampResponse:
    """A TimeStampResp, also from a bare token; raises ValueError if it is neither."""
    if len(data) > MAX_TOKEN_BYTES:
        raise ValueError("too big")
    for candidate in (data, _wrap_token(data)):
        try:
            return decode_timestamp_response(candidate)
        except Exception:  # the Rust parser raises several unrelated types for bad DER
            pass
        try:
            return decode_timestamp_response(_sort_certificates(candidate))
        except Exception:
            pass
    raise ValueError("not a time-stamp response or token")


# --- asking a TSA ---------------------------------------------------------------------------


def request_token(url: str, digest: bytes, *, timeout: float = 10.0,
                  deadline: float | None = None) -> bytes:
    """The DER TimeStampResp from the TSA at ``url``, checked to answer our request."""
    query, nonce = build_request(digest)
    resp = request(url, method="POST", body=query, timeout=timeout, deadline=deadline,
                   max_bytes=MAX_TSA_ANSWER,
                   headers={"Content-Type": "application/timestamp-query",
                            "Accept": "application/timestamp-reply"})
    if resp.status != 200:
        raise ServerError("timestamps.server_bad_status", url, status=resp.status)
    try:
        answer = parse_token(resp.body)
    except ValueError:
        raise ServerError("timestamps.tsa_garbage", url) from None
    if answer.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise ServerError("timestamps.tsa_refused", url, status=int(answer.status),
                          detail="; ".join(answer.status_string)[:200] or "-")
    try:
        info = answer.tst_info
        imprint = info.message_imprint.message
        their_nonce = info.nonce
    except Exception:
        raise ServerError("timestamps.tsa_garbage", url) from None
    if imprint != digest:
        raise ServerError("timestamps.tsa_wrong_digest", url)
    if their_nonce != nonce:
        raise ServerError("timestamps.tsa_wrong_nonce", url)
    return resp.body


# --- trust store ----------------------------------------------------------------------------


def load_roots(data: bytes, name: str = "-") -> list[x509.Certificate]:
    """Certificates from PEM (one or many) or a single DER certificate."""
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise TsaRootError("timestamps.tsa_bad_root", path=name) from None
    if not certs:
        raise TsaRootError("timestamps.tsa_bad_root", path=name)
    return certs


def load_root_file(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError:
        raise TsaRootError("timestamps.tsa_root_unreadable", path=str(path)) from None
    return load_roots(data, str(path))


def default_roots() -> list[x509.Certificate]:
    """The roots of the default public TSAs shipped with evidencekit (may be empty)."""
    folder = resources.files("evidencekit") / "data" / "tsa-roots"
    if not folder.is_dir():
        return []
    roots: list[x509.Certificate] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".pem", ".crt")):
            roots.extend(load_roots(entry.read_bytes(), entry.name))
    return roots


# --- verifying ------------------------------------------------------------------------------


def _signer(answer: TimeStampResponse, extra: Sequence[x509.Certificate] = ()
            ) -> tuple[x509.Certificate | None, list[x509.Certificate]]:
    """The signing certificate (from the token, else from ``extra``) and the token's certificates."""
    embedded = [x509.load_der_x509_certificate(der) for der in answer.signed_data.certificates]
    infos = list(answer.signed_data.signer_infos)
    if len(infos) == 1:
        for cert in [*embedded, *extra]:
            if cert.issuer == infos[0].issuer and cert.serial_number == infos[0].serial_number:
                return cert, embedded
    return None, embedded


def _chains_to(cert: x509.Certificate, roots: Sequence[x509.Certificate],
               embedded: Sequence[x509.Certificate]) -> bool:
    """Whether ``cert`` leads to one of ``roots`` through the token's own certificates."""
    current = cert
    for _ in range(_MAX_CHAIN):
        for root in roots:
            if root.subject == current.issuer:
                try:
                    current.verify_directly_issued_by(root)
                    return True
                except Exception:  # wrong key type, bad signature: not this root
                    continue
        parent = next((c for c in embedded if c.subject == current.issuer and c != current), None)
        if parent is None:
            return False
        try:
            current.verify_directly_issued_by(parent)
        except Exception:
            return False
        current = parent
    return False


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tsa_name(signer: x509.Certificate | None, answer: TimeStampResponse) -> str | None:
    if signer is not None:
        return signer.subject.rfc4514_string()
    try:
        name = answer.tst_info.name
    except Exception:
        return None
    value = getattr(name, "value", None)
    if isinstance(value, x509.Name):
        return value.rfc4514_string()
    return str(value) if value is not None else None


def verify_rfc3161(data: bytes, digest: bytes, roots: Sequence[x509.Certificate]) -> ProofResult:
    """Check a ``.tsr`` (or bare token) for ``digest`` against trusted roots."""
    try:
        answer = parse_token(data)
        info = answer.tst_info
        algorithm = HASH_OIDS.get(info.message_imprint.hash_algorithm.dotted_string)
        imprint = info.message_imprint.message
        signer, embedded = _signer(answer, roots)
        details = TsaDetails(tsa_name=_tsa_name(signer, answer), gen_time=_iso(info.gen_time),
                             serial=hex(info.serial_number), policy=info.policy.dotted_string,
                             hash_algorithm=algorithm or info.message_imprint.hash_algorithm.dotted_string,
                             message_imprint=imprint.hex())
    except Exception:
        return ProofResult("rfc3161", "invalid", "timestamps.tsa_unreadable")
    if answer.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        return ProofResult("rfc3161", "invalid", "timestamps.tsa_not_granted",
                           {"status": int(answer.status)}, details)
    if algorithm is None:
        return ProofResult("rfc3161", "unverifiable", "timestamps.tsa_unsupported_hash",
                           {"oid": details.hash_algorithm}, details)
    if imprint != digest:
        return ProofResult("rfc3161", "invalid", "timestamps.tsa_other_digest",
                           {"token_digest": imprint.hex(), "digest": digest.hex(),
                            "algorithm": algorithm}, details)
    if not roots:
        return ProofResult("rfc3161", "unverifiable", "timestamps.tsa_no_roots", {}, details)
    if signer is None:
        key = "timestamps.tsa_no_certificate" if not embedded else "timestamps.tsa_bad_signature"
        return ProofResult("rfc3161", "unverifiable" if not embedded else "invalid", key, {},
                           details)
    if signer not in roots and not _chains_to(signer, roots, embedded):
        return ProofResult("rfc3161", "unverifiable", "timestamps.tsa_untrusted",
                           {"tsa": details.tsa_name or "-"}, details)
    try:
        builder = VerifierBuilder()
        if not embedded:
            builder = builder.tsa_certificate(signer)
        for root in _unique(roots):
            builder = builder.add_root_certificate(root)
        builder.build().verify(answer, digest)
    except Exception as exc:  # VerificationError, or whatever the Rust layer raises on bad input
        return _failed(str(exc), details)
    params = {"tsa": details.tsa_name or "-", "time": (details.gen_time or "").replace("T", " ").replace("Z", " UTC"),
              "serial": details.serial, "policy": details.policy}
    service = qualified.qualified_service(signer, embedded, roots, details.gen_time or "", qualified.current())
    if service is None:
        return ProofResult("rfc3161", "verified", "timestamps.tsa_verified", params, details)
    details = replace(details, qualified=f"{service.subject} ({service.territory})")
    return ProofResult("rfc3161", "verified", "timestamps.tsa_verified_qualified",
                       {**params, "service": service.subject, "territory": service.territory}, details)


def _failed(detail: str, details: TsaDetails) -> ProofResult:
    lowered = detail.lower()
    if "signature" in lowered or "pkcs7" in lowered:
        return ProofResult("rfc3161", "invalid", "timestamps.tsa_bad_signature", {}, details)
    return ProofResult("rfc3161", "invalid", "timestamps.tsa_check_failed",
                       {"detail": detail[:200] or "-"}, details)


def _unique(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    seen: set[bytes] = set()
    out = []
    for cert in certs:
        der = cert.public_bytes(Encoding.DER)
        if der not in seen:
            seen.add(der)
            out.append(cert)
    return out
