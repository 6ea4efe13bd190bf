"""Discord's own data package: recognised apart from DiscordChatExporter, imported with the
owner's id, and marked plainly as holding only her own messages."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from evidencekit.importers import detect, parse
from evidencekit.importers.model import describe_gap

OWNER = "80351110224678912"


def _snowflake(iso: str) -> int:
    """The id Discord would give a message created at ``iso`` (ms since 2015, shifted)."""
    from datetime import datetime
    ms = int(datetime.fromisoformat(iso).timestamp() * 1000)
    return (ms - 1420070400000) << 22


FIRST_ID = _snowflake("2023-11-20T10:00:00.123+00:00")


def package(path: Path) -> Path:
    """A data package with a DM (CSV, one message edited after export) and a server channel (JSON)."""
    csv_rows = ("ID,Timestamp,Contents,Attachments\r\n"
                f"{FIRST_ID},2023-11-20 10:00:00.123000+00:00,\"Slutt, nå\","
                "https://cdn.discordapp.com/attachments/1/2/bilde.png\r\n"
                # written time three days off its own id: edited after export
                f"{FIRST_ID + 1},2023-11-23 10:00:00+00:00,hei,\r\n")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("account/user.json", json.dumps({"id": OWNER, "username": "kari_n"}))
        z.writestr("messages/index.json", json.dumps({"111": "Direct Message with troll#0",
                                                      "222": "general in Lager"}))
        z.writestr("messages/c111/channel.json", json.dumps({"id": "111", "type": 1,
                                                             "recipients": [OWNER, "9"]}))
        z.writestr("messages/c111/messages.csv", csv_rows)
        z.writestr("messages/c222/channel.json", json.dumps(
            {"id": "222", "type": 0, "name": "general", "guild": {"id": "5", "name": "Lager"}}))
        z.writestr("messages/c222/messages.json", json.dumps([
            {"ID": _snowflake("2023-11-20T10:00:00+00:00"), "Timestamp": "2023-11-20 10:00:00",
             "Contents": "ok", "Attachments": ""}]))
    return path


def test_package_csv_and_json_channels(tmp_path: Path) -> None:
    path = package(tmp_path / "package.zip")
    assert detect(path) == "discord-package"
    t = parse(path)
    assert len(t.messages) == 3
    assert {m.sender_id for m in t.messages} == {OWNER}
    assert {m.sender for m in t.messages} == {"kari_n"} and all(m.from_me for m in t.messages)
    assert [m.conversation for m in t.messages] == ["Direct Message with troll#0"] * 2 + ["general in Lager"]
    assert [m.time_utc for m in t.messages] == [
        "2023-11-20T10:00:00.123000Z", "2023-11-23T10:00:00.000000Z", "2023-11-20T10:00:00.000000Z"]
    assert t.messages[0].text == "Slutt, nå"
    assert t.messages[0].attachments[0].name == "bilde.png"
    assert [(n.code, n.message_index) for n in t.notices] == [("snowflake_mismatch", 1)]
    assert t.gaps == ["discord_package_own_only"] and t.me == OWNER
    assert "holds only your own messages" in describe_gap(t.gaps[0], "en")
    assert "bare dine egne meldinger" in describe_gap(t.gaps[0], "nb")
    with zipfile.ZipFile(path) as z:
        raw = z.read("messages/c111/messages.csv")
    first = t.messages[0]
    assert raw[first.offset:first.offset + first.length].startswith(f"{FIRST_ID},".encode())
