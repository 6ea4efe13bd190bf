"""Google Chat from Takeout: e-mail addresses as identity, the owner from user_info.json, worded
dates (with U+202F before PM), spaces and DMs as conversations, attachments found."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from evidencekit.importers import detect, parse

BOSS = {"name": "Per Hansen", "email": "per.hansen@example.com", "user_type": "Human"}
KARI = {"name": "Kari Nordmann", "email": "Kari.Nordmann@example.com", "user_type": "Human"}


def _takeout(tmp_path: Path) -> Path:
    root = "Takeout/Google Chat/"
    dm = {"messages": [
        {"creator": BOSS, "created_date": "Monday, 1 March 2024 at 21:47:12 UTC",
         "text": "Du er ferdig her", "topic_id": "t1", "message_id": "dm1/t1/t1"},
        {"creator": KARI, "created_date": "Tuesday, March 2, 2024 at 9:05:00\u202fAM UTC",
         "text": "Jeg tar vare på dette", "topic_id": "t2", "message_id": "dm1/t2/t2",
         "attached_files": [{"original_name": "skjerm.png", "export_name": "File-skjerm.png"}]},
    ]}
    space = {"messages": [
        {"creator": BOSS, "created_date": "Wednesday, 3 July 2024 at 08:00:00 UTC",
         "text": "@Kari Nordmann møt opp kl 7", "annotations": [{"start_index": 0}]},
        {"creator": {"name": "Deleted User", "user_type": "Human"},
         "created_date": "Wednesday, 3 July 2024 at 08:01:00 UTC", "text": "haha"},
    ]}
    path = tmp_path / "takeout-20240801.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(root + "Users/User 1234/user_info.json", json.dumps({"user": KARI}))
        z.writestr(root + "Groups/DM abc/group_info.json", json.dumps({"members": [BOSS, KARI]}))
        z.writestr(root + "Groups/DM abc/messages.json", json.dumps(dm, ensure_ascii=False))
        z.writestr(root + "Groups/DM abc/File-skjerm.png", b"png")
        z.writestr(root + "Groups/Space xyz/group_info.json", json.dumps({"name": "Lager Oslo",
                                                                          "members": [BOSS]}))
        z.writestr(root + "Groups/Space xyz/messages.json", json.dumps(space, ensure_ascii=False))
    return path


def test_takeout_with_owner(tmp_path: Path) -> None:
    path = _takeout(tmp_path)
    assert detect(path) == "google-chat"
    t = parse(path)
    assert len(t.messages) == 4
    assert [m.sender_id for m in t.messages] == [
        "per.hansen@example.com", "Kari.Nordmann@example.com", "per.hansen@example.com", None]
    assert [m.from_me for m in t.messages] == [False, True, False, False]
    assert [m.time_utc for m in t.messages] == [
        "2024-03-01T21:47:12.000000Z", "2024-03-02T09:05:00.000000Z",
        "2024-07-03T08:00:00.000000Z", "2024-07-03T08:01:00.000000Z"]
    assert [m.conversation for m in t.messages] == [
        "Per Hansen, Kari Nordmann", "Per Hansen, Kari Nordmann", "Lager Oslo", "Lager Oslo"]
    attachment = t.messages[1].attachments[0]
    assert attachment.name == "skjerm.png" and attachment.status == "present"
    assert t.messages[3].sender == "Deleted User"
    assert t.details["owner"] == "kari.nordmann@example.com"


def test_one_messages_json_alone(tmp_path: Path) -> None:
    path = tmp_path / "messages.json"
    path.write_text(json.dumps({"messages": [
        {"creator": BOSS, "created_date": "fredag 5. januar 2024 kl. 10:00:00 UTC", "text": "x"},
        {"creator": BOSS, "created_date": "someday", "text": "y"}]}))
    t = parse(path, me="per.hansen@example.com")
    assert t.format == "google-chat"
    assert t.messages[0].time_utc == "2024-01-05T10:00:00.000000Z" and t.messages[0].from_me
    assert t.messages[1].time_utc is None
    assert [n.code for n in t.notices] == ["unreadable_time"]


def test_list_and_choose_conversations(tmp_path: Path) -> None:
    """Each space or DM is a conversation that --list counts and --conversation chooses."""
    from evidencekit.importers import conversations

    path = _takeout(tmp_path)
    found = [(c.name, c.messages, c.first_utc, c.last_utc) for c in conversations(path)]
    assert found == [
        ("Lager Oslo", 2, "2024-07-03T08:00:00.000000Z", "2024-07-03T08:01:00.000000Z"),
        ("Per Hansen, Kari Nordmann", 2, "2024-03-01T21:47:12.000000Z", "2024-03-02T09:05:00.000000Z")]
    chosen = parse(path, conversations=["lager"])
    assert [m.index for m in chosen.messages] == [2, 3]
    assert chosen.details["conversations_shown"] == ["Lager Oslo"]
