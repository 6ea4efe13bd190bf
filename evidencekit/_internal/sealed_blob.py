"""The format of one encrypted blob file, written and read here only.

    header   = MAGIC (8 bytes) || salt (32 random bytes)
    file     = header || chunk 0 || chunk 1 || … (each chunk: up to CHUNK bytes + 16-byte tag)

The chunks are the STREAM construction of :mod:`aead_stream` (AES-256-GCM) under a key of this
blob alone, HMAC(blob content key, salt). Chunk 0's associated data is the header and the blob's
file name, which is HMAC(blob name key, SHA-256 of the plaintext): a blob file moved under another
name does not open, and the name tells nobody without the locker key which file it holds. The
name is known only once every byte is hashed, so the writer keeps chunk 0 in memory and
encrypts it last, into its place at the front. A reader checks chunk 0 when it opens the blob.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from evidencekit._internal import aead_stream

MAGIC = b"EKBLOB1\n"
SALT = 32
HEADER = len(MAGIC) + SALT
CHUNK = 1024 * 1024
SEALED_CHUNK = CHUNK + aead_stream.TAG
_PREFIX = bytes(aead_stream.PREFIX)  # every blob has its own key, so a fixed nonce prefix is safe


class Damaged(Exception):
    """The blob file is not one this locker sealed, or was changed after it was."""


def file_name(name_key: bytes, sha256: str) -> str:
    return hmac.new(name_key, sha256.encode("ascii"), hashlib.sha256).hexdigest()


def _blob_key(content_key: bytes, salt: bytes) -> bytes:
    return hmac.new(content_key, b"blob\x00" + salt, hashlib.sha256).digest()


class Writer:
    """Seals the plaintext given to :meth:`write` into ``fd``, chunk by chunk, in order.

    A chunk is sealed only once it is known whether more follows (the last one is sealed as
    final), so the latest chunk is held back, copied; the chunks before it are sealed straight
    from the caller's buffer. The buffers grow to what the blob needs and are used again.
    """

    def __init__(self, fd: int, content_key: bytes) -> None:
        salt = secrets.token_bytes(SALT)
        self._fd = fd
        self._header = MAGIC + salt
        self._cipher = AESGCM(_blob_key(content_key, salt))
        self._index = 0
        self._first = bytearray()  # chunk 0, sealed last, once the name is known
        self._first_final = False
        self._held = bytearray()
        self._held_size = 0
        self._sealed = bytearray()
        _write_all(fd, self._header, 0)

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data).cast("B")
        if self._held_size:
            view = view[self._hold(view):]
            if not view:
                return
            self._seal(memoryview(self._held), final=False)  # full, and more follows
            self._held_size = 0
        whole = (len(view) - 1) // CHUNK * CHUNK if view else 0  # every chunk but the last is followed by more
        self._seal(view[:whole], final=False)
        self._hold(view[whole:])

    def finish(self, name: str) -> None:
        """Seal the last chunk, then chunk 0 bound to the blob's file ``name``, into its place."""
        self._seal(memoryview(self._held)[:self._held_size], final=True)
        sealed = self._cipher.encrypt(aead_stream.nonce(_PREFIX, 0, self._first_final), bytes(self._first),
                                      self._header + name.encode("ascii"))
        _write_all(self._fd, sealed, HEADER)

    def _hold(self, view: memoryview) -> int:
        """Copy as much of ``view`` as fits into the held chunk; how much that was."""
        taken = min(CHUNK - self._held_size, len(view))
        self._held[self._held_size:self._held_size + taken] = view[:taken]
        self._held_size += taken
        return taken

    def _seal(self, plain: memoryview, final: bool) -> None:
        """Seal ``plain`` (whole chunks, but a final last one may be short), each into its place."""
        count = max(1, -(-len(plain) // CHUNK)) if final else len(plain) // CHUNK
        for k in range(count):
            chunk = plain[k * CHUNK:(k + 1) * CHUNK]
            last = final and k == count - 1
            if self._index == 0:
                self._first, self._first_final = bytearray(chunk), last
            else:
                if len(self._sealed) < len(chunk) + aead_stream.TAG:
                    self._sealed = bytearray(len(chunk) + aead_stream.TAG)
                sealed = memoryview(self._sealed)[:len(chunk) + aead_stream.TAG]
                self._cipher.encrypt_into(aead_stream.nonce(_PREFIX, self._index, last), chunk, None, sealed)
                place = HEADER + self._index * SEALED_CHUNK
                _write_all(self._fd, sealed, place)
                if hasattr(os, "posix_fadvise"):
                    # Not to be read again soon: Linux starts writing it to disk now, beside the
                    # hashing, rather than all the blob at the fsync (pages still being written stay cached).
                    os.posix_fadvise(self._fd, place, len(sealed), os.POSIX_FADV_DONTNEED)
            self._index += 1


def _write_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


class Reader(io.RawIOBase):
    """The plaintext of one blob file, readable and seekable like a file; every chunk is checked.

    A chunk that fails its check raises :class:`Damaged`; chunk 0 is checked on opening. A read
    of whole chunks decrypts them straight into the caller's buffer; a part of a chunk is
    decrypted into this reader's own buffer and copied from there.
    """

    def __init__(self, path: os.PathLike[str] | str, content_key: bytes, name: str) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            header = os.pread(self._fd, HEADER, 0)
            body = os.fstat(self._fd).st_size - HEADER
            if len(header) != HEADER or not header.startswith(MAGIC):
                raise Damaged(name)
            self._cipher = AESGCM(_blob_key(content_key, header[len(MAGIC):]))
            self._header = header + name.encode("ascii")
            self._chunks = max(1, -(-body // SEALED_CHUNK))
            if body - (self._chunks - 1) * SEALED_CHUNK < aead_stream.TAG:  # a last chunk too short for its tag
                raise Damaged(name)
            self.size = body - self._chunks * aead_stream.TAG
            self._position = 0
            self._sealed = bytearray(min(SEALED_CHUNK, body))
            self._plain = bytearray(self._length(0))
            self._cached = -1  # the chunk now in self._plain
            self._chunk(0)
        except BaseException:
            os.close(self._fd)
            raise

    def _length(self, index: int) -> int:
        """Chunk ``index``'s plaintext length."""
        return min(CHUNK, self.size - index * CHUNK)

    def _decrypt(self, index: int, into: memoryview) -> None:
        """Read, check and decrypt chunk ``index`` into ``into``, exactly its length."""
        sealed = memoryview(self._sealed)[:len(into) + aead_stream.TAG]
        place = HEADER + index * SEALED_CHUNK
        done = 0
        while done < len(sealed) and (got := os.preadv(self._fd, [sealed[done:]], place + done)):
            done += got
        try:
            self._cipher.decrypt_into(aead_stream.nonce(_PREFIX, index, index == self._chunks - 1), sealed[:done],
                                      self._header if index == 0 else None, into)
        except (InvalidTag, ValueError) as exc:  # ValueError: the file was cut short while open
            raise Damaged(str(index)) from exc

    def _chunk(self, index: int) -> memoryview:
        """Chunk ``index``'s plaintext, in this reader's own buffer."""
        plain = memoryview(self._plain)[:self._length(index)]
        if self._cached != index:
            self._cached = -1
            self._decrypt(index, plain)
            self._cached = index
        return plain

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self.size:
            index, within = divmod(self._position, CHUNK)
            length = self._length(index)
            if within == 0 and len(view) - done >= length and index != self._cached:
                self._decrypt(index, view[done:done + length])
                piece = length
            else:
                piece = min(length - within, len(view) - done)
                view[done:done + piece] = self._chunk(index)[within:within + piece]
            done += piece
            self._position += piece
        return done

    def readall(self) -> bytes:
        rest = bytearray(max(0, self.size - self._position))
        return bytes(memoryview(rest)[:self.readinto(rest)])

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
