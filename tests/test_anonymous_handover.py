"""An anonymous case handed over carries nothing that points to the worker or her computer.

A case made with ``case new --anonymous`` holds a note, a file whose modification time was set, and
a capture of a loopback page through a named browser profile; it is sealed with its report. Every
byte of every member (and the report's text) is searched for the identity key, the user's name,
the home folder, the host name, the locker's path, the file's time in each form it could be
written, the profile's name and the browser's full user-agent string.
"""

from __future__ import annotations

import base64
import getpass
import io
import json
import os
import re
import shutil
import socket
import subprocess
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from bundle_support import invoke
from evidencekit._internal import keys

MTIME = datetime(2019, 7, 14, 13, 37, 21, tzinfo=timezone.utc)
PROFILE = "kari-privat-profil"


def ok(*args: str | Path) -> str:
    done = invoke(*args)
    assert done.code == 0, (args, done.out, done.err)
    return done.out


def capture_page(profile: bool) -> bool:
    """Capture a loopback page into the current case; False if there is no browser here."""
    from evidencekit._internal.browser import BrowserNotFound, find_browser
    from evidencekit._internal.demo_site import serve_demo

    try:
        find_browser()
    except BrowserNotFound:
        return False
    with serve_demo() as site:
        ok("capture", site.url("post"), "--who", "customer", "--no-stamp", *(["--profile", PROFILE] if profile else []))
    return True


def sent_user_agent(har: bytes) -> str:
    """The User-Agent header the browser sent, from the capture's network record."""
    entries = json.loads(har)["log"]["entries"]
    return next(h["value"] for e in entries for h in e["request"]["headers"] if h["name"].lower() == "user-agent")


def contains(name: str, data: bytes, needle: bytes) -> bool:
    """Whether a member holds ``needle``. A short one (a host called "vm") would turn up by chance in
    pictures and base64, so it counts only as a whole word in a member that is text."""
    if len(needle) >= 8:
        return needle in data
    if name.endswith((".png", ".pdf", ".pem", ".mhtml", ".har", ".minisig")):
        return False
    return re.search(rb"(?<![A-Za-z0-9])" + re.escape(needle) + rb"(?![A-Za-z0-9])", data) is not None


def forms_of_time(moment: datetime) -> set[str]:
    """The ways a file time could be written: RFC 3339 in UTC and local, epoch seconds, ZIP-style local."""
    local = moment.astimezone()
    return {moment.strftime("%Y-%m-%dT%H:%M:%S"), local.strftime("%Y-%m-%dT%H:%M:%S"),
            local.strftime("%Y-%m-%d %H:%M"), moment.strftime("%Y-%m-%d %H:%M"), str(int(moment.timestamp()))}


def test_a_named_case_does_record_what_the_anonymous_one_leaves_out(home: Path, tmp_path: Path) -> None:
    """The control: the same file in an ordinary case keeps its time, so the scan below can fail."""
    ok("init", "--kdf", "interactive")
    ok("case", "new", "Named")
    chat = tmp_path / "chat.txt"
    chat.write_text("hello", encoding="utf-8")
    os.utime(chat, (MTIME.timestamp(), MTIME.timestamp()))
    item = json.loads(ok("add", chat, "--no-stamp", "--json"))[0]
    assert item["files"][0]["modified"].startswith(MTIME.strftime("%Y-%m-%dT%H:%M:%S"))


