"""The STREAM construction shared by sealed bundles: every way of rearranging chunks is caught."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from evidencekit._internal import aead_stream

KEY, PREFIX, HEADER = os.urandom(32), os.urandom(aead_stream.PREFIX), b"what this stream belongs to"
CHUNKS = [b"first chunk", b"second chunk", b"last chunk"]


def sealed() -> list[bytes]:
    sealer = aead_stream.Sealer(KEY, PREFIX, HEADER)
    return [sealer.seal(chunk, final=i == len(CHUNKS) - 1) for i, chunk in enumerate(CHUNKS)]


def read(chunks: list[bytes], header: bytes = HEADER) -> list[bytes]:
    """Open chunks as a reader does: the one the stream ends with must be flagged final."""
    opener = aead_stream.Opener(KEY, PREFIX, header)
    return [opener.open(chunk, final=i == len(chunks) - 1) for i, chunk in enumerate(chunks)]


def test_a_whole_stream_opens() -> None:
    assert read(sealed()) == CHUNKS
    assert all(len(s) == len(c) + aead_stream.TAG for s, c in zip(sealed(), CHUNKS))


@pytest.mark.parametrize("change", ["cut before the last", "swapped", "repeated", "dropped middle", "extended"])
def test_chunks_moved_dropped_repeated_or_cut_short_fail(change: str) -> None:
    s = sealed()
    changed = {
        "cut before the last": s[:2],
        "swapped": [s[1], s[0], s[2]],
        "repeated": [s[0], s[0], s[1], s[2]],
        "dropped middle": [s[0], s[2]],
        "extended": [*s, s[2]],
    }[change]
    with pytest.raises(InvalidTag):
        read(changed)


def test_the_header_is_bound_to_the_stream() -> None:
    with pytest.raises(InvalidTag):
        read(sealed(), header=b"another stream's header")


def test_a_prefix_must_be_seven_bytes() -> None:
    with pytest.raises(ValueError):
        aead_stream.Sealer(KEY, b"short", None)
