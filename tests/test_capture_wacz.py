"""Web captures as WACZ: real Chromium against a loopback page with styles, images, a fetch and a
non-UTF-8 frame; the package checked by py-wacz, its WARC read back with warcio, byte for byte."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from capture_pages.site import Handler, png, serve_loopback, session_or_skip
from conftest import PASSPHRASE, quiet_locker_env, run_cli
from evidencekit._internal.browser import BrowserNotFound, find_browser
from evidencekit._internal.capture.cdxj import surt
from evidencekit.locker import Source
from evidencekit.models import IncidentFacts
from locker_files import open_locker

CSS = b"body { background: #fafafa; }\n.post { color: #223; }\n" * 40
LATIN1 = "<html><body><p>Blåbærsyltetøy på skjærgården</p></body></html>".encode("latin-1")
META = '<html><head><meta charset="windows-1252"></head><body>«Søt» – €5</body></html>'.encode("cp1252")
GALLERY = b"""<!doctype html><html><head><meta charset="utf-8"><title>Gallery</title>
<link rel="stylesheet" href="/style.css"></head><body><div class="post">Hei \xc3\xa5 alle</div>
<img src="/image?rgb=200,30,30&w=40&h=30"><img src="/image?rgb=30,200,30&w=20&h=20">
<iframe src="/latin1"></iframe><iframe src="/meta-charset"></iframe><ul id="list"></ul>
<script>fetch("/slow-json?from=3").then(r => r.json()).then(d => {
  for (const i of d.items) { const li = document.createElement("li"); li.textContent = i;
    document.getElementById("list").append(li); } });</script></body></html>"""
ARTIFACTS = Path(__file__).parent / "artifacts"
LOADED = ("/gallery", "/style.css", "/image?rgb=200,30,30&w=40&h=30", "/image?rgb=30,200,30&w=20&h=20",
          "/latin1", "/meta-charset", "/slow-json?from=3")


class GalleryHandler(Handler):
    """The capture test site plus a page that loads every kind of resource; remembers what it sent."""

    served: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802
        path = self.path
        if path == "/gallery":
            self._send(200, GALLERY)
        elif path == "/style.css":  # sent gzip-encoded: the WARC keeps what the browser decoded
            self._send(200, gzip.compress(CSS, mtime=0), "text/css",
                       headers=(("Content-Encoding", "gzip"),))
            GalleryHandler.served[path] = CSS
            return
        elif path == "/latin1":  # the charset named only in the header …
            self._send(200, LATIN1, "text/html; charset=iso-8859-1")
        elif path == "/meta-charset":  # … and only in the page
            self._send(200, META, "text/html")
            GalleryHandler.served[path] = META
            return
        else:
            super().do_GET()
        if path.startswith("/image"):
            query = dict(p.split("=") for p in urlsplit(path).query.split("&"))
            GalleryHandler.served[path] = png(tuple(int(c) for c in query["rgb"].split(",")),
                                              int(query["w"]), int(query["h"]))
        elif path == "/gallery":
            GalleryHandler.served[path] = GALLERY
        elif path == "/latin1":
            GalleryHandler.served[path] = LATIN1
        elif path.startswith("/slow-json"):
            GalleryHandler.served[path] = json.dumps({"items": [3, 4, 5, 6]}).encode()


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One CLI capture of the gallery in a fresh locker, exported as WACZ."""
    try:
        find_browser()
    except BrowserNotFound as error:
        pytest.skip(f"no browser to capture with: {error.message('en')}")
    root = tmp_path_factory.mktemp("wacz")
    env = quiet_locker_env(root / "locker")
    assert run_cli("init", "--kdf", "interactive", env=env).code == 0
    assert run_cli("case", "new", "WACZ", env=env).code == 0
    GalleryHandler.served.clear()
    with serve_loopback(GalleryHandler) as base:
        done = run_cli("capture", base + "/gallery", "--no-stamp", "--json", env=env)
        assert done.code == 0, done.err
        login = run_cli("capture", base + "/login", "--no-stamp", "--json", env=env)
        assert login.code == 0, login.err
    out = root / "page.wacz"
    exported = run_cli("export", "E-001", "--wacz", "-o", out, "--json", env=env)
    assert exported.code == 0, exported.err
    yield {"env": env, "base": base, "item": done.json(), "wacz": out, "root": root}


