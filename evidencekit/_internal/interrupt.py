"""A command stopped from outside ends like Ctrl-C, so its clean-up runs.

Without this, SIGTERM (``kill``, a logout) and SIGHUP (a closed terminal) end Python at once:
no ``finally`` runs, and a half-written bundle, a half-unpacked folder or a scratch copy of a
chat export stays behind. Raised as :class:`KeyboardInterrupt`, they unwind like Ctrl-C does.
"""

from __future__ import annotations

import signal
from types import FrameType


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def terminate_as_interrupt() -> None:
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _stop)
