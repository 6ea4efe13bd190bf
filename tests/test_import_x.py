"""X (Twitter) archive: DMs and group DMs from the .js files, numeric ids as identity, the owner
from manifest.js, HTML-escaped text with t.co links shown expanded, media found in the archive."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from evidencekit.importers import ImportFailed, detect, parse

OWNER, OTHER, THIRD = "1111111111", "2222222222", "3333333333"


def _dm(ident: str, sender: str, recipient: str, text: str, created: str, **more: object) -> dict:
    body = {"recipientId": recipient, "reactions": [], "urls": [], "text": text, "mediaUrls": [],
            "senderId": sender, "id": ident, "createdAt": created}
    body.update(more)
    return {"messageCreate": body}


DMS = [{"dmConversation": {"conversationId": f"{OWNER}-{OTHER}", "messages": [  # newest first
    _dm("1700000000000000003", OWNER, OTHER, "Stopp.", "2023-11-14T22:15:00.000Z"),
    _dm("1700000000000000002", OTHER, OWNER, "Du får det du fortjener &gt;:( https://t.co/AbC",
        "2023-11-14T22:13:20.123Z",
        urls=[{"url": "https://t.co/AbC", "expanded": "https://evil.example/kari",
               "display": "evil.example/kari"}],
        mediaUrls=["https://ton.twitter.com/dm/1700000000000000002/xyz/pic.jpg"]),
    {"messageCreate": {"recipientId": OWNER, "text": "Hei &amp; hallo", "mediaUrls": [],
                       "senderId": OTHER, "id": "1700000000000000001",
                       "createdAt": "2023-11-14T22:10:00.000Z"}},  # older archive: no urls
]}}]
GROUP = [{"dmConversation": {"conversationId": "1690000000000000000", "messages": [
    _dm("1690000000000000012", THIRD, "", "Alle vet det nå", "2023-07-01T10:05:00.000Z"),
    {"conversationNameUpdate": {"initiatingUserId": THIRD, "name": "Kari-gruppa",
                                "createdAt": "2023-07-01T10:01:00.000Z"}},
    {"joinConversation": {"initiatingUserId": THIRD, "participantsSnapshot": [OWNER, OTHER, THIRD],
                          "createdAt": "2023-07-01T10:00:00.000Z"}},
]}}]


def _js(name: str, value: object) -> bytes:
    return f"window.YTD.{name}.part0 = ".encode() + json.dumps(value, indent=2).encode()


def _archive(tmp_path: Path) -> Path:
    path = tmp_path / "twitter-2023-11-15-abc.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data/manifest.js", "window.__THAR_CONFIG = " + json.dumps(
            {"userInfo": {"accountId": OWNER, "userName": "kari_n", "displayName": "Kari"}}))
        z.writestr("data/direct-messages.js", _js("direct_messages", DMS))
        z.writestr("data/direct-messages-part1.js", _js("direct_messages", [{"dmConversation": {
            "conversationId": f"{OWNER}-{THIRD}", "messages": [
                _dm("1700000000000000009", THIRD, OWNER, "Del to", "2023-11-20T08:00:00.000Z")]}}]))
        z.writestr("data/direct-messages-group.js", _js("direct_messages_group", GROUP))
        z.writestr("data/direct_messages_media/1700000000000000002-pic.jpg", b"jpeg bytes")
        z.writestr("data/tweets.js", _js("tweets", []))
    return path


def test_archive_with_owner_and_groups(tmp_path: Path) -> None:
    path = _archive(tmp_path)
    assert detect(path) == "x"
    t = parse(path)
    assert t.details["owner"]["id"] == OWNER
    assert len(t.messages) == 7
    assert [m.sender_id for m in t.messages] == [OTHER, OTHER, OWNER, THIRD, THIRD, THIRD, THIRD]
    assert [m.from_me for m in t.messages] == [False, False, True, False, False, False, False]
    assert t.messages[3].source_file == "data/direct-messages-part1.js"
    assert t.messages[2].sender == "@kari_n" and t.messages[0].sender == OTHER
    assert [m.time_utc for m in t.messages[:3]] == [
        "2023-11-14T22:10:00.000000Z", "2023-11-14T22:13:20.123000Z", "2023-11-14T22:15:00.000000Z"]
    threat = t.messages[1]
    assert threat.text == "Du får det du fortjener &gt;:( https://t.co/AbC"
    assert threat.display == "Du får det du fortjener >:( https://evil.example/kari"
    assert t.messages[0].display == "Hei & hallo"
    assert threat.attachments[0].status == "present"
    assert threat.attachments[0].member == "data/direct_messages_media/1700000000000000002-pic.jpg"
    assert [m.conversation for m in t.messages] == [f"{OWNER}-{OTHER}"] * 3 + [f"{OWNER}-{THIRD}"] + [
        "1690000000000000000"] * 3
    assert [m.system for m in t.messages[4:]] == [True, True, False]
    assert t.details["group_names"] == {"1690000000000000000": "Kari-gruppa"}
    with zipfile.ZipFile(path) as z:
        raw = z.read("data/direct-messages.js")
    obj = json.loads(raw[threat.offset:threat.offset + threat.length])
    assert obj["messageCreate"]["id"] == threat.id == "1700000000000000002"
    assert threat.pointer == "/0/dmConversation/messages/1"


def test_single_file_without_manifest_uses_me(tmp_path: Path) -> None:
    path = tmp_path / "direct-messages.js"
    path.write_bytes(_js("direct_messages", DMS))
    t = parse(path, me=OWNER)
    assert t.format == "x" and [m.from_me for m in t.messages] == [False, False, True]
    assert parse(path).messages[0].from_me is None


def test_not_javascript_of_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "direct-messages.js"
    path.write_text("alert(1) = " + json.dumps(DMS))
    with pytest.raises(ImportFailed, match="not a data file of an X archive"):
        parse(path, fmt="x")


def test_cli_list_import_and_one_conversation(case_home: Path, tmp_path: Path) -> None:
    """Through the CLI: --list counts the conversations and stores nothing; the archive is the
    evidence, its transcript carries ids and the owner; --conversation keeps one."""
    from conftest import run_cli

    path = _archive(tmp_path)
    listed = run_cli("import", path, "--list", "--json")
    assert listed.code == 0, listed.err
    assert [(c["name"], c["messages"]) for c in listed.json()] == [
        (f"{OWNER}-{OTHER}", 3), (f"{OWNER}-{THIRD}", 1), ("1690000000000000000", 3)]
    assert run_cli("list", "--json").json() == []
    item = run_cli("import", path, "--no-stamp", "--json")
    assert item.code == 0, item.err
    assert item.json()["acquired"]["format"] == "x"
    messages = run_cli("transcript", "E-001", "--json").json()["messages"]
    assert [(m["sender_id"], m["from_me"]) for m in messages[:3]] == [
        (OTHER, False), (OTHER, False), (OWNER, True)]
    assert messages[1]["display"].endswith("https://evil.example/kari")
    done = run_cli("import", path, "--conversation", "1690000000000000000", "--no-stamp")
    assert done.code == 0, done.err
    group = run_cli("transcript", "E-002", "--json").json()["messages"]
    assert [m["sender_id"] for m in group] == [THIRD] * 3
