"""The STREAM construction over AES-256-GCM: a long message as a row of chunks that cannot be
moved, dropped, repeated or cut short without the reader noticing.

Hoang, Reyhanitabar, Rogaway and Vizár (2015), as in age and Tink: chunk *i* is encrypted under
the nonce  prefix (7 bytes) || i (u32 big-endian) || final flag (1 byte), so each chunk is bound to
its place and only the last one opens as final. Whatever precedes the stream (a header naming what
it belongs to) is the first chunk's associated data. One key must never encrypt two streams with
the same prefix: callers use a fresh key or a fresh random prefix for each. AES-GCM runs in
OpenSSL on the processor's AES instructions. Used by the sealed bundle envelope
(``bundle/envelope.py``).
"""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = 7  # random nonce prefix; the nonce's other 5 bytes are the chunk's number and final flag
TAG = 16  # AES-GCM tag after each chunk
MAX_CHUNKS = 2**32


def nonce(prefix: bytes, counter: int, final: bool) -> bytes:
    """Chunk ``counter``'s nonce: its place in the stream, and whether the stream ends with it."""
    return prefix + struct.pack(">IB", counter, final)


class _Stream:
    def __init__(self, key: bytes, prefix: bytes, header: bytes | None) -> None:
        if len(prefix) != PREFIX:
            raise ValueError("STREAM nonce prefix must be 7 bytes")
        self._cipher = AESGCM(key)
        self._prefix = prefix
        self._header = header
        self._counter = 0

    def _next(self, final: bool) -> tuple[bytes, bytes | None]:
        if self._counter >= MAX_CHUNKS:
            raise OverflowError("too many chunks for one STREAM")
        place, header = nonce(self._prefix, self._counter, final), self._header
        self._counter += 1
        self._header = None
        return place, header


class Sealer(_Stream):
    """Encrypts one stream's chunks, in order."""

    def seal(self, chunk: bytes | memoryview, final: bool) -> bytes:
        place, header = self._next(final)
        return self._cipher.encrypt(place, chunk, header)


class Opener(_Stream):
    """Decrypts one stream's chunks, in order; a chunk out of place raises ``InvalidTag``."""

    def open(self, sealed: bytes | memoryview, final: bool) -> bytes:
        place, header = self._next(final)
        return self._cipher.decrypt(place, sealed, header)
