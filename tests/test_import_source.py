"""What every import shares: the original hashed first, zips read safely (names, bombs, lies,
passwords, duplicates), folders hashed by a manifest, detection by content, one JSON form
(whole or streamed), and every sentence present in bokmål and English."""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import zipfile
from pathlib import Path

import pytest

from evidencekit.i18n import catalog
from evidencekit.importers import (ImportFailed, UnknownFormat, detect, formats, parse, stream,
                                   write_transcript)
from evidencekit.importers._source import Source
from evidencekit.importers.model import describe_tz_source

CHAT = "18.03.2022, 14:56 - Kari: Hei\n18.03.2022, 14:57 - Ola: Hallo\nmed to linjer\n"
PACKAGE = Path(__file__).resolve().parents[1] / "evidencekit"


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_every_format_module_is_found() -> None:
    assert set(formats()) >= {"whatsapp", "telegram", "discord", "slack", "messenger",
                              "instagram", "sms", "email", "outlook-msg", "messenger-e2ee",
                              "snapchat", "linkedin", "x", "twitter", "tiktok", "google-chat",
                              "discord-package", "facebook-html", "instagram-html"}


def test_unknown_and_missing_inputs(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("just some notes\nnothing to see\n")
    with pytest.raises(UnknownFormat) as caught:
        detect(odd)
    assert "whatsapp" in str(caught.value) and caught.value.exit_code == 2
    with pytest.raises(ImportFailed, match="does not exist"):
        parse(tmp_path / "nope.txt")
    with pytest.raises(ImportFailed, match="Unknown format"):
        parse(odd, fmt="myspace")
    with pytest.raises(ImportFailed, match="Unknown time zone"):
        parse(odd, fmt="whatsapp", tz="Europe/Atlantis")


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "a/../../b.txt", "C:/x.txt",
                                  "dir\\..\\x.txt"])
def test_zip_slip_names_are_refused(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "chat.zip", {"_chat.txt": CHAT.encode(), name: b"x"})
    with pytest.raises(ImportFailed, match="unsafe name"):
        parse(archive)


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "chat.zip", {"_chat.txt": CHAT.encode(),
                                            "IMG-20220318-WA0001.jpg": b"\0" * (30 << 20)})
    assert archive.stat().st_size < 100_000
    with pytest.raises(ImportFailed, match="zip bomb"):
        parse(archive)


def test_zip_that_lies_about_sizes_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "chat.zip", {"_chat.txt": CHAT.encode()}, zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    # shrink the declared uncompressed size in the local and the central header
    real = len(CHAT.encode())
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = data.index(sig)
        assert struct.unpack_from("<I", data, pos + at)[0] == real
        struct.pack_into("<I", data, pos + at, real - 10)
    archive.write_bytes(bytes(data))
    with pytest.raises(ImportFailed, match="damaged"):
        parse(archive)


def test_encrypted_and_duplicate_members(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "chat.zip", {"_chat.txt": CHAT.encode()}, zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = data.index(sig)
        struct.pack_into("<H", data, pos + at, struct.unpack_from("<H", data, pos + at)[0] | 1)
    archive.write_bytes(bytes(data))
    with pytest.raises(ImportFailed, match="password"):
        parse(archive)
    twice = tmp_path / "twice.zip"
    with pytest.warns(UserWarning), zipfile.ZipFile(twice, "w") as z:
        z.writestr("_chat.txt", CHAT)
        z.writestr("_chat.txt", "18.03.2022, 14:56 - Kari: Endret\n")
    with pytest.raises(ImportFailed, match="two files called"):
        parse(twice)


def test_damaged_zip(tmp_path: Path) -> None:
    bad = tmp_path / "chat.zip"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ImportFailed, match="damaged or not a zip"):
        parse(bad)


def test_folder_manifest_hash_and_skipped_links(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "_chat.txt").write_text(CHAT)
    (folder / "IMG-20220318-WA0001.jpg").write_bytes(b"jpeg")
    (folder / "outside").symlink_to(tmp_path)
    t = parse(folder)
    lines = sorted(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
                   for p in folder.iterdir() if not p.is_symlink())
    assert t.source.kind == "folder"
    assert t.source.sha256 == hashlib.sha256("".join(lines).encode()).hexdigest()
    assert [f.path for f in t.source.files] == ["IMG-20220318-WA0001.jpg", "_chat.txt"]
    assert [(n.code, n.params) for n in t.notices] == [("symlink_skipped", {"path": "outside"})]


