"""TikTok user_data.json: the chat keys ending in a colon, a deleted account, null lists, both
spellings of Date, the owner from the profile, and times read as UTC (said so)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from evidencekit.importers import detect, parse

EXPORT = {
    "Activity": {"Video Browsing History": {"VideoList": [{"Date": "2024-01-01 10:00:00",
                                                           "Link": "https://www.tiktok.com/x"}]}},
    "App Settings": {"Block List": {"BlockList": None}},
    "Direct Message": {"Direct Messages": {"ChatHistory": {
        "Chat History with troll.account:": [
            {"Date": "2024-02-03 19:20:21", "From": "troll.account", "Content": "Du er stygg &#128545;"},
            {"date": "2024-02-03 19:25:00", "from": "kari.tt", "content": "Blokkerer deg nå"},
        ],
        "Chat History with :": [
            {"Date": "2023-12-24 23:59:59", "From": "", "Content": "Jeg ser deg"},
        ],
        "Chat History with venn_1:": None,
    }}},
    "Profile": {"Profile Information": {"ProfileMap": {"userName": "kari.tt", "bioDescription": ""}}},
}


def test_user_data_with_deleted_account(tmp_path: Path) -> None:
    path = tmp_path / "user_data_tiktok.json"
    path.write_text(json.dumps(EXPORT, ensure_ascii=False), encoding="utf-8")
    assert detect(path) == "tiktok"
    t = parse(path)
    assert len(t.messages) == 3
    assert [m.sender_id for m in t.messages] == ["troll.account", "kari.tt", None]
    assert [m.from_me for m in t.messages] == [False, True, None]
    assert [m.conversation for m in t.messages] == ["troll.account", "troll.account",
                                                    "Chat History with :"]
    assert [m.time_utc for m in t.messages] == [
        "2024-02-03T19:20:21.000000Z", "2024-02-03T19:25:00.000000Z", "2023-12-24T23:59:59.000000Z"]
    assert t.messages[0].text == "Du er stygg &#128545;"  # kept exactly as TikTok wrote it
    codes = [n.code for n in t.notices]
    assert codes == ["tiktok_utc_assumed", "deleted_account"]
    assert t.gaps == ["tiktok_no_videos"] and (t.me, t.me_origin) == ("kari.tt", "export")
    assert t.details["owner"] == "kari.tt"
    raw = path.read_bytes()
    assert json.loads(raw[t.messages[1].offset:t.messages[1].offset + t.messages[1].length])["from"] == "kari.tt"


def test_newer_section_name_in_zip(tmp_path: Path) -> None:
    newer = {"Direct Messages" if k == "Direct Message" else k: v for k, v in EXPORT.items()}
    path = tmp_path / "TikTok_Data_1700000000.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("user_data_tiktok.json", json.dumps(newer))
    t = parse(path)
    assert t.format == "tiktok" and len(t.messages) == 3
    assert t.messages[0].source_file == "user_data_tiktok.json"
