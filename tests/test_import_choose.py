"""Choosing conversations (``--list``, ``--conversation``), who is who (``sender_id``, ``--me``)
and what an export does not hold (``gaps``), the same for every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CORPUS, run_cli

from evidencekit.importers import ImportFailed, conversations, parse

SLACK = CORPUS / "exports" / "slack" / "testarchive.zip"
TELEGRAM = CORPUS / "exports" / "telegram" / "DM_2A_7M.json"
needs_slack = pytest.mark.skipif(not SLACK.is_file(), reason="corpus slack/testarchive.zip is absent")


@needs_slack
def test_conversations_are_counted_with_their_periods() -> None:
    found = {c.name: c for c in conversations(SLACK)}
    assert set(found) == {"enrique", "traveling-sailor"}
    assert found["enrique"].messages == 102 and found["traveling-sailor"].messages == 56
    assert found["enrique"].first_utc == "2016-01-15T05:55:18.000002Z"
    assert found["traveling-sailor"].last_utc.startswith("2016-03-29T12:33")


@needs_slack
def test_choosing_a_conversation_keeps_indexes_and_says_what_is_left_out() -> None:
    t = parse(SLACK, conversations=["SAIL"])  # part of the name, any case
    assert len(t.messages) == 56 and {m.conversation for m in t.messages} == {"traveling-sailor"}
    assert t.messages[0].index == 102  # its place in the whole export
    assert t.conversations == ["SAIL"] and t.details["conversations_shown"] == ["traveling-sailor"]
    chosen = [n for n in t.notices if n.code == "conversations_chosen"]
    assert chosen and chosen[0].params["left_out"] == 102
    with pytest.raises(ImportFailed, match="No conversation"):
        parse(SLACK, conversations=["nobody-here"])
    with pytest.raises(ImportFailed, match="cannot be empty"):
        parse(SLACK, conversations=["  "])


def test_me_matches_name_or_identifier_and_says_when_nobody_matches() -> None:
    if not TELEGRAM.is_file():
        pytest.skip("corpus telegram/DM_2A_7M.json is absent")
    by_id = parse(TELEGRAM, me="USER700000000")
    assert {(m.sender, m.sender_id, m.from_me) for m in by_id.messages if not m.system} == {
        ("Bob", "user700000000", True), ("Alice", "user300000000", False)}
    assert by_id.me_origin == "given"
    by_name = parse(TELEGRAM, me="alice")
    assert all(m.from_me == (m.sender == "Alice") for m in by_name.messages if not m.system)
    nobody = parse(TELEGRAM, me="Per")
    assert [n.text() for n in nobody.notices if n.code == "me_not_found"] == [
        'No message is from "Per" (given as the person importing); check the name, number or address '
        "as the export writes it."]


def test_messenger_gaps_names_only_and_encrypted_chats_from_2024(tmp_path: Path) -> None:
    def export(ms: int) -> Path:
        path = tmp_path / f"{ms}" / "message_1.json"
        path.parent.mkdir()
        path.write_text(json.dumps({"participants": [{"name": "Per"}, {"name": "Kari"}], "title": "Per",
                                    "messages": [{"sender_name": "Per", "timestamp_ms": ms, "content": "hei"}]}))
        return path

    old = parse(export(1_700_000_000_000))  # November 2023
    assert old.gaps == ["names_only"] and old.messages[0].sender_id is None
    new = parse(export(1_704_067_200_000))  # 2024-01-01 00:00 UTC
    assert new.gaps == ["names_only", "messenger_e2ee"]
    assert json.loads(new.to_json())["gaps"] == ["names_only", "messenger_e2ee"]


def test_whatsapp_sender_id_is_the_number_of_an_unsaved_contact(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Per.txt"
    chat.write_text("18.03.2022, 14:56 - +47 912 34 567: Hei\n18.03.2022, 14:57 - Kari: Hva vil du?\n",
                    encoding="utf-8")
    t = parse(chat, date_order="dmy", me="Kari")
    assert [(m.sender_id, m.from_me) for m in t.messages] == [("+47 912 34 567", False), (None, True)]
    assert t.gaps == ["whatsapp_names"]


@needs_slack
def test_cli_list_conversation_and_transcript(case_home: Path) -> None:
    listed = run_cli("import", SLACK, "--list")
    assert listed.code == 0, listed.err
    assert listed.out.splitlines()[0] == "Times in Europe/Oslo:"
    assert listed.out.splitlines()[1].startswith("enrique  102 messages  2016-01-")
    assert [c["name"] for c in run_cli("import", SLACK, "--list", "--json").json()] == [
        "enrique", "traveling-sailor"]
    assert run_cli("list", "--json").json() == []  # --list stores nothing

    missing = run_cli("import", SLACK, "--conversation", "nobody-here", "--no-stamp")
    assert missing.code == 2 and "No conversation" in missing.err and "Traceback" not in missing.err
    assert run_cli("list", "--json").json() == []

    done = run_cli("import", SLACK, "--conversation", "enrique", "--me", "U0BMQB6JE", "--no-stamp", "--json")
    assert done.code == 0, done.err
    label = done.json()["id"]
    names = [f["name"] for f in done.json()["files"]]
    assert "testarchive.zip" in names  # the whole export is the evidence
    data = run_cli("transcript", label, "--json").json()
    assert data["message_count"] == 102 and data["conversations"] == ["enrique"]
    assert any(m["from_me"] for m in data["messages"]) and all(m["sender_id"] for m in data["messages"]
                                                               if not m["system"])
    shown = run_cli("transcript", label).out.splitlines()
    assert shown[0] == "Shows only: enrique (the stored export holds every conversation)."
    assert shown[1] == "Your messages: U0BMQB6JE"
    assert any("<U0BMQB6JE>" in line for line in shown)


def test_telegram_full_export_names_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"personal_information": {"user_id": 5012345678, "first_name": "Kari"},
                                "chats": {"list": [{"name": "Ola", "type": "personal_chat", "id": 1, "messages": [
                                    {"id": 1, "type": "message", "date": "2024-01-02T10:00:00",
                                     "date_unixtime": "1704186000", "from": "Ola", "from_id": "user42",
                                     "text": "Du skal få"},
                                    {"id": 2, "type": "message", "date": "2024-01-02T10:01:00",
                                     "date_unixtime": "1704186060", "from": "Kari", "from_id": "user5012345678",
                                     "text": "Stopp"}]}]}}), encoding="utf-8")
    t = parse(path)
    assert (t.me, t.me_origin) == ("user5012345678", "export")
    assert [(m.sender_id, m.from_me) for m in t.messages] == [("user42", False), ("user5012345678", True)]
    given = parse(path, me="Ola")  # what the worker says wins
    assert (given.me_origin, [m.from_me for m in given.messages]) == ("given", [True, False])


def test_a_name_that_is_not_text_is_one_sentence(tmp_path: Path) -> None:
    """Found by the fuzz campaign: a chat "name" written as a list broke --conversation/--list."""
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": ["x"], "type": "personal_chat", "id": 1, "messages": [
        {"id": 1, "type": "message", "date_unixtime": "1", "from": "a", "from_id": "user1", "text": "b"}]}))
    for call in (lambda: parse(path), lambda: conversations(path), lambda: parse(path, conversations=["x"])):
        with pytest.raises(ImportFailed, match="does not have the structure of a telegram export"):
            call()
