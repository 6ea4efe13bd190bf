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
    """Seals the plaintext given to :meth:`write` into ``fd``, chunk by chunk, in order."""

    def __init__(self, fd: int, content_key: bytes) -> None:
        salt = secrets.token_bytes(SALT)
        self._fd = fd
        self._header = MAGIC + salt
        self._cipher = AESGCM(_blob_key(content_key, salt))
        self._buffer = bytearray()
        self._index = 0
        self._first: tuple[bytes, bool] | None = None  # chunk 0, sealed last, once the name is known
        _write_all(fd, self._header)

    def write(self, data: bytes | memoryview) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # more follows, so this chunk is not the last
            self._take(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]

    def finish(self, name: str) -> None:
        """Seal the last chunk, then chunk 0 bound to the blob's file ``name``, into its place."""
        self._take(bytes(self._buffer), final=True)
        self._buffer.clear()
        assert self._first is not None
        chunk, final = self._first
        os.pwrite(self._fd, self._cipher.encrypt(aead_stream.nonce(_PREFIX, 0, final), chunk,
                                                 self._header + name.encode("ascii")), HEADER)

    def _take(self, chunk: bytes, final: bool) -> None:
        if self._index == 0:
            self._first = (chunk, final)
            os.lseek(self._fd, HEADER + len(chunk) + aead_stream.TAG, os.SEEK_SET)
        else:
            _write_all(self._fd, self._cipher.encrypt(aead_stream.nonce(_PREFIX, self._index, final), chunk, None))
        self._index += 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Reader(io.RawIOBase):
    """The plaintext of one blob file, readable and seekable like a file; every chunk is checked.

    A chunk that fails its check raises :class:`Damaged`; chunk 0 is checked on opening.
    """

    def __init__(self, path: os.PathLike[str] | str, content_key: bytes, name: str) -> None:
        super().__init__()
        self._file = open(path, "rb")
        try:
            header = self._file.read(HEADER)
            size = os.fstat(self._file.fileno()).st_size
            if len(header) != HEADER or not header.startswith(MAGIC):
                raise Damaged(name)
            self._cipher = AESGCM(_blob_key(content_key, header[len(MAGIC):]))
            self._header = header + name.encode("ascii")
            body = size - HEADER
            self._chunks = max(1, -(-body // SEALED_CHUNK))
            if body - (self._chunks - 1) * SEALED_CHUNK < aead_stream.TAG:  # a last chunk too short for its tag
                raise Damaged(name)
            self.size = body - self._chunks * aead_stream.TAG
            self._position = 0
            self._cached: tuple[int, bytes] = (-1, b"")
            self._chunk(0)
        except BaseException:
            self._file.close()
            raise

    def _chunk(self, index: int) -> bytes:
        if self._cached[0] == index:
            return self._cached[1]
        self._file.seek(HEADER + index * SEALED_CHUNK)
        sealed = self._file.read(SEALED_CHUNK)
        final = index == self._chunks - 1
        try:
            plain = self._cipher.decrypt(aead_stream.nonce(_PREFIX, index, final), sealed,
                                         self._header if index == 0 else None)
        except InvalidTag as exc:
            raise Damaged(str(index)) from exc
        self._cached = (index, plain)
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
            piece = self._chunk(index)[within:within + len(view) - done]
            view[done:done + len(piece)] = piece
            done += len(piece)
            self._position += len(piece)
        return done

    def readall(self) -> bytes:
        parts = []
        while self._position < self.size:
            index, within = divmod(self._position, CHUNK)
            piece = self._chunk(index)[within:]
            parts.append(piece)
            self._position += len(piece)
        return b"".join(parts)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._cached = (-1, b"")
        super().close()
