"""The sealed envelope: a bundle encrypted to one or more recipients, streamed in bounded memory.

Layout::

    "EVKSEAL1" | recipients: u16 big-endian | one 80-byte SealedBox per recipient (the file key)
    | secretstream header (24) | chunks of 64 KiB plaintext + 17 bytes each, the last tagged FINAL

A recipient finds their slot by trying to open each box, so the file names nobody: it reveals
only its size and how many recipients there are. Everything before the stream is bound to the
first chunk as additional data, so a changed header byte fails like a changed body byte. A
stream that ends without the FINAL tag is truncated and rejected.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import BinaryIO

import nacl.bindings as sodium
import nacl.exceptions
import nacl.public
import nacl.signing
import nacl.utils

from evidencekit.errors import UserError, VerificationFailed

MAGIC = b"EVKSEAL1"
CHUNK = 64 * 1024
SLOT = 80  # SealedBox of a 32-byte key
HEADER = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
MAX_RECIPIENTS = 1000


class Damaged(VerificationFailed):
    """The sealed file was changed, cut short, or is not one."""


def is_sealed(head: bytes) -> bool:
    return head.startswith(MAGIC)


class SealWriter:
    """A write-only file object that encrypts everything written to it (for ``zipfile``)."""

    def __init__(self, out: BinaryIO, recipients: Sequence[bytes]) -> None:
        if not recipients:
            raise UserError("bundle.no_recipients")
        file_key = sodium.crypto_secretstream_xchacha20poly1305_keygen()
        preamble = MAGIC + struct.pack(">H", len(recipients)) + b"".join(
            nacl.public.SealedBox(_curve_public(r)).encrypt(file_key) for r in recipients
        )
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, file_key)
        out.write(preamble + header)
        self._out = out
        self._aad: bytes | None = preamble
        self._buffer = bytearray()
        self._written = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._written += len(data)
        while len(self._buffer) > CHUNK:
            self._push(bytes(self._buffer[:CHUNK]), TAG_MESSAGE)
            del self._buffer[:CHUNK]
        return len(data)

    def _push(self, chunk: bytes, tag: int) -> None:
        self._out.write(sodium.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, self._aad, tag))
        self._aad = None

    def tell(self) -> int:
        return self._written

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        """Write the last chunk, tagged FINAL, so truncation can be told from the end."""
        self._push(bytes(self._buffer), TAG_FINAL)
        self._buffer.clear()
        self._out.flush()


def open_sealed(source: BinaryIO, identity: nacl.signing.SigningKey, out: BinaryIO) -> None:
    """Decrypt ``source`` into ``out``; raises if we are not a recipient or anything was changed."""
    head = source.read(len(MAGIC) + 2)
    if len(head) < len(MAGIC) + 2 or not head.startswith(MAGIC):
        raise Damaged("bundle.sealed_not_sealed")
    (count,) = struct.unpack(">H", head[len(MAGIC):])
    if not 0 < count <= MAX_RECIPIENTS:
        raise Damaged("bundle.sealed_damaged")
    slots = source.read(count * SLOT)
    header = source.read(HEADER)
    if len(slots) != count * SLOT or len(header) != HEADER:
        raise Damaged("bundle.sealed_truncated")
    box = nacl.public.SealedBox(identity.to_curve25519_private_key())
    file_key = None
    for i in range(count):
        try:
            file_key = box.decrypt(slots[i * SLOT:(i + 1) * SLOT])
            break
        except nacl.exceptions.CryptoError:
            continue
    if file_key is None:
        raise UserError("bundle.not_a_recipient", count=count)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    try:
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, file_key)
        aad: bytes | None = head + slots
        while True:
            chunk = source.read(CHUNK + ABYTES)
            if not chunk:
                raise Damaged("bundle.sealed_truncated")
            try:
                plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, chunk, aad)
            except (nacl.exceptions.CryptoError, RuntimeError) as exc:  # a changed chunk raises RuntimeError
                # Only the last chunk is short. A file cut inside a chunk, or with bytes added at
                # its end, fails here too and cannot be told from a changed last chunk.
                short = len(chunk) < CHUNK + ABYTES
                raise Damaged("bundle.sealed_end_damaged" if short else "bundle.sealed_damaged") from exc
            aad = None
            out.write(plain)
            if tag == TAG_FINAL:
                break
    except (nacl.exceptions.CryptoError, RuntimeError) as exc:
        raise Damaged("bundle.sealed_damaged") from exc
    if source.read(1):
        raise Damaged("bundle.sealed_trailing")


def _curve_public(ed25519_public: bytes) -> nacl.public.PublicKey:
    return nacl.signing.VerifyKey(ed25519_public).to_curve25519_public_key()
