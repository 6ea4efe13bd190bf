"""The sealed blob format: what is written reads back, anywhere, and every change to a blob file is refused.

The file is also opened here by the format as its module documents it (header, 1 MiB chunks with
their tags, the blob key from the salt, chunk 0 sealed with the header and the file name), so the
writer cannot drift from what other readers of the format rely on.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import random
import stat
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from evidencekit._internal import background
from evidencekit._internal.blobstore import BlobStore
from evidencekit._internal.sealed_blob import CHUNK, HEADER, SEALED_CHUNK, Damaged, Reader, Writer, file_name

TAG = SEALED_CHUNK - CHUNK
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7]
CONTENT_KEY, NAME_KEY = os.urandom(32), os.urandom(32)


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "store", CONTENT_KEY, NAME_KEY)


def _stored(store: BlobStore, data: bytes) -> tuple[str, Path]:
    """Store ``data``; its SHA-256 and its blob file, made writable for a test to change it."""
    sha256 = store.put_bytes(data).sha256
    path = store._path(sha256)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return sha256, path


def _open_by_the_format(path: Path, name: str) -> bytes:
    """The plaintext of a blob file, read as the format's description says, with nothing of the module's."""
    raw = path.read_bytes()
    assert raw[:8] == b"EKBLOB1\n"
    header, body = raw[:40], raw[40:]
    cipher = AESGCM(hmac.new(CONTENT_KEY, b"blob\x00" + header[8:], hashlib.sha256).digest())
    chunks = [body[at:at + CHUNK + 16] for at in range(0, len(body), CHUNK + 16)]
    return b"".join(
        cipher.decrypt(bytes(7) + struct.pack(">IB", index, index == len(chunks) - 1), chunk,
                       header + name.encode("ascii") if index == 0 else None)
        for index, chunk in enumerate(chunks)
    )


@pytest.mark.parametrize("size", SIZES)
def test_round_trip(store: BlobStore, size: int) -> None:
    data = os.urandom(size)
    sha256, path = _stored(store, data)
    assert sha256 == hashlib.sha256(data).hexdigest()
    chunks = max(1, -(-size // CHUNK))
    assert path.stat().st_size == HEADER + size + chunks * TAG
    assert path.name == file_name(NAME_KEY, sha256)
    assert size < 64 or data[:64] not in path.read_bytes()
    assert _open_by_the_format(path, path.name) == data
    with store.open(sha256) as blob:
        assert blob.read() == data
    assert store.state(sha256) == "ok"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pieces", [[CHUNK - 1], [7, CHUNK], [2 * CHUNK + 1], [1, 1, CHUNK - 2, 3]])
def test_writes_of_any_length_seal_the_same_plaintext(tmp_path: Path, size: int, pieces: list[int]) -> None:
    """However the plaintext is handed over, the chunks are the same; only the last is final."""
    data = os.urandom(size)
    name = file_name(NAME_KEY, hashlib.sha256(data).hexdigest())
    path = tmp_path / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    writer = Writer(fd, CONTENT_KEY)
    done, turn = 0, 0
    while done < size:
        step = pieces[turn % len(pieces)]
        writer.write(memoryview(data)[done:done + step])
        done, turn = done + step, turn + 1
    writer.write(b"")
    writer.finish(name)
    os.close(fd)
    assert _open_by_the_format(path, name) == data


def test_the_same_bytes_seal_differently_each_time(tmp_path: Path) -> None:
    data = os.urandom(CHUNK + 1)
    a, b = BlobStore(tmp_path / "a", CONTENT_KEY, NAME_KEY), BlobStore(tmp_path / "b", CONTENT_KEY, NAME_KEY)
    sha256 = a.put_bytes(data).sha256
    b.put_bytes(data)
    assert a._path(sha256).name == b._path(sha256).name  # the same name: the store keeps identical bytes once
    assert a._path(sha256).read_bytes()[8:40] != b._path(sha256).read_bytes()[8:40]  # a fresh salt, so a fresh key


def test_seek_and_read_anywhere(store: BlobStore) -> None:
    data = os.urandom(3 * CHUNK + 7)
    sha256, _ = _stored(store, data)
    chance = random.Random(18)
    edges = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK, len(data) - 1, len(data), len(data) + 5]
    with store.open(sha256) as blob, store._reader(sha256) as raw:
        for _ in range(60):
            at = chance.choice(edges) if chance.random() < 0.5 else chance.randrange(len(data))
            length = chance.choice([0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3, 4 * CHUNK])
            for reader in (blob, raw):
                assert reader.seek(at) == at
                assert reader.read(length) == data[at:at + length]
                assert reader.tell() == min(at + length, max(at, len(data)))
        assert raw.seek(-7, io.SEEK_END) == len(data) - 7 and raw.read() == data[-7:]
        raw.seek(CHUNK)
        assert raw.seek(-1, io.SEEK_CUR) == CHUNK - 1 and raw.read(2) == data[CHUNK - 1:CHUNK + 1]
        buffer = bytearray(CHUNK + 10)
        raw.seek(5)
        assert raw.readinto(buffer) == CHUNK + 10 and buffer == data[5:CHUNK + 15]
        with pytest.raises(ValueError):
            raw.seek(-1)


def _flip(at: int) -> Callable[[bytearray], bytearray]:
    def change(raw: bytearray) -> bytearray:
        raw[at] ^= 0x01
        return raw
    return change


def _swap_chunks(raw: bytearray) -> bytearray:
    first, second = HEADER + SEALED_CHUNK, HEADER + 2 * SEALED_CHUNK
    raw[first:second], raw[second:second + SEALED_CHUNK] = raw[second:second + SEALED_CHUNK], raw[first:second]
    return raw


# A blob of 3 * CHUNK + 7 bytes: chunks 0, 1 and 2 whole, chunk 3 of 7 bytes, final. Each change
# names the first chunk it breaks (None: the blob does not even open).
TAMPERING: dict[str, tuple[Callable[[bytearray], bytearray], int | None]] = {
    "magic": (_flip(0), None),
    "salt": (_flip(8 + 5), None),
    "chunk 0": (_flip(HEADER + 100), None),
    "chunk 0 tag": (_flip(HEADER + SEALED_CHUNK - 1), None),
    "chunk 1": (_flip(HEADER + SEALED_CHUNK + 5), 1),
    "chunk 2 tag": (_flip(HEADER + 3 * SEALED_CHUNK - 1), 2),
    "last chunk": (_flip(HEADER + 3 * SEALED_CHUNK + 3), 3),
    "cut after chunk 2": (lambda raw: raw[:HEADER + 3 * SEALED_CHUNK], 2),
    "cut after chunk 1": (lambda raw: raw[:HEADER + 2 * SEALED_CHUNK], 1),
    "cut inside the last chunk": (lambda raw: raw[:-1], 3),
    "chunks 1 and 2 swapped": (_swap_chunks, 1),
    "chunk 1 repeated at the end": (lambda raw: raw + raw[HEADER + SEALED_CHUNK:HEADER + 2 * SEALED_CHUNK], 3),
    "last chunk repeated": (lambda raw: raw + raw[HEADER + 3 * SEALED_CHUNK:], 3),
    "a byte appended": (lambda raw: raw + b"\x00", 3),
    "a tag's length appended": (lambda raw: raw + bytes(TAG), 3),
    "last chunk too short for its tag": (lambda raw: raw[:HEADER + 3 * SEALED_CHUNK + TAG - 1], None),
}


@pytest.mark.parametrize("change", TAMPERING)
def test_every_change_is_refused_where_it_is_read(store: BlobStore, change: str) -> None:
    data = os.urandom(3 * CHUNK + 7)
    sha256, path = _stored(store, data)
    tamper, broken = TAMPERING[change]
    path.write_bytes(tamper(bytearray(path.read_bytes())))
    assert store.state(sha256) == "changed"
    if broken is None:
        with pytest.raises(Damaged):
            store.open(sha256)
        return
    with store._reader(sha256) as blob:
        blob.seek(broken * CHUNK - 5)  # what comes before the broken chunk still reads: the change is named where it is
        assert blob.read(5) == data[broken * CHUNK - 5:broken * CHUNK]
        with pytest.raises(Damaged):
            blob.read(1)
    with store.open(sha256) as blob, pytest.raises(Damaged):
        blob.read()


def test_a_blob_file_under_another_name_does_not_open(store: BlobStore) -> None:
    """Chunk 0 is bound to the file name: a file copied over another blob's is refused."""
    mine, theirs = os.urandom(CHUNK + 3), os.urandom(CHUNK + 3)
    sha256, path = _stored(store, mine)
    other, other_path = _stored(store, theirs)
    other_path.write_bytes(path.read_bytes())
    assert store.state(sha256) == "ok"
    assert store.state(other) == "changed"
    with pytest.raises(Damaged):
        store.open(other)


