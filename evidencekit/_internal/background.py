"""Work handed to one helper thread, done in order: so hashing, encrypting and writing overlap.

hashlib, zlib, libsodium and OpenSSL's AES-GCM let go of the GIL on large buffers, so a stage
running here really runs beside the caller's next stage on another core.
"""

from __future__ import annotations

import io
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

PIECE = 4 * 1024 * 1024


class Behind:
    """Runs ``work(item)`` for each item put, in order, in one helper thread.

    An error in the helper is raised in the caller at its next ``put`` or at ``finish``; the
    helper then only drains the queue, so the caller never blocks on it.
    """

    DEPTH = 8
    _END = object()

    def __init__(self, work: Callable[[Any], None], depth: int = DEPTH) -> None:
        self._work = work
        self._queue: queue.Queue[Any] = queue.Queue(depth)
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

    def wait(self) -> None:
        """Wait until everything put so far is done, keeping the helper for more."""
        done = threading.Event()
        self.put(done)
        done.wait()
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
            if isinstance(item, threading.Event):
                item.set()
            elif self._error is None and not self._dropping:
                try:
                    self._work(item)
                except BaseException as exc:  # handed to the caller
                    self._error = exc


class Pieces:
    """Streams read in pieces into a few buffers used again and again, each piece handed to a helper.

    Touching fresh memory costs more than hashing it (every new page faults, dearly so in a
    virtual machine), so the buffers are kept from one stream to the next.
    """

    DEPTH = 2  # pieces waiting for the helper: enough to keep both threads busy

    def __init__(self) -> None:
        self._spare: list[list[bytearray]] = []
        self._lock = threading.Lock()

    def stream(self, source: BinaryIO | io.RawIOBase, work: Callable[[memoryview], None],
               each: Callable[[memoryview], None] | None = None) -> None:
        """Run ``each(piece)`` here, then ``work(piece)`` in a helper, for every piece of ``source``.

        Neither may keep the piece: its buffer is read into again ``DEPTH + 2`` pieces later,
        when the helper is done with it (at most ``DEPTH`` wait in its queue and one is at work).
        """
        with self._lock:
            ring = self._spare.pop() if self._spare else []
        behind: Behind | None = None
        try:
            for n in itertools.count():
                if n % (self.DEPTH + 2) == len(ring):  # made when first needed: a small file needs one
                    ring.append(bytearray(PIECE))
                buffer = ring[n % (self.DEPTH + 2)]
                piece = memoryview(buffer)[:_fill(source, buffer)]
                if not piece:
                    break
                if each:
                    each(piece)
                if behind is None and len(piece) < PIECE:  # all of it in one piece: nothing to overlap
                    work(piece)
                    break
                behind = behind or Behind(work, self.DEPTH)
                behind.put(piece)
        finally:
            if behind is not None:
                behind.finish()
            with self._lock:
                self._spare.append(ring)


def _fill(source: BinaryIO | io.RawIOBase, buffer: bytearray) -> int:
    """Read into all of ``buffer`` unless ``source`` ends first; how many bytes were read."""
    view = memoryview(buffer)
    done = 0
    while done < len(view) and (got := source.readinto(view[done:])):
        done += got
    return done
