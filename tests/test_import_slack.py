"""Slack workspace export zip: per-channel per-day files, ts as UTC, markup kept in ``text`` and
resolved only in ``display``."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from evidencekit.importers import detect, parse
from evidencekit.importers.slack import display

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports" / "slack"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder is absent")


@needs_corpus
def test_corpus_workspace() -> None:
    path = CORPUS / "testarchive.zip"
    assert detect(path) == "slack"
    t = parse(path)
    with zipfile.ZipFile(path) as z:
        days = {n: z.read(n) for n in z.namelist() if n.count("/") == 1 and n.endswith(".json")}
    assert len(t.messages) == sum(len(json.loads(b)) for b in days.values()) == 158
    assert sum(m.conversation == "enrique" for m in t.messages) == 102
    assert sum(m.conversation == "traveling-sailor" for m in t.messages) == 56
    first = t.messages[0]
    assert (first.source_file, first.pointer) == ("enrique/2016-01-14.json", "/0")
    assert first.text == "<@U0BMQB6JE> has joined the channel"
    assert first.display == "@hamza has joined the channel"
    assert first.system and first.sender == "hamza" and first.sender_id == "U0BMQB6JE"
    assert (first.time_written, first.time_utc, first.tz_source) == (
        "1452837318.000002", "2016-01-15T05:55:18.000002Z", "export-utc")
    escaped = next(m for m in t.messages if "&lt;module&gt;" in m.text)
    assert "<module>" in escaped.display and "&lt;" not in escaped.display
    edited = next(m for m in t.messages if m.edited)
    assert edited.edited_utc == "2016-03-26T08:32:14.000000Z"
    shared = [m for m in t.messages if m.extra.get("subtype") == "file_share"]
    assert [a.name for m in shared for a in m.attachments] == ["100_cities.js", "10_cities.js",
                                                                "cities1000.js"]
    assert any(n.code == "files_not_messages" and "integration_logs.json" in n.params["files"]
               for n in t.notices)
    for msg in t.messages:
        data = days[msg.source_file]
        assert json.loads(data[msg.offset:msg.offset + msg.length])["ts"] == msg.id


def test_markup_display() -> None:
    users = {"U1": "kari"}
    channels = {"C1": "generelt"}
    text = "<@U1> se <#C1> og <https://ex.no|lenken> &lt;3 &amp; <!here> <@U2>"
    assert display(text, users, channels) == "@kari se #generelt og lenken <3 & @here @U2"


def test_folder_export(tmp_path: Path) -> None:
    (tmp_path / "generelt").mkdir()
    (tmp_path / "users.json").write_text(json.dumps([{"id": "U1", "name": "kari",
                                                      "profile": {"real_name": "Kari N"}}]))
    (tmp_path / "channels.json").write_text(json.dumps([{"id": "C1", "name": "generelt"}]))
    (tmp_path / "generelt" / "2024-01-02.json").write_text(json.dumps([
        {"type": "message", "user": "U1", "text": "hei &amp; hå", "ts": "1704200000.000100",
         "thread_ts": "1704100000.000100"}], ensure_ascii=False))
    t = parse(tmp_path)
    [msg] = t.messages
    assert (msg.sender, msg.text, msg.display) == ("Kari N", "hei &amp; hå", "hei & hå")
    assert msg.reply_to == "1704100000.000100"
    assert msg.extra["sender_from"] == "users.json"
