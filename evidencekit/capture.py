"""Web capture into the locker: one page becomes one item of six files and its facts.

The browser work is in ``evidencekit._internal.capture``; this module only decides how a
capture is stored, so the CLI, interactive browsing and the browser extension's native host
all produce items of the same layout.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from evidencekit import __version__
from evidencekit._internal.browser import BrowserSession
from evidencekit._internal.capture import CaptureOptions, WebCapture, capture_page
from evidencekit._internal.capture.facts import for_anonymous_case
from evidencekit.locker import Locker, Source
from evidencekit.models import IncidentFacts, Item

KIND = "web"


def store(locker: Locker, capture: WebCapture, passphrase: str, facts: IncidentFacts = IncidentFacts(),
          case: str | None = None, method: str = "web-capture") -> Item:
    """Keep a finished capture as an item: its files unchanged, its facts as acquisition metadata."""
    sources = [Source(f.name, path=f.path, media_type=f.media_type) for f in capture.files]
    metadata = for_anonymous_case(capture.metadata) if locker.case(case).anonymous else capture.metadata
    acquired = {"method": method, "tool": f"evidencekit {__version__}", **metadata}
    return locker.add_items([(KIND, sources, acquired, facts)], passphrase, case)[0]


def capture(
    locker: Locker,
    url: str,
    passphrase: str,
    *,
    facts: IncidentFacts = IncidentFacts(),
    options: CaptureOptions | None = None,
    case: str | None = None,
    session: BrowserSession | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Item:
    """Capture ``url`` and store it.

    The key is unlocked (a deliberately slow KDF) while the browser works, not before it; a wrong
    passphrase still stores nothing.
    """
    target = locker.case(case)
    workdir = locker.scratch()
    unlocking = locker.start_unlocking(target.id, passphrase)
    try:
        result = capture_page(url, workdir=workdir, options=options, session=session, on_stage=on_stage)
        unlocking.result()
        return store(locker, result, passphrase, facts, target.id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
