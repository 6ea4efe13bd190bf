"""The sealed envelope: a bundle encrypted to one or more recipients and signed by its sender,
streamed in bounded memory.

Layout (version 2)::

    "EVKSEAL2" | recipients: u16 big-endian | one 80-byte SealedBox per recipient (the file key)
    | secretstream header (24)
    | the bundle ZIP in chunks of 64 KiB plaintext + 17 bytes each, tagged MESSAGE
    | one last chunk, tagged FINAL, holding 96 bytes: the sender's Ed25519 public key (32) and a
      signature (64) over  DOMAIN || SHA-256(everything before the first chunk) || container digest

A recipient finds their slot by trying to open each box, so the file names nobody: it reveals
only its size and how many recipients there are (the sender's key is inside the encryption).
Every recipient holds the same file key, so encryption alone cannot tell the sender's body from
one a co-recipient encrypted again; the signature can. It covers the recipient slots and the
stream header, and the container digest pins every byte of the bundle ZIP (see
``container.py``); the verifier also demands that the key that signed the envelope is the key
that signed the manifest inside. Everything before the stream is bound to the first chunk as
additional data, and a stream that ends without its FINAL chunk is truncated and rejected.
"""

from __future__ import annotations

import hashlib
import os
import queue
import struct
import threading
from collections.abc import Sequence
from typing import BinaryIO

import nacl.bindings as sodium
import nacl.exceptions
import nacl.public
import nacl.signing

from evidencekit._internal.background import Behind
from evidencekit.errors import UserError, VerificationFailed

MAGIC = b"EVKSEAL2"
OLD_MAGIC = b"EVKSEAL1"
DOMAIN = b"evidencekit sealed envelope v2\x00"
CHUNK = 64 * 1024
BATCH = 16 * CHUNK  # what the writer hands to its helper thread at a time
SLOT = 80  # SealedBox of a 32-byte key
HEADER = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
TRAILER = 32 + 64
MAX_RECIPIENTS = 1000


class Damaged(VerificationFailed):
    """The sealed file was changed, cut short, or is not one."""


def is_sealed(head: bytes) -> bool:
    return head.startswith(MAGIC) or head.startswith(OLD_MAGIC)


def _statement(preamble_digest: bytes, container_digest: bytes) -> bytes:
    return DOMAIN + preamble_digest + container_digest


class SealWriter:
    """A write-only file object that encrypts everything written to it.

    Leaving the ``with`` block with an exception stops the helper thread and leaves the output
    unfinished (the caller deletes it); :meth:`sign_and_close` ends it properly. Encryption and
    writing run in a helper thread, so they overlap with the caller's reading and hashing; at
    most ``Behind.DEPTH`` batches of about 1 MiB wait.
    """

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
        self._preamble_digest = hashlib.sha256(preamble + header).digest()
        self._out = out
        self._aad: bytes | None = preamble
        self._buffer = bytearray()
        self._behind = Behind(self._encrypt)

    def __enter__(self) -> SealWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if not self._behind.done:
            self._behind.stop()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= BATCH:
            # Whole chunks only; the full buffer goes to the helper as it is, only the short
            # rest is copied into a new one.
            cut = len(self._buffer) // CHUNK * CHUNK
            full, self._buffer = self._buffer, bytearray(self._buffer[cut:])
            self._behind.put((memoryview(full)[:cut], TAG_MESSAGE))
        return len(data)

    def _encrypt(self, batch: tuple[bytes | memoryview, int]) -> None:
        data, tag = batch
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            sealed = sodium.crypto_secretstream_xchacha20poly1305_push(
                self._state, bytes(view[start:start + CHUNK]), self._aad, tag)
            self._out.write(sealed)
            self._aad = None

    def sign_and_close(self, signer: nacl.signing.SigningKey, container_digest: bytes) -> None:
        """Write the rest of the body, then the FINAL chunk with the sender's signature."""
        signature = signer.sign(_statement(self._preamble_digest, container_digest)).signature
        if self._buffer:
            self._behind.put((bytes(self._buffer), TAG_MESSAGE))
            self._buffer.clear()
        self._behind.put((bytes(signer.verify_key) + signature, TAG_FINAL))
        self._behind.finish()
        self._out.flush()


