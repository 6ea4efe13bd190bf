"""Work handed to one helper thread, done in order: so hashing, encrypting and writing overlap.

hashlib, zlib and libsodium let go of the GIL on large buffers, so a stage running here really
runs beside the caller's next stage on another core.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class Behind:
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
