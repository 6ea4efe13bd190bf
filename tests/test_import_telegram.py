"""Telegram Desktop result.json: joined text entities, UTC from date_unixtime, local dates read in
the chosen zone, offsets of every message object, single-chat and full exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidencekit.importers import ImportFailed, detect, parse

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports" / "telegram"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder is absent")


@needs_corpus
def test_corpus_chat() -> None:
    path = CORPUS / "DM_2A_7M.json"
    raw = path.read_bytes()
    assert detect(path) == "telegram"
    t = parse(path)
    assert len(t.messages) == raw.count(b'"type": "message"') + raw.count(b'"type": "service"') == 8
    assert [m.id for m in t.messages] == ["2675", "3644", "3645", "3662", "3663", "3672", "3673",
                                          "3674"]
    assert [m.sender for m in t.messages] == ["Bob", "Bob", "Alice", "Bob", "Alice", "Alice",
                                              "Alice", "Alice"]
    assert [m.system for m in t.messages] == [True] + [False] * 6 + [True]
    # a list of a link entity and a plain string, joined without adding anything
    assert t.messages[1].text == "https://google.com 👀"
    assert t.messages[2].text == "hello world"
    # date only: the exporter's local time, read in the default zone
    assert t.messages[1].time_written == "2019-07-12T16:55:32"
    assert t.messages[1].time_utc == "2019-07-12T14:55:32.000000Z"
    assert t.messages[1].tz_source == "default:Europe/Oslo"
    # date_unixtime: UTC from the export itself
    assert t.messages[3].time_written == "1652135033"
    assert (t.messages[3].time_utc, t.messages[3].tz_source) == (
        "2022-05-09T22:23:53.000000Z", "export-utc")
    last = t.messages[7]
    assert (last.time_written, last.time_utc) == ("2023-08-10T23:11:02", "2023-08-11T02:11:02.000000Z")
    assert last.extra["action"] == "phone_call" and last.extra["duration_seconds"] == 56
    # both values on one message show the exporting computer was 3 hours behind UTC
    [notice] = t.notices
    assert (notice.code, notice.params["observed"]) == ("telegram_offset_differs", "-03:00")
    assert [(a.status, a.ref[:18]) for a in t.messages[5].attachments] == [
        ("omitted", "(File not included")]
    for i, msg in enumerate(t.messages):
        assert msg.pointer == f"/messages/{i}"
        obj = json.loads(raw[msg.offset:msg.offset + msg.length])
        assert obj["id"] == int(msg.id)


@needs_corpus
def test_corpus_chat_in_the_exporters_zone() -> None:
    t = parse(CORPUS / "DM_2A_7M.json", tz="America/Argentina/Buenos_Aires")
    assert t.messages[1].time_utc == "2019-07-12T19:55:32.000000Z"
    assert t.notices == []  # the written local times now fit the zone


FULL = {
    "about": "Here is the data you requested.",
    "personal_information": {"first_name": "Kari"},
    "chats": {"about": "chats", "list": [
        {"name": "Ola", "type": "personal_chat", "id": 1, "messages": [
            {"id": 1, "type": "message", "date": "2023-03-26T01:59:00",
             "date_unixtime": "1679792340", "from": "Ola", "from_id": "user1",
             "text": ["Se ", {"type": "bold", "text": "dette"}, "!"],
             "edited": "2023-03-26T03:10:00", "edited_unixtime": "1679793000"},
            {"id": 2, "type": "message", "date": "2023-03-26T03:01:00",
             "date_unixtime": "1679792460", "from": "Kari", "from_id": "user2",
             "text": "svar", "reply_to_message_id": 1,
             "photo": "photos/photo_1@26-03-2023_03-01-00.jpg"},
        ]},
        {"name": "Gruppe", "type": "private_group", "id": 2, "messages": [
            {"id": 1, "type": "message", "date": "2023-03-27T10:00:00",
             "date_unixtime": "1679904000", "from": None, "from_id": "user9", "text": "slettet konto"},
        ]},
    ]},
}


def test_full_export_folder_with_photo(tmp_path: Path) -> None:
    folder = tmp_path / "DataExport_2023-03-28"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "photo_1@26-03-2023_03-01-00.jpg").write_bytes(b"jpeg bytes")
    (folder / "result.json").write_text(json.dumps(FULL, ensure_ascii=False, indent=1), "utf-8")
    assert detect(folder) == "telegram"
    t = parse(folder, me="Kari")
    assert t.source.kind == "folder"
    assert t.details["export"] == "full"
    assert [(m.conversation, m.id, m.sender) for m in t.messages] == [
        ("Ola", "1", "Ola"), ("Ola", "2", "Kari"), ("Gruppe", "1", None)]
    first, second, third = t.messages
    assert first.text == "Se dette!"
    assert (first.edited, first.edited_utc) == (True, "2023-03-26T01:10:00.000000Z")
    assert second.reply_to == "1" and second.from_me is True
    assert [(a.status, a.member) for a in second.attachments] == [
        ("present", "photos/photo_1@26-03-2023_03-01-00.jpg")]
    assert first.pointer == "/chats/list/0/messages/0"
    assert third.pointer == "/chats/list/1/messages/0"
    assert not any(n.code == "duplicate_id" for n in t.notices)  # ids repeat only across chats
    raw = (folder / "result.json").read_bytes()
    assert json.loads(raw[third.offset:third.offset + third.length])["text"] == "slettet konto"


def test_truncated_json_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(FULL)[:300], "utf-8")
    with pytest.raises(ImportFailed) as caught:
        parse(path, fmt="telegram")
    assert "not valid JSON" in str(caught.value)
    assert "ikke gyldig JSON" in caught.value.message("nb")


def test_wrong_shape_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"messages": [{"id": 1, "type": "message", "text": 5}]}', "utf-8")
    with pytest.raises(ImportFailed, match="structure of a telegram export"):
        parse(path, fmt="telegram")
