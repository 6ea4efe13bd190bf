"""Long work shown on the terminal: the step in words, with a bar and counts when they are known.

On stderr, redrawn in place and wiped when the work is done; nothing at all under ``--json`` or
when stderr is not a terminal (a script, a pipe, a log file). Small jobs that finish in a blink
get no bar: below ``threshold`` bytes the step is not shown.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from evidencekit._internal.visible import visible
from evidencekit.i18n import t

_WIDTH = 24
_EVERY = 0.1  # seconds between redraws


class Shown:
    """A ``Progress`` callback (step, done, total) that draws on a terminal."""

    def __init__(self, enabled: bool, threshold: int, stream: TextIO) -> None:
        self.enabled, self.threshold, self.stream = enabled, threshold, stream
        self._step: str | None = None
        self._drawn = 0.0
        self._done = 0
        self._dirty = False

    def __call__(self, step: str, done: int, total: int) -> None:
        if not self.enabled or 0 < total < self.threshold:
            return
        now = time.monotonic()
        finished = total and done >= total
        if step == self._step and now - self._drawn < _EVERY and not (finished and self._done < total):
            return  # a redraw at most every _EVERY seconds, and the full bar once
        self._step, self._drawn, self._done = step, now, done
        words = t(f"progress.{step}")
        if total:
            filled = _WIDTH * done // total
            words += f"  [{'#' * filled}{'.' * (_WIDTH - filled)}] {_megabytes(done)}/{_megabytes(total)} MB"
        else:
            words += " …"
        self.stream.write(f"\r{visible(words)}\033[K")
        self.stream.flush()
        self._dirty = True

    def wipe(self) -> None:
        if self._dirty:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._dirty = False


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f}".replace(",", " ")


@contextmanager
def progress(as_json: bool, threshold: int = 8 * 1024 * 1024) -> Iterator[Shown]:
    """Progress for one piece of long work, on stderr when it is a terminal and JSON is not asked for."""
    shown = Shown(not as_json and sys.stderr.isatty(), threshold, sys.stderr)
    try:
        yield shown
    finally:
        shown.wipe()
