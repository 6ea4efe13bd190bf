"""DiscordChatExporter JSON: offsets in timestamps, edits, attachments, and the free check that a
message's id (snowflake) encodes the same time as its timestamp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidencekit.importers import detect, parse
from evidencekit.importers._time import format_utc, snowflake_time

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports" / "discord"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder is absent")


def test_snowflake_time() -> None:
    # Discord's documented example id 175928847299117063 was made at 2016-04-30 11:18:25.796 UTC
    assert format_utc(snowflake_time(175928847299117063)) == "2016-04-30T11:18:25.796000Z"


@needs_corpus
def test_corpus_channel() -> None:
    path = CORPUS / "SV_5A_5M.json"
    raw = path.read_bytes()
    assert detect(path) == "discord"
    t = parse(path)
    assert len(t.messages) == 5
    assert t.details["guild"] == "DefleMask" and t.details["channel"] == "general-chiptune"
    assert [m.sender for m in t.messages] == ["Deleted User", "Deleted User", "mlomb", "mlomb",
                                              "mlomb"]
    first = t.messages[0]
    assert first.text == "This message has been edited and written by a deleted user."
    assert (first.time_written, first.time_utc, first.tz_source) == (
        "2018-05-20T16:09:44.209+00:00", "2018-05-20T16:09:44.209000Z", "export-offset")
    assert (first.edited, first.edited_utc) == (True, "2018-05-20T16:09:56.439000Z")
    assert [(a.name, a.status, a.sha256) for a in t.messages[3].attachments] == [
        ("unknown.png", "missing", None)]
    assert t.messages[3].extra["stickers"][0]["name"] == "Laugh"
    codes = [(n.code, n.message_index) for n in t.notices]
    # the hand-edited message (and its duplicate) disagree with their id's time
    assert ("snowflake_mismatch", 0) in codes and ("snowflake_mismatch", 1) in codes
    assert ("duplicate_id", 1) in codes
    mismatch = next(n for n in t.notices if n.code == "snowflake_mismatch")
    assert mismatch.params["id_time"] == "2018-06-20T23:22:51.192000Z"
    assert "edited after export" in mismatch.text("en")
    assert not any(n.code == "snowflake_mismatch" and n.message_index > 1 for n in t.notices)
    for msg in t.messages:
        assert json.loads(raw[msg.offset:msg.offset + msg.length])["id"] == msg.id
