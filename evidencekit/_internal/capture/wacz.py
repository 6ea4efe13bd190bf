"""A web capture as WACZ 1.1.1: its WARC, index, page list and manifest in one ZIP.

WACZ is what ReplayWeb.page, py-wacz and web archivists open: the page replayed from its own
traffic, not a picture of it. The package is made from files the capture already holds (the HAR,
the screenshots, the facts), so it can be made when the page is captured and again, identically,
from an older item. Every member's date, order and ID comes from the capture, never from the
clock of the moment the package is written.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

from evidencekit._internal.capture import cdxj
from evidencekit._internal.capture.model import FULL_PAGE, HAR, VIEWPORT
from evidencekit._internal.capture.warc import Resource, write_warc

WACZ_VERSION = "1.1.1"
WARC_NAME = "archive/data.warc.gz"
INDEX_NAME = "indexes/index.cdxj"
PAGES_NAME = "pages/pages.jsonl"
CHUNK = 1 << 20
SOURCES = (HAR, VIEWPORT, FULL_PAGE)  # the capture files a WACZ is made from


def _moment(metadata: Mapping[str, Any], key: str) -> datetime:
    """A clock reading of the capture (``started``/``finished``) as a UTC datetime."""
    reading = metadata.get(key)
    try:
        return datetime.fromisoformat(str(reading["utc"]).replace("Z", "+00:00"))
    except (TypeError, KeyError, ValueError):
        return datetime(1980, 1, 1, tzinfo=timezone.utc)  # the earliest moment a ZIP can hold


def _seconds(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def can_build(names: Iterable[str]) -> bool:
    """A WACZ needs the recorded traffic; captures without a HAR (the extension's) have none."""
    return HAR in names


def pack_capture(target: Path, files: Mapping[str, Path], metadata: Mapping[str, Any],
                 software: str) -> None:
    """Write the WACZ of a capture whose files are all at hand (as it is stored)."""
    build(target, files={name: path for name, path in files.items() if name in SOURCES},
          listed=[(name, *_sha256(path)) for name, path in files.items()],
          metadata=metadata, software=software)


def build(target: Path, *, files: Mapping[str, Path], listed: Sequence[tuple[str, str, int]],
          metadata: Mapping[str, Any], software: str) -> None:
    """Write the WACZ of a capture to ``target``.

    ``files`` are the capture's HAR and screenshots by their names in the item, ``listed`` the
    digests of all the item's other files (recorded in the manifest, so the WACZ names the
    files it belongs with) and ``metadata`` its recorded facts.
    """
    page_url = urldefrag(str(metadata.get("final_url") or metadata.get("page_url") or ""))[0]
    started, finished = _moment(metadata, "started"), _moment(metadata, "finished")
    resources = [Resource(f"urn:{kind}:{page_url}", "image/png", files[name])
                 for kind, name in (("view", VIEWPORT), ("fullPage", FULL_PAGE)) if name in files]
    warc = target.with_name(target.name + ".warc.tmp")
    try:
        with open(warc, "wb") as out:
            write_warc(out, har=files[HAR], page_url=page_url, started=started,
                       resources=resources, facts=dict(metadata), software=software)
        _package(target, warc, listed=listed, metadata=metadata, page_url=page_url,
                 started=started, finished=finished, software=software)
    finally:
        warc.unlink(missing_ok=True)


def _package(target: Path, warc: Path, *, listed: Sequence[tuple[str, str, int]],
             metadata: Mapping[str, Any],
             page_url: str, started: datetime, finished: datetime, software: str) -> None:
    stamp = started.astimezone(timezone.utc).timetuple()[:6]
    title = str(metadata.get("title") or page_url)
    index = "".join(line + "\n" for line in cdxj.index_lines(warc, WARC_NAME.split("/")[-1]))
    page_id = hashlib.sha256(f"{page_url} {_seconds(started)}".encode()).hexdigest()[:32]
    pages = (json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Pages"}) + "\n"
             + json.dumps({"id": page_id, "url": page_url, "ts": _seconds(started),
                           "title": title}, ensure_ascii=False) + "\n")
    members: list[tuple[str, bytes | Path, int]] = [
        (WARC_NAME, warc, zipfile.ZIP_STORED),  # already gzipped: stored, for random access
        (INDEX_NAME, index.encode("utf-8"), zipfile.ZIP_DEFLATED),
        (PAGES_NAME, pages.encode("utf-8"), zipfile.ZIP_DEFLATED),
    ]
    resources = []
    for name, data, _method in members:
        digest, size = _sha256(data) if isinstance(data, Path) else \
            (hashlib.sha256(data).hexdigest(), len(data))
        resources.append({"name": name.rsplit("/", 1)[-1], "path": name,
                          "hash": f"sha256:{digest}", "bytes": size})
    captured = [{"name": name, "sha256": digest, "bytes": size}
                for name, digest, size in sorted(listed)]
    package = {
        "profile": "data-package",
        "resources": resources,
        "wacz_version": WACZ_VERSION,
        "title": title,
        "description": "Web capture made with evidencekit: the page's traffic as the browser "
                       "fetched it, its screenshots and the recorded facts.",
        "created": _seconds(finished),
        "software": software,
        "mainPageURL": page_url,
        "mainPageDate": _seconds(started),
        "evidencekit": {"capture_files": captured},  # the digests of the item's other files
    }
    manifest = json.dumps(package, ensure_ascii=False, indent=2).encode("utf-8")
    digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(manifest).hexdigest()}
    members += [("datapackage.json", manifest, zipfile.ZIP_DEFLATED),
                ("datapackage-digest.json", json.dumps(digest, indent=2).encode("utf-8"),
                 zipfile.ZIP_DEFLATED)]
    with zipfile.ZipFile(target, "w") as archive:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = method
            info.create_system = 3  # the same bytes whichever system writes them
            info.external_attr = 0o644 << 16
            if isinstance(data, Path):
                with open(data, "rb") as source, archive.open(
                        info, "w", force_zip64=data.stat().st_size >= zipfile.ZIP64_LIMIT) as out:
                    while chunk := source.read(CHUNK):
                        out.write(chunk)
            else:
                archive.writestr(info, data)
