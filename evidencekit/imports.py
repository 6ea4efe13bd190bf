"""Chat and email exports into the locker: the export itself is the evidence, the transcript a
derivative stored beside it (the case's timeline, in ``evidencekit.timeline``, reads it).

The export is first copied into the locker's work area and everything — hashing, parsing,
storing — reads that copy, so what is stored is exactly what was parsed even if the original
changes meanwhile. The copy is private, never in the system's temporary folder, and removed at the
end, or by the next command if this one is killed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from evidencekit import __version__, importers
from evidencekit._internal import blobstore
from evidencekit._internal.progress import Progress, running
from evidencekit.errors import DiskFull, NotFound, UserError, is_no_room, naming_full_disk
from evidencekit.importers.model import MAIL_FORMATS
from evidencekit.locker import Locker, Source
from evidencekit.models import TRANSCRIPT_FILE, IncidentFacts, Item

TRANSCRIPT = TRANSCRIPT_FILE


def import_export(
    locker: Locker,
    path: Path,
    passphrase: str,
    *,
    fmt: str = "auto",
    tz: str | None = None,
    date_order: str | None = None,
    me: str | None = None,
    conversations: Sequence[str] = (),
    dns_records: Mapping[str, str] | None = None,
    resolve_dns: bool = False,
    facts: IncidentFacts = IncidentFacts(),
    case: str | None = None,
    progress: Progress | None = None,
) -> Item:
    """Import one export (file, zip or folder) as one item: originals plus ``evidencekit-transcript.json``.

    With ``conversations`` the transcript shows only those (see :func:`importers.parse`), while the
    whole export is stored: what was left out stays in the evidence for anyone to check.
    ``progress`` hears of the steps ``copy``, ``parse`` and ``store`` (bytes stored so far).
    """
    if not path.exists():
        raise NotFound("items.path_missing", path=str(path))
    target = locker.case(case)
    locker.case_signer(target.id, passphrase)
    work = locker.scratch()
    try:
        snapshot = work / "export" / path.name
        snapshot.parent.mkdir()
        if progress:
            progress("copy", 0, 0)
        _copy(path, snapshot, locker.home)
        if progress:
            progress("parse", 0, 0)
        with naming_full_disk(locker.home), open(work / TRANSCRIPT, "xb", opener=_private) as out:
            header = importers.write_transcript(snapshot, out, fmt=fmt, tz=tz, date_order=date_order, me=me,
                                                conversations=conversations, dns_records=dns_records,
                                                resolve_dns=resolve_dns)
        sources = [Source(name, path=file) for name, file in _originals(snapshot)]
        sources += [Source(name, data=data) for name, data in importers.embedded_files(snapshot, header.format)]
        sources.append(Source(TRANSCRIPT, path=work / TRANSCRIPT, media_type="application/json"))
        acquired = {
            "method": "import",
            "tool": f"evidencekit {__version__}",
            "format": header.format,
            "source": {k: v for k, v in header.source.to_dict().items() if k != "files"},
            "tz": header.tz,
            "tz_origin": header.tz_origin,
            "date_order": header.date_order,
            "date_order_source": header.date_order_source,
            "me": header.me,
            "me_origin": header.me_origin,
            "conversations": header.conversations,
            "notices": len(header.notices),
            "derivative": {TRANSCRIPT: "parsed from the export; the export itself is the evidence"},
        }
        kind = "email" if header.format in MAIL_FORMATS else "chat"
        size = sum(source.path.stat().st_size for source in sources if source.path)
        return locker.add_items([(kind, sources, acquired, facts)], passphrase, target.id,
                                running(progress, "store", size))[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def list_conversations(path: Path, **options: Any) -> list[importers.Conversation]:
    """The conversations of an export (``import --list``), read in place: nothing is stored."""
    if not path.exists():
        raise NotFound("items.path_missing", path=str(path))
    return importers.conversations(path, **options)


def _copy(source: Path, destination: Path, home: Path) -> None:
    """Copy the export, private to the owner (and so removable even if the original is read-only).

    A full disk is named as such; any other failure is the source's.
    """

    def copy_file(src: str, dst: str) -> object:
        with naming_full_disk(home):  # not an OSError: copytree stops at once instead of going on
            return shutil.copy2(src, dst)

    try:
        if source.is_dir():
            shutil.copytree(source, destination, symlinks=True, copy_function=copy_file)
        else:
            copy_file(str(source), str(destination))
        blobstore.private_tree(destination.parent)
    except OSError as exc:
        if is_no_room(exc):
            raise DiskFull(home) from exc
        raise UserError("items.path_unreadable", path=str(source), reason=exc.strerror or str(exc)) from exc


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, blobstore.PRIVATE_FILE)


def _originals(snapshot: Path) -> Iterator[tuple[str, Path]]:
    """The export's files with their names: the file itself, or each file of a folder by relative path."""
    if snapshot.is_file():
        yield snapshot.name, snapshot
        return
    for file in sorted(p for p in snapshot.rglob("*") if p.is_file() and not p.is_symlink()):
        yield f"{snapshot.name}/{file.relative_to(snapshot).as_posix()}", file


def transcript(locker: Locker, ref: str, case: str | None = None) -> dict[str, Any]:
    """The stored transcript of an imported item, as written at import time."""
    item = locker.item(ref, case)
    stored = next((f for f in item.files if f.name == TRANSCRIPT), None)
    if stored is None:
        raise UserError("imports.no_transcript", item=item.label)
    with locker.blobs.open(stored.sha256) as handle:
        return json.load(handle)


def select(messages: list[dict[str, Any]], since: str | None, until: str | None,
           sender: str | None) -> list[dict[str, Any]]:
    """Messages in [since, until] (dates or times, compared on UTC) and from ``sender``, if given."""
    picked = []
    for message in messages:
        when = message.get("time_utc") or ""
        if since and (not when or when < since):
            continue
        if until and (not when or when[: len(until)] > until):
            continue
        if sender and (message.get("sender") or "").casefold() != sender.casefold():
            continue
        picked.append(message)
    return picked
