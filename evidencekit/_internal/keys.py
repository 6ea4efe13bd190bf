"""Ed25519 signing keys kept sealed under a passphrase.

The 32-byte seed is encrypted with SecretBox under the locker key's seed key (see
:mod:`locker_key`), which the passphrase opens; in a locker from before encryption at rest, under a
key derived from the passphrase by argon2id, whose parameters are stored beside it. The public key travels as one
copyable string in minisign's format (``"Ed" || key id || key``, base64), which lets a recipient
check a signed manifest with ``minisign`` alone; the fingerprint is digits, easy to read aloud in
any language.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

from evidencekit.errors import UserError, WrongPassphrase

STRONG_SCORE = 3  # zxcvbn: at least 10^8 guesses; below that, a guessing program's early candidates
_PIECE = 72  # zxcvbn's own limit: its matching grows steeply with length (1,000 characters: a minute)
_PIECES = 4  # a passphrase weak for its first 288 characters is not judged further (a pasted megabyte)
_WHY_WEAK = {  # zxcvbn's feedback is English only: each of its warnings becomes a sentence of ours
    "This is a top-10 common password.": "keys.weak_passphrase_common",
    "This is a top-100 common password.": "keys.weak_passphrase_common",
    "This is a very common password.": "keys.weak_passphrase_common",
    "This is similar to a commonly used password.": "keys.weak_passphrase_similar",
    "A word by itself is easy to guess.": "keys.weak_passphrase_word",
    "Names and surnames by themselves are easy to guess.": "keys.weak_passphrase_name",
    "Common names and surnames are easy to guess.": "keys.weak_passphrase_name",
    "Straight rows of keys are easy to guess.": "keys.weak_passphrase_keyboard",
    "Short keyboard patterns are easy to guess.": "keys.weak_passphrase_keyboard",
    'Repeats like "aaa" are easy to guess.': "keys.weak_passphrase_repeat",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "keys.weak_passphrase_repeat",
    'Sequences like "abc" or "6543" are easy to guess.': "keys.weak_passphrase_sequence",
    "Recent years are easy to guess.": "keys.weak_passphrase_date",
    "Dates are often easy to guess.": "keys.weak_passphrase_date",
}
_OUR_WORDS = ["evidencekit", "evidence", "locker", "passphrase", "passordfrase"]
KDF_STRENGTHS = {
    "moderate": (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE),
    "interactive": (nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE),
}


@dataclass(frozen=True)
class SealedKey:
    public_key: bytes
    sealed_seed: bytes
    kdf: str  # JSON: algorithm, salt, limits


def require_strong_passphrase(passphrase: str) -> None:
    """Refuse a new passphrase that a guesser would find quickly, saying why in the reader's words.

    Whoever copies the locker folder can try passphrases offline against the sealed key, as fast
    as argon2id allows, and such programs begin with common passwords, words with a number,
    names, dates and keyboard runs. A long passphrase is judged in pieces of zxcvbn's 72 characters: guessing the whole means
    guessing every piece, so one strong piece among the first few makes the whole strong.
    """
    if not passphrase:
        raise UserError("keys.empty_passphrase")
    import zxcvbn  # only ``init`` needs it; its word lists take a while to load

    warning = None
    for start in range(0, min(len(passphrase), _PIECE * _PIECES), _PIECE):
        judged = zxcvbn.zxcvbn(passphrase[start : start + _PIECE], user_inputs=_OUR_WORDS)
        if judged["score"] >= STRONG_SCORE:
            return
        warning = warning if warning is not None else judged["feedback"]["warning"]
    raise UserError(_WHY_WEAK.get(warning or "", "keys.weak_passphrase"))


UNDER_LOCKER_KEY = json.dumps({"alg": "locker-key"})


def generate(seed_key: bytes) -> SealedKey:
    """A new signing key, its seed sealed under the locker's seed key."""
    return seal(nacl.signing.SigningKey.generate(), seed_key)


def seal(signing_key: nacl.signing.SigningKey, seed_key: bytes) -> SealedKey:
    box = nacl.secret.SecretBox(seed_key)
    return SealedKey(bytes(signing_key.verify_key), bytes(box.encrypt(bytes(signing_key))), UNDER_LOCKER_KEY)


def unseal(sealed: SealedKey, seed_key: bytes) -> nacl.signing.SigningKey:
    try:
        return nacl.signing.SigningKey(nacl.secret.SecretBox(seed_key).decrypt(sealed.sealed_seed))
    except nacl.exceptions.CryptoError as exc:
        raise WrongPassphrase("keys.wrong_passphrase") from exc


def unseal_with_passphrase(sealed: SealedKey, passphrase: str) -> nacl.signing.SigningKey:
    """A key of a locker from before encryption at rest, sealed under the passphrase itself."""
    return nacl.signing.SigningKey(open_with_passphrase(sealed.sealed_seed, json.loads(sealed.kdf), passphrase))


def seal_with_passphrase(secret: bytes, passphrase: str, strength: str) -> tuple[bytes, dict[str, Any]]:
    """``secret`` sealed with SecretBox under argon2id of ``passphrase``, and the KDF's parameters
    (algorithm, strength, salt, costs) that :func:`open_with_passphrase` needs beside it."""
    ops, mem = KDF_STRENGTHS[strength]
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, ops, mem))
    kdf = {"alg": "argon2id", "strength": strength, "salt": salt.hex(), "ops": ops, "mem": mem}
    return bytes(box.encrypt(secret)), kdf


def open_with_passphrase(sealed: bytes, kdf: Mapping[str, Any], passphrase: str) -> bytes:
    """What :func:`seal_with_passphrase` sealed; a wrong passphrase raises WrongPassphrase."""
    box = nacl.secret.SecretBox(_derive(passphrase, bytes.fromhex(kdf["salt"]), int(kdf["ops"]), int(kdf["mem"])))
    try:
        return bytes(box.decrypt(sealed))
    except nacl.exceptions.CryptoError as exc:
        raise WrongPassphrase("keys.wrong_passphrase") from exc


def _derive(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt, opslimit=ops, memlimit=mem
    )


def key_id(public_key: bytes) -> bytes:
    return hashlib.blake2b(public_key, digest_size=8).digest()


def public_key_string(public_key: bytes) -> str:
    return base64.b64encode(b"Ed" + key_id(public_key) + public_key).decode("ascii")


def parse_public_key(text: str) -> bytes:
    """The key in ``text``: the key alone, or the whole line ``keys show`` printed, label and all
    (``Public key: RWQ…``, ``Offentlig nøkkel: RWQ…``), as people copy it."""
    found = {key for word in _BASE64_WORD.findall(text) if (key := _public_key_or_none(word))}
    if len(found) != 1:
        raise UserError("keys.bad_public_key")
    return found.pop()


_BASE64_WORD = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")


def _public_key_or_none(word: str) -> bytes | None:
    try:
        raw = base64.b64decode(word, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 42 or raw[:2] != b"Ed" or raw[2:10] != key_id(raw[10:]):
        return None
    return raw[10:]


def fingerprint(public_key: bytes) -> str:
    """Six groups of five digits (about 100 bits) from SHA-256 of the key."""
    number = int.from_bytes(hashlib.sha256(public_key).digest()[:16], "big") % 10**30
    digits = f"{number:030d}"
    return " ".join(digits[i : i + 5] for i in range(0, 30, 5))


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False
    return True