class OpenedStream:
    """The decrypted bundle as a readable stream, decrypted by a helper thread as it is read.

    Nothing is written to disk. After the last byte has been read, :meth:`sender` checks the
    envelope's signature against the container digest and returns the sender's public key.
    """

    DEPTH = 8

    def __init__(self, source: BinaryIO, identity: nacl.signing.SigningKey) -> None:
        self._source = source
        head = source.read(len(MAGIC) + 2)
        if len(head) >= len(MAGIC) and head.startswith(OLD_MAGIC):
            raise Damaged("bundle.sealed_old_version")
        if len(head) < len(MAGIC) + 2 or not head.startswith(MAGIC):
            raise Damaged("bundle.sealed_not_sealed")
        (count,) = struct.unpack(">H", head[len(MAGIC):])
        if not 0 < count <= MAX_RECIPIENTS:
            raise Damaged("bundle.sealed_damaged")
        slots = source.read(count * SLOT)
        header = source.read(HEADER)
        if len(slots) != count * SLOT or len(header) != HEADER:
            raise Damaged("bundle.sealed_truncated")
        self._preamble_digest = hashlib.sha256(head + slots + header).digest()
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
        try:
            self._remaining = os.fstat(source.fileno()).st_size - source.tell()
        except (OSError, AttributeError, ValueError):
            raise Damaged("bundle.sealed_damaged") from None
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, file_key)
        self._aad: bytes | None = head + slots
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(self.DEPTH)
        self._trailer: bytes | None = None
        self._current = memoryview(b"")
        self._ended = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="evidencekit-decrypt", daemon=True)
        self._thread.start()

    def _pull(self, size: int) -> tuple[bytes, int]:
        chunk = self._source.read(size)
        self._remaining -= len(chunk)
        if len(chunk) != size:
            raise Damaged("bundle.sealed_truncated")
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(self._state, chunk, self._aad)
        except (nacl.exceptions.CryptoError, RuntimeError) as exc:  # a changed chunk raises RuntimeError
            raise Damaged("bundle.sealed_damaged") from exc
        self._aad = None
        return plain, tag

    def _run(self) -> None:
        final = TRAILER + ABYTES
        try:
            while not self._stopping:
                batch = []
                for _ in range(16):
                    if self._remaining <= final:
                        break
                    plain, tag = self._pull(min(CHUNK + ABYTES, self._remaining - final))
                    if tag != TAG_MESSAGE:
                        raise Damaged("bundle.sealed_damaged")
                    batch.append(plain)
                if batch:
                    self._queue.put(b"".join(batch))
                    continue
                if self._remaining != final:
                    raise Damaged("bundle.sealed_truncated")
                plain, tag = self._pull(final)
                if tag != TAG_FINAL or len(plain) != TRAILER:
                    raise Damaged("bundle.sealed_damaged")
                self._trailer = plain
                self._queue.put(None)
                return
        except BaseException as exc:  # handed to the reader
            self._queue.put(exc)

    def read(self, size: int = -1) -> bytes:
        while not self._current and not self._ended:
            item = self._queue.get()
            if item is None:
                self._ended = True
            elif isinstance(item, BaseException):
                self._ended = True
                raise item
            else:
                self._current = memoryview(item)
        if size < 0:
            size = len(self._current)
        piece, self._current = self._current[:size], self._current[size:]
        return bytes(piece)

    def sender(self, container_digest: bytes) -> bytes | None:
        """The sender's public key if the signature covers this envelope and this container, else None."""
        if self._trailer is None:
            return None
        public, signature = self._trailer[:32], self._trailer[32:]
        try:
            nacl.signing.VerifyKey(public).verify(_statement(self._preamble_digest, container_digest), signature)
        except nacl.exceptions.BadSignatureError:
            return None
        return public

    def close(self) -> None:
        """Stop the helper (after an error, or when reading ends early)."""
        self._stopping = True
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()

    def __enter__(self) -> OpenedStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _curve_public(ed25519_public: bytes) -> nacl.public.PublicKey:
    return nacl.signing.VerifyKey(ed25519_public).to_curve25519_public_key()