def test_an_anonymous_bundle_names_nothing_of_her(home: Path, tmp_path: Path) -> None:
    ok("init", "--kdf", "interactive")
    identity = json.loads(ok("keys", "show", "--json"))
    ok("case", "new", "Uten navn", "--anonymous")
    ok("note", "Han ringte meg tre ganger i natt.", "--date", "2026-03-01", "--where", "hjemme",
       "--person", "ukjent nummer", "--no-stamp")
    chat = tmp_path / "skjermbilde.txt"
    chat.write_text("Du får se hva som skjer.", encoding="utf-8")
    os.utime(chat, (MTIME.timestamp(), MTIME.timestamp()))
    ok("add", chat, "--who", "customer", "--no-stamp")
    captured = capture_page(profile=True)

    items = json.loads(ok("list", "--json"))
    assert all(f.get("modified") is None for i in items if i["kind"] != "diary" for f in i["files"])
    bundle = tmp_path / "anonym.zip"
    ok("seal", "--plain", "-o", bundle, "--no-stamp")
    assert json.loads(ok("verify", bundle, "--json"))["verdict"] in ("valid", "valid_with_warnings")

    with zipfile.ZipFile(bundle) as z:
        members = {name: z.read(name) for name in z.namelist()}
        stamps = {info.filename: info.date_time for info in z.infolist()}
    assert not [name for name, when in stamps.items() if when[0] == MTIME.year]
    pdfs = [name for name in members if name.endswith(".pdf")]
    assert pdfs, "the bundle carries its report"
    if shutil.which("pdftotext"):
        for name in pdfs:
            (tmp_path / "r.pdf").write_bytes(members[name])
            text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "r.pdf"), "-"],
                                  capture_output=True, text=True, check=True).stdout
            members[f"{name} (text)"] = text.encode()
            members[f"{name} (text, joined)"] = "".join(text.split()).encode()
    assert any(b"ukjent nummer" in data for data in members.values())  # the search finds what is there

    raw_key = keys.parse_public_key(identity["public_key"])
    secrets: dict[str, list[bytes]] = {
        "identity key": [raw_key, *(v.encode() for v in (identity["public_key"], raw_key.hex(),
                                                          base64.b64encode(raw_key).decode(), identity["fingerprint"],
                                                          identity["fingerprint"].replace(" ", "")))],
        # as it appears in paths and addresses: a bare name such as "root" or "ci" is also a word
        "user name": [form.format(getpass.getuser()).encode() for form in ("/{}/", "\\{}\\", "{}@", "user={}")],
        "home folder": [str(Path.home()).encode()],
        "host name": [socket.gethostname().encode()],
        "locker": [str(home).encode(), str(home.resolve()).encode(), str(tmp_path).encode()],
        "file time": [form.encode() for form in forms_of_time(MTIME)],
    }
    scanned = dict(members)
    if captured:
        [har] = [name for name in members if name.endswith("traffic.har")]
        secrets["profile"] = [PROFILE.encode()]
        # The network record keeps the headers as the site received them (see docs/bundle-format.md);
        # nothing else may repeat the full user-agent string.
        secrets["user agent"] = [sent_user_agent(members[har]).encode()]
        scanned.pop(har)
        assert not [s for s in secrets.values() for v in s if v in members[har] and v not in secrets["user agent"]]
        # The WACZ replays the same traffic (its WARC is gzipped: scanned unpacked, as the HAR).
        [wacz] = [name for name in members if name.endswith("page.wacz")]
        with zipfile.ZipFile(io.BytesIO(members[wacz])) as package:
            warc = package.read("archive/data.warc.gz")
            rest = b"".join(package.read(n) for n in package.namelist() if not n.startswith("archive/"))
        scanned.pop(wacz)
        scanned[f"{wacz} (index, pages, manifest)"] = rest
        for record in ArchiveIterator(io.BytesIO(warc)):
            kind = record.rec_headers.get_header("Content-Type") or ""
            if record.http_headers is not None:
                kind = record.http_headers.get_header("Content-Type") or kind
            data = record.rec_headers.to_bytes() + (record.http_headers.to_bytes() if record.http_headers
                                                   else b"") + record.content_stream().read()
            label = "record.png" if kind.startswith("image/") else "record.txt"
            assert not [what for what, needles in secrets.items() if what != "user agent"
                        for v in needles if contains(label, data, v)], record.rec_headers
    for what, needles in secrets.items():
        for needle in needles:
            found = [name for name, data in scanned.items() if contains(name, data, needle)]
            assert not found, (what, needle, found)
    if not captured:
        pytest.skip("no browser here: the note and the file were scanned, a capture was not")


def test_an_anonymous_capture_keeps_the_browser_version_only(home: Path) -> None:
    ok("init", "--kdf", "interactive")
    ok("case", "new", "Uten navn", "--anonymous")
    if capture_page(profile=False) is None:
        pytest.skip("no browser to capture with")
    browser = json.loads(ok("show", "E-001", "--json"))["acquired"]["browser"]
    assert browser["name"] == "chromium" and browser["version"] and "user_agent" not in browser
