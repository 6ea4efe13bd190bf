"""Snapchat "My Data": both chat_history.json layouts, usernames as identity, UTC times, and the
notice that only saved messages are in the export."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from evidencekit.importers import ImportFailed, detect, parse
from evidencekit.importers.model import describe_gap

OLDER = {
    "Received Saved Chat History": [
        {"From": "harasser.99", "Media Type": "TEXT", "Created": "2021-03-01 21:47:12 UTC",
         "Text": "Jeg vet hvor du jobber, &#39;venn&#39;"},
        {"From": "harasser.99", "Media Type": "MEDIA", "Created": "2021-03-01 21:48:00 UTC",
         "Text": ""},
    ],
    "Sent Saved Chat History": [
        {"To": "harasser.99", "Media Type": "TEXT", "Created": "2021-03-01 21:47:30 UTC",
         "Text": "Slutt å skrive til meg"},
    ],
}
NEWER = {
    "harasser.99": [
        {"From": "harasser.99", "Media Type": "TEXT", "Created": "2024-06-01 08:00:01 UTC",
         "Content": "Svar da 😡", "Conversation Title": None, "IsSender": False,
         "Created(microseconds)": 1717228801000, "IsSaved": True},
        {"From": "kari.n", "Media Type": "TEXT", "Created": "2024-06-01 08:01:00 UTC",
         "Content": "Nei", "Conversation Title": None, "IsSender": True,
         "Created(microseconds)": 1717228860000, "IsSaved": True, "Media IDs": ""},
        {"From": "harasser.99", "Media Type": "MEDIA", "Created": "2024-06-01 08:02:00 UTC",
         "Content": None, "Conversation Title": None, "IsSender": False,
         "Created(microseconds)": 1717228920000, "IsSaved": True,
         "Media IDs": "b~EiQSFTM0SEdm | b~NotInTheExport"},
    ],
    "1f2e-group": [
        {"From": "someone.else", "Media Type": "NOTE", "Created": "2024-06-02 10:00:00 UTC",
         "Content": None, "Conversation Title": "Skiftet på lager", "IsSender": False,
         "Created(microseconds)": 1717322400000, "IsSaved": False},
    ],
}


def test_older_layout_in_time_order_with_owner(tmp_path: Path) -> None:
    path = tmp_path / "chat_history.json"
    path.write_text(json.dumps(OLDER, ensure_ascii=False), encoding="utf-8")
    assert detect(path) == "snapchat"
    t = parse(path)
    assert [m.time_utc for m in t.messages] == [
        "2021-03-01T21:47:12.000000Z", "2021-03-01T21:47:30.000000Z", "2021-03-01T21:48:00.000000Z"]
    assert t.messages[0].display == "Jeg vet hvor du jobber, 'venn'"
    assert [m.sender for m in t.messages] == ["harasser.99", None, "harasser.99"]  # the owner is unnamed
    assert [m.sender_id for m in t.messages] == ["harasser.99", None, "harasser.99"]
    assert [m.from_me for m in t.messages] == [False, True, False]
    assert {m.conversation for m in t.messages} == {"harasser.99"}
    assert t.messages[2].attachments[0].status == "omitted"
    assert t.gaps == ["snapchat_saved_only"]
    raw = path.read_bytes()
    for msg in t.messages:  # each message points at its own object in the original
        assert json.loads(raw[msg.offset:msg.offset + msg.length])["Created"] == msg.time_written


def test_newer_layout_in_the_zip(tmp_path: Path) -> None:
    path = tmp_path / "mydata~1717.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("json/chat_history.json", json.dumps(NEWER, ensure_ascii=False))
        z.writestr("json/snap_history.json", "{}")
        z.writestr("chat_media/2024-06-01_b~EiQSFTM0SEdm.jpg", b"jpg")
        z.writestr("index.html", "<html></html>")
    assert detect(path) == "snapchat"
    t = parse(path)
    assert len(t.messages) == 4
    assert [m.sender_id for m in t.messages] == ["harasser.99", "kari.n", "harasser.99", "someone.else"]
    assert [m.from_me for m in t.messages] == [False, True, False, False]
    assert [m.conversation for m in t.messages] == ["harasser.99"] * 3 + ["Skiftet på lager"]
    pictures = t.messages[2].attachments
    assert [(a.name, a.status, a.member) for a in pictures] == [
        ("2024-06-01_b~EiQSFTM0SEdm.jpg", "present", "chat_media/2024-06-01_b~EiQSFTM0SEdm.jpg"),
        ("b~NotInTheExport", "missing", None)]
    assert t.messages[0].text == "Svar da 😡"
    assert t.messages[0].time_utc == "2024-06-01T08:00:01.000000Z"
    assert t.messages[3].text == "" and t.messages[3].attachments[0].status == "omitted"
    assert t.messages[0].source_file == "json/chat_history.json"
    assert describe_gap(t.gaps[0], "nb").startswith("Snapchat eksporterer bare")


def test_unreadable_time_is_kept_and_said(tmp_path: Path) -> None:
    data = {"Received Saved Chat History": [{"From": "a", "Media Type": "TEXT",
                                             "Created": "yesterday", "Text": "x"}]}
    path = tmp_path / "chat_history.json"
    path.write_text(json.dumps(data))
    t = parse(path, fmt="snapchat")
    assert t.messages[0].time_utc is None
    assert "unreadable_time" in [n.code for n in t.notices]


def test_zip_without_chat_history_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("json/account.json", "{}")
    with pytest.raises(ImportFailed, match="No Snapchat chat_history.json"):
        parse(path, fmt="snapchat")