def test_a_reader_keeps_no_unchecked_bytes(store: BlobStore) -> None:
    """A chunk that fails its check is never handed out later from the reader's own buffer."""
    data = os.urandom(2 * CHUNK + 1)
    sha256, path = _stored(store, data)
    raw = bytearray(path.read_bytes())
    raw[HEADER + SEALED_CHUNK + 10] ^= 0x01
    path.write_bytes(raw)
    with Reader(path, CONTENT_KEY, path.name) as blob:
        for _ in range(2):
            blob.seek(CHUNK + 10)
            with pytest.raises(Damaged):
                blob.read(1)


def test_a_missing_blob_is_missing(store: BlobStore) -> None:
    assert store.state(hashlib.sha256(b"never stored").hexdigest()) == "missing"


def test_pieces_are_never_overwritten_while_the_helper_has_them() -> None:
    """The buffers are reused: a slow helper must still see every piece as it was read."""
    data = os.urandom(10 * background.PIECE + 3)
    seen: list[bytes] = []

    def slow(piece: memoryview) -> None:
        time.sleep(0.005)
        seen.append(bytes(piece))

    pieces = background.Pieces()
    for _ in range(2):  # the second stream runs through the buffers the first one left
        seen.clear()
        pieces.stream(io.BytesIO(data), slow)
        assert b"".join(seen) == data
