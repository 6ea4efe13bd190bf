"""A command stopped from outside ends like Ctrl-C, so its clean-up runs.

Without this, SIGTERM (``kill``, a logout) and SIGHUP (a closed terminal) end Python at once:
no ``finally`` runs, and a half-written bundle, a half-unpacked folder or a scratch copy of a
chat export stays behind. Raised as :class:`KeyboardInterrupt`, they unwind like Ctrl-C does.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def terminate_as_interrupt() -> None:
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _stop)


def quiet_browser_leftovers() -> None:
    """After Ctrl-C, say nothing of what the interrupted browser driver left behind.

    Ctrl-C reaches the whole terminal's process group, so Playwright's driver and Chromium die with
    Python; the driver's event loop then holds futures that failed with "Connection closed", which
    asyncio reports as "Future exception was never retrieved" when they are collected at exit.
    The command has already said it stopped and what was kept; those lines would only alarm.
    """
    logging.getLogger("asyncio").disabled = True
