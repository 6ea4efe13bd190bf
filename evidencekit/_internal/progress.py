"""How long work tells its caller how far it has come, without knowing who is watching.

Why: sealing, opening and checking a bundle of gigabytes takes minutes; a terminal should show
that something moves, a script should see nothing. The library calls a ``Progress`` with the name
of the step and counts; the command line decides whether and how to show it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

Progress = Callable[[str, int, int], None]  # (step, done, total); total 0 when not known


def running(progress: Progress | None, step: str, total: int) -> Callable[[int], None] | None:
    """For work that reports each piece as it passes (``Locker.add_items``): the running total."""
    if progress is None:
        return None
    done = 0

    def advance(size: int) -> None:
        nonlocal done
        done += size
        progress(step, min(done, total), total)

    return advance


class Counting:
    """A file that reports the bytes read from it or written to it as ``step`` of ``total``."""

    def __init__(self, file: BinaryIO, step: str, total: int, progress: Progress) -> None:
        self._file, self._step, self._total, self._progress = file, step, total, progress
        self.done = 0

    def _count(self, size: int) -> None:
        self.done += size
        self._progress(self._step, min(self.done, self._total), self._total)

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._count(len(data))
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        size = self._file.readinto(buffer)  # type: ignore[attr-defined]
        self._count(size or 0)
        return size

    def write(self, data: bytes) -> int:
        written = self._file.write(data)
        self._count(len(data))
        return written

    def __getattr__(self, name: str) -> object:  # seek, tell, flush, fileno … as the file has them
        return getattr(self._file, name)
