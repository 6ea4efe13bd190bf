"""minisign's signature and public-key files, so a recipient can check a manifest with
``minisign -V -m manifest.json -p signer.pub`` and no evidencekit at all.

Format (minisign 0.8+): a public key is ``"Ed" || key id (8) || key (32)`` in base64 — the same
string ``evidencekit keys show`` prints. A signature file holds ``"ED" || key id || Ed25519 over
BLAKE2b-512(message)``, a trusted comment, and a global signature over the signature and the
trusted comment together.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

import nacl.signing

from evidencekit._internal import keys

PREHASHED = b"ED"


@dataclass(frozen=True)
class Signature:
    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes


KEY_COMMENT = "evidencekit case key"
SIGNATURE_COMMENT = "signature from evidencekit"


def public_key_file(public_key: bytes, comment: str = KEY_COMMENT) -> bytes:
    return f"untrusted comment: {comment}\n{keys.public_key_string(public_key)}\n".encode()


def sign(signer: nacl.signing.SigningKey, message: bytes, trusted_comment: str) -> bytes:
    key_id = keys.key_id(bytes(signer.verify_key))
    signature = signer.sign(hashlib.blake2b(message, digest_size=64).digest()).signature
    global_signature = signer.sign(signature + trusted_comment.encode()).signature
    return signature_file(Signature(key_id, signature, trusted_comment, global_signature))


def signature_file(signature: Signature, comment: str = SIGNATURE_COMMENT) -> bytes:
    return (
        f"untrusted comment: {comment}\n"
        f"{base64.b64encode(PREHASHED + signature.key_id + signature.signature).decode()}\n"
        f"trusted comment: {signature.trusted_comment}\n"
        f"{base64.b64encode(signature.global_signature).decode()}\n"
    ).encode()


def parse_public_key_file(data: bytes) -> bytes:
    """The 32-byte key from a ``.pub`` file; raises ValueError when it is not one."""
    lines = data.decode("utf-8", "strict").splitlines()
    if len(lines) < 2 or not lines[0].startswith("untrusted comment:"):
        raise ValueError("not a minisign public key file")
    return keys.parse_public_key(lines[1])


def parse_signature(data: bytes) -> Signature:
    try:
        lines = data.decode("utf-8", "strict").splitlines()
        if len(lines) < 4 or not lines[2].startswith("trusted comment: "):
            raise ValueError("not a minisign signature file")
        raw = base64.b64decode(lines[1], validate=True)
        global_signature = base64.b64decode(lines[3], validate=True)
    except (UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError("not a minisign signature file") from exc
    if len(raw) != 74 or raw[:2] != PREHASHED or len(global_signature) != 64:
        raise ValueError("not a prehashed minisign signature")
    return Signature(raw[2:10], raw[10:], lines[2].removeprefix("trusted comment: "), global_signature)


def verify(public_key: bytes, message: bytes, signature: Signature) -> bool:
    if signature.key_id != keys.key_id(public_key):
        return False
    prehash = hashlib.blake2b(message, digest_size=64).digest()
    return keys.verify(public_key, prehash, signature.signature) and keys.verify(
        public_key, signature.signature + signature.trusted_comment.encode(), signature.global_signature
    )
