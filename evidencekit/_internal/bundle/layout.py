"""The bundle format, defined once: member names, the manifest, and the custody-log files.

Writing (``build``) and reading (``check``) both go through this module, so the two cannot
drift apart. See ``docs/bundle-format.md`` for the same in words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from evidencekit._internal import canonical

FORMAT = "evidencekit-bundle"
VERSION = 2
# Version 3 is version 2 with items whose content is held back (hashes only). A bundle without
# such items is still written as version 2, so that verifiers knowing only version 2 read it;
# one with them says 3, so that such a verifier refuses it rather than misread it.
HASH_ONLY_VERSION = 3
VERSIONS = (VERSION, HASH_ONLY_VERSION)
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.minisig"
SIGNER = "signer.pub"
SUMS = "SHA256SUMS"
SUMS_SIGNATURE = "SHA256SUMS.minisig"
README = "README.txt"
LOG_ENTRIES = "custody-log.jsonl"
LOG_SIGNATURES = "custody-log.sig"
CASE_RECORD = "records/case.json"
TIMESTAMPS = "timestamps/"
# For checking by hand (README.txt): the case key as PEM for ``openssl pkeyutl``, and the TSA
# roots evidencekit trusts for ``openssl ts -verify -CAfile``. Both are listed in the manifest.
SIGNER_PEM = "signer.pem"
TSA_ROOTS = TIMESTAMPS + "tsa-roots.pem"
# Everything else is listed, with its digest, in the manifest. These are checked byte for byte:
# the signatures and SHA256SUMS (derived from the manifest) against what evidencekit writes.
UNSIGNED = (SUMS, SUMS_SIGNATURE, MANIFEST, SIGNATURE, SIGNER)


def record_path(label: str) -> str:
    return f"records/{label}.json"


def item_file_path(label: str, index: int, name: str) -> str:
    """``items/E-001/01-name``: the index keeps two files of the same name apart."""
    clean = re.sub(r"[/\\\x00-\x1f\x7f-\x9f]", "_", name).lstrip(".") or "file"
    return f"items/{label}/{index:02d}-{clean}"


def stamped_path(seq: int, digest: str) -> str:
    """The exact bytes a proof stamped (the log entry's body), for ``ots verify -f`` and
    ``openssl ts -verify -data`` by hand."""
    return f"{TIMESTAMPS}log-{seq:06d}-{digest[:16]}.stamped"


def sha256sums(files: dict[str, dict[str, Any]]) -> bytes:
    """``sha256sum -c`` input for every listed member, in the manifest's order."""
    return "".join(f"{meta['sha256']}  {path}\n" for path, meta in sorted(files.items())).encode("utf-8")


def readme() -> bytes:
    """How to check the bundle by hand, in every language. It names no key or fingerprint: those
    come from the sender, never from the file. Rendered without parameters, so the shell's braces
    in its commands stay as written."""
    from evidencekit.i18n import LANGUAGES, t

    return "\n\n".join(t("bundle.readme", lang) for lang in reversed(LANGUAGES)).encode()


def signer_pem(public_key: bytes) -> bytes:
    """The case key as a PEM public key (SubjectPublicKeyInfo), the form openssl reads."""
    return Ed25519PublicKey.from_public_bytes(public_key).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def tsa_roots(roots: Sequence[x509.Certificate]) -> bytes:
    return b"".join(root.public_bytes(Encoding.PEM) for root in roots)


def log_files(stored: list[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    """Entry bodies one per line, exactly as signed (canonical JSON has no newline); hex signatures alike."""
    return (
        b"".join(body + b"\n" for body, _ in stored),
        b"".join(sig.hex().encode() + b"\n" for _, sig in stored),
    )


def read_log(entries: bytes, signatures: bytes) -> list[tuple[bytes, bytes]]:
    bodies = entries.split(b"\n")
    sigs = signatures.split(b"\n")
    if bodies[-1] != b"" or sigs[-1] != b"" or len(bodies) != len(sigs):
        raise ValueError("custody log files do not line up")
    return [(body, bytes.fromhex(sig.decode("ascii"))) for body, sig in zip(bodies[:-1], sigs[:-1])]


@dataclass(frozen=True)
class ManifestItem:
    label: str
    record: str
    record_sha256: str
    files: tuple[dict[str, Any], ...]  # {path, name, sha256, size}; held back: {name, sha256, size, pdq?, md5?}
    held_back: bool = False  # only the digests travel, not the bytes (``seal --hash-only``)


@dataclass(frozen=True)
class Manifest:
    created: str
    tool: str
    case_id: str
    signer: str
    log_length: int
    log_head: str
    items: tuple[ManifestItem, ...]
    files: dict[str, dict[str, Any]]  # path -> {sha256, size}: every member but the unsigned three
    timestamps: tuple[dict[str, Any], ...]  # {path, kind, seq, digest, server}
    withheld: int

    def to_bytes(self) -> bytes:
        return canonical.dumps(
            {
                "format": FORMAT,
                "version": HASH_ONLY_VERSION if any(i.held_back for i in self.items) else VERSION,
                "created": self.created,
                "tool": self.tool,
                "case": {"id": self.case_id, "record": CASE_RECORD},
                "signer": self.signer,
                "log": {"entries": LOG_ENTRIES, "signatures": LOG_SIGNATURES,
                        "length": self.log_length, "head": self.log_head},
                "items": [
                    {"id": i.label, "record": i.record, "record_sha256": i.record_sha256, "files": list(i.files),
                     **({"content": "hashes only"} if i.held_back else {})}
                    for i in self.items
                ],
                "files": self.files,
                "timestamps": list(self.timestamps),
                "withheld": self.withheld,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Raises ValueError/KeyError/TypeError for anything that is not a version-1 manifest.

        Every field is checked for its type here, so that checking a forged manifest can only
        find it wrong, never trip over it.
        """
        raw = canonical.loads(data)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ValueError("not an evidencekit manifest")
        version = raw.get("version")
        if version not in VERSIONS:
            raise NotImplementedError(str(version))
        items = tuple(_item(i) for i in _list(raw["items"]))
        if any(i.held_back for i in items) != (version == HASH_ONLY_VERSION):
            raise ValueError("held-back items and the format version disagree")
        return cls(
            created=_text(raw["created"]),
            tool=_text(raw["tool"]),
            case_id=_text(raw["case"]["id"]),
            signer=_text(raw["signer"]),
            log_length=_count(raw["log"]["length"]),
            log_head=_sha256(raw["log"]["head"]),
            items=items,
            files={_text(k): _file(v) for k, v in _dict(raw["files"]).items()},
            timestamps=tuple(_stamp(t) for t in _list(raw["timestamps"])),
            withheld=_count(raw["withheld"]),
        )


def _item(value: Any) -> ManifestItem:
    raw = _dict(value)
    content = raw.get("content")
    if content not in (None, "hashes only"):
        raise ValueError("unknown kind of item content")
    held_back = content is not None
    return ManifestItem(_text(raw["id"]), _text(raw["record"]), _sha256(raw["record_sha256"]),
                        tuple(_file(f, listed=True, held_back=held_back) for f in _list(raw["files"])), held_back)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("not a count")
    return value


def _sha256(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError("not a SHA-256 digest in hex")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    return value


def _file(value: Any, listed: bool = False, held_back: bool = False) -> dict[str, Any]:
    """``{sha256, size}``; an item's file also has ``path`` and ``name``, a held-back one no
    ``path`` (its bytes are not in the bundle) and, where known, its ``pdq`` and ``md5``."""
    entry = dict(_dict(value))
    _sha256(entry["sha256"])
    _count(entry["size"])
    if listed:
        _text(entry["name"])
    if listed and not held_back:
        _text(entry["path"])
    if held_back:
        if "path" in entry:
            raise ValueError("a held-back file names a member")
        _hex(entry.get("pdq", "0" * 64), 64)
        _hex(entry.get("md5", "0" * 32), 32)
    return entry


def _hex(value: Any, digits: int) -> str:
    if not isinstance(value, str) or not re.fullmatch(rf"[0-9a-f]{{{digits}}}", value):
        raise ValueError("not a digest in hex")
    return value


def _stamp(value: Any) -> dict[str, Any]:
    entry = dict(_dict(value))
    _text(entry["path"])
    _count(entry["seq"])
    _sha256(entry["digest"])
    _text(entry["stamped"])
    if entry["kind"] not in ("ots", "rfc3161"):
        raise ValueError("unknown kind of timestamp")
    if not all(isinstance(server, str) for server in _list(entry.get("servers", []))):
        raise TypeError("not a list of servers")
    return entry
