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

import queue
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import nacl.bindings as sodium
import nacl.exceptions
import nacl.public
import nacl.signing
import nacl.utils

from evidencekit.errors import UserError, VerificationFailed

MAGIC = b"EVKSEAL1"
CHUNK = 64 * 1024
BATCH = 16 * CHUNK  # what the writer hands to its helper thread at a time
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
    """A write-only file object that encrypts everything written to it (for ``zipfile``).

    Use it as a context manager: leaving the block normally writes the FINAL chunk, leaving it
    with an exception stops the helper thread and leaves the output unfinished (the caller
    deletes it). Encryption and writing run in that helper thread, so they overlap with the
    caller's hashing of the next bytes; at most ``_Behind.DEPTH`` batches of about 1 MiB wait.
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
        self._out = out
        self._aad: bytes | None = preamble
        self._buffer = bytearray()
        self._written = 0
        self._behind = _Behind(self._encrypt)

    def __enter__(self) -> SealWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self._behind.stop()

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._written += len(data)
        if len(self._buffer) > BATCH:
            # Whole chunks only, and never the last byte: the FINAL chunk is never empty unless
            # nothing at all was written. The full buffer goes to the helper as it is; only the
            # short rest is copied into a new one.
            cut = (len(self._buffer) - 1) // CHUNK * CHUNK
            full, self._buffer = self._buffer, bytearray(self._buffer[cut:])
            self._behind.put((memoryview(full)[:cut], False))
        return len(data)

    def _encrypt(self, batch: tuple[bytes | memoryview, bool]) -> None:
        """Push ``data`` as 64 KiB chunks; with ``final``, the last one (maybe shorter) is tagged FINAL."""
        data, final = batch
        view = memoryview(data)
        starts = range(0, max(len(data), 1), CHUNK)
        for start in starts:
            last = final and start == starts[-1]
            sealed = sodium.crypto_secretstream_xchacha20poly1305_push(
                self._state, bytes(view[start:start + CHUNK]), self._aad, TAG_FINAL if last else TAG_MESSAGE)
            self._out.write(sealed)
            self._aad = None

    def tell(self) -> int:
        return self._written

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        """Nothing to do: everything reaches ``out`` at :meth:`close`."""

    def close(self) -> None:
        """Write the last chunk, tagged FINAL, so truncation can be told from the end."""
        if self._behind.done:
            return
        self._behind.put((bytes(self._buffer), True))
        self._buffer.clear()
        self._behind.finish()
        self._out.flush()


class _Behind:
    """Runs ``work(item)`` for each item put, in order, in one helper thread.

    An error in the helper is raised in the caller at its next ``put`` or at ``finish``; the
    helper then only drains the queue, so the caller never blocks on it.
    """

    DEPTH = 8
    _END = object()

    def __init__(self, work: Callable[[Any], None]) -> None:
        self._work = work
        self._queue: queue.Queue[Any] = queue.Queue(self.DEPTH)
        self._error: BaseException | None = None
        self._dropping = False
        self.done = False
        self._thread = threading.Thread(target=self._run, name="evidencekit-behind", daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def finish(self) -> None:
        """Wait until everything put is done; raise the helper's error if it had one."""
        self._end()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Drop what still waits and end the helper (after an error of the caller's)."""
        self._dropping = True
        self._end()

    def _end(self) -> None:
        if not self.done:
            self.done = True
            self._queue.put(self._END)
            self._thread.join()

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._END:
            if self._error is None and not self._dropping:
                try:
                    self._work(item)
                except BaseException as exc:  # handed to the caller
                    self._error = exc


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
    writer = _Behind(out.write)  # writing the plain text overlaps with decrypting the next chunks
    try:
        _pull_all(source, file_key, header, head + slots, writer.put)
    except BaseException:
        writer.stop()
        raise
    writer.finish()
    if source.read(1):
        raise Damaged("bundle.sealed_trailing")


def _pull_all(source: BinaryIO, file_key: bytes, header: bytes, aad: bytes | None,
              write: Callable[[bytes], None]) -> None:
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    try:
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, file_key)
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
            write(plain)
            if tag == TAG_FINAL:
                break
    except (nacl.exceptions.CryptoError, RuntimeError) as exc:
        raise Damaged("bundle.sealed_damaged") from exc


def _curve_public(ed25519_public: bytes) -> nacl.public.PublicKey:
    return nacl.signing.VerifyKey(ed25519_public).to_curve25519_public_key()
