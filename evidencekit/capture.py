"""Web capture into the locker: one page becomes one item of seven files and its facts.

The browser work is in ``evidencekit._internal.capture``; this module only decides how a
capture is stored, so the CLI, interactive browsing and the browser extension's native host
all produce items of the same layout. The WACZ (the page's traffic as a web archive) is made
here, from the stored facts, so it says exactly what the item says, also in an anonymous case.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidencekit import __version__
from evidencekit._internal.browser import BrowserSession
from evidencekit._internal.capture import CaptureOptions, CapturedFile, WebCapture, capture_page
from evidencekit._internal.capture.facts import for_anonymous_case
from evidencekit._internal.capture.model import MEDIA_TYPES, ROLES, WACZ
from evidencekit.errors import UserError, naming_full_disk
from evidencekit.locker import Locker, Source
from evidencekit.models import IncidentFacts, Item

KIND = "web"
TOOL = f"evidencekit {__version__}"


def _with_wacz(files: tuple[CapturedFile, ...], acquired: dict[str, Any]) -> tuple[CapturedFile, ...]:
    """The capture's files plus its WACZ, written beside them; unchanged when there is no traffic."""
    from evidencekit._internal.capture import wacz  # warcio costs 60 ms; only captures need it

    by_name = {f.name: f.path for f in files}
    if not wacz.can_build(by_name):
        return files
    target = files[0].path.parent / WACZ
    with naming_full_disk(target.parent):
        wacz.pack_capture(target, by_name, acquired, TOOL)
    return (*files, CapturedFile(WACZ, target, MEDIA_TYPES[WACZ], ROLES[WACZ]))


def store(locker: Locker, capture: WebCapture, passphrase: str, facts: IncidentFacts = IncidentFacts(),
          case: str | None = None, method: str = "web-capture") -> Item:
    """Keep a finished capture as an item: its files unchanged, its facts as acquisition metadata."""
    metadata = for_anonymous_case(capture.metadata) if locker.case(case).anonymous else capture.metadata
    acquired = {"method": method, "tool": TOOL, **metadata}
    files = _with_wacz(capture.files, acquired)
    sources = [Source(f.name, path=f.path, media_type=f.media_type) for f in files]
    return locker.add_items([(KIND, sources, acquired, facts)], passphrase, case)[0]


def export_wacz(locker: Locker, ref: str, target: Path, case: str | None = None) -> Path:
    """Write a web capture's WACZ to ``target`` (never over an existing file).

    Captures made since WACZ support hold it as one of their files: that file is written out
    unchanged, so its SHA-256 is the one in the item's signed record. For an older capture it is
    made now from the HAR, screenshots and facts the item holds.
    """
    from evidencekit._internal.capture import wacz

    item = locker.item(ref, case)
    target = Path(target)
    if target.exists() or target.is_symlink():
        raise UserError("items.export_file_exists", path=str(target))
    stored = next((f for f in item.files if f.name == WACZ), None)
    if stored is not None:
        locker.export_file(item, stored, target)
        return target
    if item.kind != KIND or not wacz.can_build(f.name for f in item.files):
        raise UserError("capture.no_wacz", item=item.label)
    workdir = locker.scratch()
    try:
        files = {}
        for file in item.files:
            if file.name in wacz.SOURCES:
                files[file.name] = workdir / file.name
                locker.export_file(item, file, files[file.name])
        partial = target.with_name(f".{target.name}.partial")
        try:
            with naming_full_disk(target.parent):
                target.parent.mkdir(parents=True, exist_ok=True)
                wacz.build(partial, files=files, metadata=item.acquired,
                           listed=[(f.name, f.sha256, f.size) for f in item.files],
                           software=str(item.acquired.get("tool") or TOOL))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return target


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