def test_change_during_import_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(CHAT)
    src = Source(path)
    src.verify_unchanged()
    path.write_text(CHAT + "18.03.2022, 14:58 - Kari: lagt til\n")
    with pytest.raises(ImportFailed, match="changed while"):
        src.verify_unchanged()


def test_json_form_whole_and_streamed_are_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(CHAT)
    transcript = parse(path)
    whole = transcript.to_json()
    out = io.BytesIO()
    header = write_transcript(path, out)
    assert out.getvalue() == whole
    assert header.messages == []
    data = json.loads(whole)
    assert data["schema"] == "evidencekit.transcript/1"
    assert data["message_count"] == 2 and len(data["messages"]) == 2
    assert data["source"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data["source"]["name"] == "chat.txt"  # never a full path of this machine
    assert str(tmp_path) not in whole.decode()
    message = data["messages"][1]
    for key in ("index", "sender", "time_written", "time_utc", "tz_source", "text", "system",
                "attachments", "edited", "deleted", "reply_to", "offset"):
        assert key in message
    assert message["text"] == "Hallo\nmed to linjer"
    assert transcript.to_dict() == data


def test_stream_gives_messages_one_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(CHAT)
    with stream(path) as running:
        assert running.transcript.date_order == "dmy"  # decided before the first message
        first = next(running.messages)
        assert first.text == "Hei"
        assert [m.index for m in running.messages] == [1]


def test_lone_surrogate_text_still_gives_valid_json(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1, '
                    '"type": "message", "date_unixtime": "1", "from": "a", "text": "\\ud83d", '
                    '"text_entities": []}]}')
    t = parse(path)
    assert t.messages[0].text == "\ud83d"
    assert json.loads(t.to_json())["messages"][0]["text"] == "\ud83d"


def test_tz_source_sentences() -> None:
    assert describe_tz_source("given:Europe/Oslo", "en") == (
        "The export stores local times without a zone; read in Europe/Oslo, the zone given at import.")
    assert "standardsonen" in describe_tz_source("default:Europe/Oslo", "nb")
    assert describe_tz_source(None) is None


def test_every_sentence_the_importers_use_exists_in_both_languages() -> None:
    en, nb = catalog("en", "importers"), catalog("nb", "importers")
    code = "\n".join(p.read_text() for p in (PACKAGE / "importers").glob("*.py"))
    keys = {k for k in re.findall(r'"importers\.([a-z_0-9]+)"', code) if not k.endswith("_")}
    keys |= {"notice_" + c for c in re.findall(r'notice\(\s*"([a-z_0-9]+)"', code)}
    keys |= {"notice_local_time_ambiguous", "notice_local_time_nonexistent",
             "notice_symlink_skipped", "notice_special_skipped"}
    assert keys - set(en) == set() and keys - set(nb) == set()


@pytest.mark.parametrize("name, content", [
    ("result.json", {"name": "x", "type": "personal_chat", "id": 1, "text_entities": [], "messages": [
        {"id": 1, "type": "message", "date_unixtime": "Infinity", "from": "a", "text": "bad"},
        {"id": 2, "type": "message", "date_unixtime": "1", "from": "a", "text": "good"}]}),
    ("channel.json", {"guild": {"name": "g"}, "channel": {"name": "c"}, "messages": [
        {"id": "9" * 40, "timestamp": "yesterday", "content": "bad", "author": {"name": "a"}},
        {"id": "1", "timestamp": "1970-01-01T00:00:01+00:00", "content": "good",
         "author": {"name": "a"}}]}),
    ("message_1.json", {"participants": [{"name": "a"}], "messages": [
        {"sender_name": "a", "timestamp_ms": 1000, "content": "good"},
        {"sender_name": "a", "timestamp_ms": 1e400, "content": "bad"}]}),
])
def test_one_unreadable_time_does_not_sink_the_import(tmp_path: Path, name: str,
                                                       content: dict[str, object]) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(content).replace("1e+400", "1e400"))
    t = parse(path)
    times = {m.text: m.time_utc for m in t.messages}
    assert times["bad"] is None
    assert times["good"] == "1970-01-01T00:00:01.000000Z"
    assert any(n.code == "unreadable_time" for n in t.notices)