def warc_bytes(wacz: Path) -> bytes:
    with zipfile.ZipFile(wacz) as package:
        return package.read("archive/data.warc.gz")


def responses(wacz: Path) -> dict[str, bytes]:
    """Every response record's URL and body, read with warcio."""
    found = {}
    for record in ArchiveIterator(io.BytesIO(warc_bytes(wacz))):
        if record.rec_type == "response":
            found[record.rec_headers.get_header("WARC-Target-URI")] = record.content_stream().read()
    return found


def command(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not os.access(path, os.X_OK):
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def test_wacz_is_an_item_file_exported_unchanged(captured: dict[str, Any]) -> None:
    files = {f["name"]: f for f in captured["item"]["files"]}
    assert files["page.wacz"]["media_type"] == "application/wacz"
    assert hashlib.sha256(captured["wacz"].read_bytes()).hexdigest() == files["page.wacz"]["sha256"]
    with zipfile.ZipFile(captured["wacz"]) as package:
        names = package.namelist()
        assert names == ["archive/data.warc.gz", "indexes/index.cdxj", "pages/pages.jsonl",
                         "datapackage.json", "datapackage-digest.json"]
        assert package.getinfo("archive/data.warc.gz").compress_type == zipfile.ZIP_STORED
        manifest = json.loads(package.read("datapackage.json"))
        pages = [json.loads(line) for line in package.read("pages/pages.jsonl").splitlines()]
    assert manifest["wacz_version"] == "1.1.1" and manifest["mainPageURL"] == captured["base"] + "/gallery"
    listed = {f["name"]: f["sha256"] for f in manifest["evidencekit"]["capture_files"]}
    assert listed == {n: f["sha256"] for n, f in files.items() if n != "page.wacz"}
    assert pages[0]["format"] == "json-pages-1.0"
    assert pages[1]["url"] == captured["base"] + "/gallery" and pages[1]["title"] == "Gallery"


def test_wacz_validate_passes(captured: dict[str, Any]) -> None:
    done = subprocess.run([command("wacz"), "validate", "-f", str(captured["wacz"])],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation succeeded" in done.stdout


def test_warc_holds_what_the_site_served_byte_for_byte(captured: dict[str, Any]) -> None:
    found = responses(captured["wacz"])
    base = captured["base"]
    assert set(GalleryHandler.served) >= set(LOADED)
    for path in LOADED:
        assert found[base + path] == GalleryHandler.served[path], path


def test_warc_records_are_whole_and_linked(captured: dict[str, Any]) -> None:
    warc = captured["root"] / "data.warc.gz"
    warc.write_bytes(warc_bytes(captured["wacz"]))
    checked = subprocess.run([command("warcio"), "check", "-v", str(warc)], capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr  # every SHA-256 digest holds
    kinds, response_ids, concurrent = [], set(), set()
    for record in ArchiveIterator(io.BytesIO(warc.read_bytes())):
        kinds.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI")))
        if record.rec_type == "response":
            response_ids.add(record.rec_headers.get_header("WARC-Record-ID"))
            if record.rec_headers.get_header("WARC-Target-URI").endswith("/style.css"):
                assert record.http_headers.get_header("Content-Encoding") is None
                assert record.http_headers.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
                assert record.http_headers.get_header("Content-Length") == str(len(CSS))
        if record.rec_type == "request":
            concurrent.add(record.rec_headers.get_header("WARC-Concurrent-To"))
        if record.rec_type == "metadata":
            facts = json.loads(record.content_stream().read())
            assert facts["final_url"] == captured["base"] + "/gallery"
    page = captured["base"] + "/gallery"
    assert kinds[0] == ("warcinfo", None)
    assert ("resource", f"urn:view:{page}") in kinds and ("resource", f"urn:fullPage:{page}") in kinds
    assert ("metadata", page) in kinds
    assert concurrent == response_ids  # every response has its request beside it


def test_every_loaded_resource_is_found_through_the_index(captured: dict[str, Any]) -> None:
    """Replay as a reader of the WACZ does it: index line → byte range of the WARC → warcio."""
    with zipfile.ZipFile(captured["wacz"]) as package:
        index = package.read("indexes/index.cdxj").decode().splitlines()
        warc = package.read("archive/data.warc.gz")
    assert index == sorted(index)
    by_key: dict[str, dict[str, str]] = {}
    for line in index:
        key, stamp, fields = line.split(" ", 2)
        assert len(stamp) == 14 and stamp.isdigit()
        by_key.setdefault(key, json.loads(fields))
    for path in LOADED:
        url = captured["base"] + path
        entry = by_key[surt(url)]
        start, length = int(entry["offset"]), int(entry["length"])
        record = next(iter(ArchiveIterator(io.BytesIO(warc[start:start + length]))))
        assert record.rec_headers.get_header("WARC-Target-URI") == url
        assert record.content_stream().read() == GalleryHandler.served[path]
        assert entry["status"] == "200" and entry["filename"] == "data.warc.gz"


def test_index_agrees_with_cdxj_indexer(captured: dict[str, Any]) -> None:
    """An independent indexer (run as a command) finds the same keys, offsets and lengths."""
    warc = captured["root"] / "index-me.warc.gz"
    warc.write_bytes(warc_bytes(captured["wacz"]))
    done = subprocess.run([command("cdxj-indexer"), str(warc)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr

    with open(warc, "rb") as stream:  # replay looks up responses and resources (not metadata)
        records = ArchiveIterator(stream)
        wanted = {str(records.get_record_offset()) for record in records
                  if record.rec_type in ("response", "resource")}

    def entries(lines: list[str]) -> set[tuple[str, str, str, str]]:
        result = set()
        for line in lines:
            key, stamp, fields = line.split(" ", 2)
            data = json.loads(fields)
            if data["offset"] in wanted:
                result.add((key, stamp, data["offset"], data["length"]))
        return result

    with zipfile.ZipFile(captured["wacz"]) as package:
        ours = package.read("indexes/index.cdxj").decode().splitlines()
    theirs = [line for line in done.stdout.splitlines() if line.strip()]
    assert entries(ours) == entries(theirs)


def test_older_capture_gets_the_same_wacz_rebuilt(captured: dict[str, Any], tmp_path: Path) -> None:
    """An item made before WACZ support (no page.wacz) is exported as the very same package."""
    env = captured["env"]
    files = tmp_path / "files"
    assert run_cli("export", "E-001", "-o", files, env=env).code == 0
    (files / "page.wacz").unlink()
    with open_locker(Path(env["EVIDENCEKIT_HOME"])) as locker:
        item = locker.item("E-001")
        sources = [Source(f.name, path=files / f.name, media_type=f.media_type)
                   for f in item.files if f.name != "page.wacz"]
        old = locker.add_items([("web", sources, item.acquired, IncidentFacts())], PASSPHRASE)[0]
    rebuilt = tmp_path / "rebuilt.wacz"
    done = run_cli("export", old.label, "--wacz", "-o", rebuilt, env=env)
    assert done.code == 0, done.err
    assert rebuilt.read_bytes() == captured["wacz"].read_bytes()


def test_cookies_of_the_worker_stay_out_of_the_wacz(captured: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "login.wacz"
    assert run_cli("export", "E-002", "--wacz", "-o", out, env=captured["env"]).code == 0
    raw = b"".join(record.content_stream().read() + record.http_headers.to_bytes()
                   for record in ArchiveIterator(io.BytesIO(warc_bytes(out)))
                   if record.http_headers is not None)
    assert b"Set-Cookie: [redacted by evidencekit]" in raw
    assert b"s3cret-token" not in gzip.decompress(warc_bytes(out))


def test_no_wacz_and_taken_names_are_one_sentence(captured: dict[str, Any], tmp_path: Path) -> None:
    env = captured["env"]
    diary = run_cli("note", "a diary line", "--no-stamp", "--json", env=env)
    assert diary.code == 0, diary.err
    before = run_cli("log", "--json", env=env).out
    note = run_cli("export", diary.json()["id"], "--wacz", "-o", tmp_path / "n.wacz", env=env)
    assert note.code == 2 and "no WACZ" in note.err and "Traceback" not in note.err
    assert len(note.err.strip().splitlines()) == 1 and not (tmp_path / "n.wacz").exists()
    shot = tmp_path / "page-viewport.png"
    shot.write_bytes(png((1, 2, 3), 4, 4))
    with open_locker(Path(env["EVIDENCEKIT_HOME"])) as locker:  # as the browser extension stores one
        extension = locker.add_items([("web", [Source(shot.name, path=shot, media_type="image/png")],
                                       {"method": "extension"}, IncidentFacts())], PASSPHRASE)[0]
    before = run_cli("log", "--json", env=env).out
    from_extension = run_cli("export", extension.label, "--wacz", "-o", tmp_path / "x.wacz", env=env)
    assert from_extension.code == 2 and "browser extension" in from_extension.err
    taken = tmp_path / "taken.wacz"
    taken.write_bytes(b"mine")
    again = run_cli("export", "E-001", "--wacz", "-o", taken, env=env)
    assert again.code == 2 and "exists already" in again.err and taken.read_bytes() == b"mine"
    assert run_cli("log", "--json", env=env).out == before


def test_the_page_replays_from_the_wacz_alone(captured: dict[str, Any]) -> None:
    """Chromium loads the page again with every request answered from the WACZ (index → WARC
    record → warcio) and nothing from the network: every resource is there, the fetched list too."""
    with zipfile.ZipFile(captured["wacz"]) as package:
        index = package.read("indexes/index.cdxj").decode().splitlines()
        warc = package.read("archive/data.warc.gz")
    where = {}
    for line in index:
        key, _stamp, fields = line.split(" ", 2)
        entry = json.loads(fields)
        where.setdefault(key, (int(entry["offset"]), int(entry["length"])))
    answered: list[str] = []
    missing: list[str] = []

    def from_archive(route: Any) -> None:
        url = route.request.url
        if surt(url) not in where:
            missing.append(url)
            route.abort()
            return
        start, length = where[surt(url)]
        record = next(iter(ArchiveIterator(io.BytesIO(warc[start:start + length]))))
        headers = {name: value for name, value in record.http_headers.headers
                   if not name.lower().startswith(("content-length", "x-archive-orig-"))}
        route.fulfill(status=int(record.http_headers.get_statuscode()), headers=headers,
                      body=record.content_stream().read())
        answered.append(url)

    session = session_or_skip()
    try:
        with session.context(viewport={"width": 800, "height": 600}) as context:
            page = context.new_page()
            page.route("**/*", from_archive)
            page.goto(captured["base"] + "/gallery", wait_until="load")
            page.wait_for_function("document.querySelectorAll('#list li').length === 4", timeout=10000)
            sizes = page.evaluate("[...document.images].map(i => [i.naturalWidth, i.naturalHeight])")
            frame = page.frame_locator("iframe").first.locator("p").inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "wacz-replay.png"))
    finally:
        session.close()
    assert not missing
    assert set(answered) >= {captured["base"] + path for path in LOADED}
    assert sizes == [[40, 30], [20, 20]]
    assert frame == "Blåbærsyltetøy på skjærgården"
