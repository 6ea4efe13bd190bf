"""Facebook Messenger / Instagram downloads: Latin-1 mojibake repaired (safely), BOM, newest
first across message_N.json files, media found in the download."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evidencekit.importers import detect, parse
from evidencekit.importers.messenger import repair

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports" / "messenger"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder is absent")


def _meta(text: str) -> str:
    """How Meta writes text: UTF-8 bytes shown as Latin-1 characters."""
    return text.encode("utf-8").decode("latin-1")


def test_repair_is_exact_and_safe() -> None:
    assert repair(_meta("Blåbær 😀")) == "Blåbær 😀"
    assert repair("Blåbær") == "Blåbær"  # Latin-1 range but not valid UTF-8: kept
    assert repair("emoji 😀 already right") == "emoji 😀 already right"
    assert repair("plain") == "plain"


@needs_corpus
def test_corpus_thread_with_bom_newest_first() -> None:
    path = CORPUS / "2A_7M.json"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert detect(path) == "messenger"
    t = parse(path)
    assert len(t.messages) == 7
    assert [m.sender for m in t.messages] == ["Bob", "Bob", "Alice", "Bob", "Bob", "Bob", "Alice"]
    assert [m.text for m in t.messages][-3:] == ["you what", "Whats up!", "Hello"]
    assert t.messages[0].time_written == "1415147240411"
    assert t.messages[0].time_utc == "2014-11-05T00:27:20.411000Z"
    assert t.messages[-1].time_utc == "2014-11-05T00:35:32.056000Z"
    assert [a.name for a in t.messages[0].attachments] == ["123123123123123.jpg"]
    assert t.messages[0].pointer == "/messages/6"  # oldest is last in the file
    assert t.details["participants"] == ["Alice", "Bob"]
    for msg in t.messages:
        obj = json.loads(raw[msg.offset:msg.offset + msg.length])
        assert str(obj["timestamp_ms"]) == msg.time_written


def test_split_thread_folder_with_mojibake_and_photo(tmp_path: Path) -> None:
    thread = tmp_path / "your_activity_across_facebook" / "messages" / "inbox" / "kari_123"
    (thread / "photos").mkdir(parents=True)
    photo = b"photo bytes"
    (thread / "photos" / "1.jpg").write_bytes(photo)
    common = {"participants": [{"name": _meta("Kari Ørn")}, {"name": "Ola"}],
              "title": _meta("Kari Ørn"), "thread_path": "inbox/kari_123"}
    newest = dict(common, messages=[
        {"sender_name": "Ola", "timestamp_ms": 1700000300000, "content": _meta("Nå går det 👍")},
        {"sender_name": _meta("Kari Ørn"), "timestamp_ms": 1700000200000, "is_unsent": True,
         "content": ""},
    ])
    oldest = dict(common, messages=[
        {"sender_name": _meta("Kari Ørn"), "timestamp_ms": 1700000100000,
         "photos": [{"uri": "messages/inbox/kari_123/photos/1.jpg", "creation_timestamp": 1}]},
        {"sender_name": "Ola", "timestamp_ms": 1700000000000, "content": "Hei"},
    ])
    (thread / "message_1.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(newest).encode())
    (thread / "message_2.json").write_bytes(json.dumps(oldest).encode())
    t = parse(tmp_path, fmt="instagram", me="Ola")
    assert t.details["app"] == "instagram"
    assert [(m.sender, m.text) for m in t.messages] == [
        ("Ola", "Hei"), ("Kari Ørn", ""), ("Kari Ørn", ""), ("Ola", "Nå går det 👍")]
    assert [m.source_file.rsplit("/", 1)[1] for m in t.messages] == [
        "message_2.json", "message_2.json", "message_1.json", "message_1.json"]
    assert t.messages[3].text_repair == "latin1-mojibake"
    assert t.messages[0].text_repair is None
    assert t.messages[2].deleted
    assert [m.from_me for m in t.messages] == [True, False, False, True]
    [att] = t.messages[1].attachments
    assert (att.status, att.sha256) == ("present", hashlib.sha256(photo).hexdigest())
    assert t.details["title"] == "Kari Ørn"
    assert any(n.code == "mojibake_repaired" for n in t.notices)
    raw1 = (thread / "message_1.json").read_bytes()
    newest_msg = t.messages[3]
    assert raw1[newest_msg.offset:newest_msg.offset + 1] == b"{"
    assert json.loads(raw1[newest_msg.offset:newest_msg.offset + newest_msg.length])[
        "timestamp_ms"] == 1700000300000
