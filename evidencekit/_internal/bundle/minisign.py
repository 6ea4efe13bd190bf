"""minisign's signature and public-key files, so a recipient can check a manifest with
``minisign -V -m manifest.json -p signer.pub`` and no evidencekit at all.

Format (minisign 0.8+): a public key is ``"Ed" || key id (8) || key (32)`` in base64 — the same
string ``evidencekit keys show`` prints. A signature file holds ``"ED" || key id || Ed25519 over
BLAKE2b-512(message)``, a trusted comment, and a global signature over the signature and the
trusted comment together.

evidencekit derives a key's id from the key; ``minisign -G`` picks it at random. Both are read,
so a bundle signed by someone's own minisign key is reported as signed by another key, not as
unreadable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

import nacl.signing

from evidencekit._internal import keys

PREHASHED = b"ED"
KEY_ALGORITHM = b"Ed"


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes
    key: bytes

    @property
    def string(self) -> str:
        """The key as minisign writes it (``minisign -P`` takes it)."""
        return base64.b64encode(KEY_ALGORITHM + self.key_id + self.key).decode("ascii")

    @property
    def is_evidencekit_key(self) -> bool:
        """Whether the id is the one evidencekit derives from the key (a case key's)."""
        return self.key_id == keys.key_id(self.key)

    @property
    def key_id_text(self) -> str:
        """The id as minisign prints it (a little-endian number in upper-case hex)."""
        return self.key_id[::-1].hex().upper()


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


def parse_public_key_file(data: bytes) -> PublicKey:
    """The key and its id from a ``.pub`` file, whoever made it; raises ValueError when it is not one."""
    try:
        lines = data.decode("utf-8", "strict").splitlines()
        if len(lines) < 2 or not lines[0].startswith("untrusted comment:"):
            raise ValueError("not a minisign public key file")
        raw = base64.b64decode(lines[1].strip(), validate=True)
    except (UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError("not a minisign public key file") from exc
    if len(raw) != 42 or raw[:2] != KEY_ALGORITHM:
        raise ValueError("not a minisign public key file")
    return PublicKey(raw[2:10], raw[10:])


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


def verify(public: PublicKey, message: bytes, signature: Signature) -> bool:
    """As ``minisign -V`` does: the signature's key id must be the key's, then both signatures hold."""
    if signature.key_id != public.key_id:
        return False
    prehash = hashlib.blake2b(message, digest_size=64).digest()
    return keys.verify(public.key, prehash, signature.signature) and keys.verify(
        public.key, signature.signature + signature.trusted_comment.encode(), signature.global_signature
    )
