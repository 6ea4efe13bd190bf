"""Messenger's end-to-end-encrypted chat backup (``messages.zip``), written from the format's
description: two threads, a group, an unsent message, media present and missing, Norwegian
letters and emoji; chosen by thread, and fuzzed like every importer."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli
from importer_fuzz import FULL, SAMPLE, campaign, cli_refuses

from evidencekit.importers import conversations, detect, parse

PER = {"participants": ["Kari Nordmann", "Per Hansen"], "threadName": "Per Hansen", "messages": [
    {"senderName": "Per Hansen", "text": "Jeg vet hvor du bor 😠", "timestamp": 1717243200000,
     "isUnsent": False, "media": []},
    {"senderName": "Per Hansen", "text": "", "timestamp": 1717243260123, "isUnsent": True, "media": []},
    {"senderName": "Kari Nordmann", "text": "Slutt å skrive til meg.", "timestamp": 1717243320000,
     "isUnsent": False, "media": []},
    {"senderName": "Per Hansen", "text": "Se her", "timestamp": 1717243380000, "isUnsent": False,
     "media": [{"uri": "media/bilde_1.jpg"}, {"uri": "media/borte.mp4"}]},
]}
GROUP = {"participants": ["Kari Nordmann", "Ola", "Åse Øvrebø"], "threadName": "Vaktlaget", "messages": [
    {"senderName": "Åse Øvrebø", "text": "Møte kl. 14 «i morgen»", "timestamp": 1719835200000,
     "isUnsent": False, "media": [], "reactions": [{"actor": "Ola", "reaction": "👍"}]},
]}


def _backup(tmp_path: Path) -> Path:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("messages/per_hansen_1.json", json.dumps(PER, ensure_ascii=False, indent=1))
        z.writestr("messages/vaktlaget_2.json", json.dumps(GROUP))
        z.writestr("messages/media/bilde_1.jpg", b"\xff\xd8jpeg")
    path = tmp_path / "messages.zip"
    path.write_bytes(out.getvalue())
    return path


def test_backup_imports_every_thread(tmp_path: Path) -> None:
    path = _backup(tmp_path)
    assert detect(path) == "messenger-e2ee"
    t = parse(path, me="Kari Nordmann")
    assert [(m.conversation, m.sender, m.time_utc) for m in t.messages] == [
        ("Per Hansen", "Per Hansen", "2024-06-01T12:00:00.000000Z"),
        ("Per Hansen", "Per Hansen", "2024-06-01T12:01:00.123000Z"),
        ("Per Hansen", "Kari Nordmann", "2024-06-01T12:02:00.000000Z"),
        ("Per Hansen", "Per Hansen", "2024-06-01T12:03:00.000000Z"),
        ("Vaktlaget", "Åse Øvrebø", "2024-07-01T12:00:00.000000Z")]
    first, unsent, mine, media, group = t.messages
    assert first.text == "Jeg vet hvor du bor 😠" and unsent.deleted and not first.deleted
    assert [m.from_me for m in t.messages] == [False, False, True, False, False]
    assert [(a.name, a.status) for a in media.attachments] == [("bilde_1.jpg", "present"), ("borte.mp4", "missing")]
    assert group.extra == {"reactions": [{"actor": "Ola", "reaction": "👍"}]}  # kept, not dropped
    assert group.source_file == "messages/vaktlaget_2.json" and group.pointer == "/messages/0"
    raw = zipfile.ZipFile(path).read(first.source_file)
    assert json.loads(raw[first.offset:first.offset + first.length]) == PER["messages"][0]
    assert t.gaps == ["names_only"] and t.details["threads"]["Vaktlaget"][2] == "Åse Øvrebø"


def test_threads_are_listed_and_chosen(tmp_path: Path) -> None:
    path = _backup(tmp_path)
    assert [(c.name, c.messages, c.first_utc) for c in conversations(path)] == [
        ("Per Hansen", 4, "2024-06-01T12:00:00.000000Z"), ("Vaktlaget", 1, "2024-07-01T12:00:00.000000Z")]
    t = parse(path, conversations=["vakt"])
    assert [m.index for m in t.messages] == [4] and t.details["conversations_shown"] == ["Vaktlaget"]


def test_single_thread_file(tmp_path: Path) -> None:
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(GROUP), encoding="utf-8")
    assert detect(path) == "messenger-e2ee" and len(parse(path).messages) == 1


@pytest.mark.slow
def test_hostile_backups(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    seeds = [("messages.zip", _backup(tmp_path).read_bytes()),
             ("thread.json", json.dumps(PER, ensure_ascii=False).encode())]
    count = FULL if request.config.getoption("--slow") else SAMPLE
    failures = campaign("messenger-e2ee", seeds, count)
    assert not failures, "\n".join(map(str, failures[:20])) + f"\n({len(failures)} in all)"


def test_cli_refuses_a_cut_backup(case_home: Path, tmp_path: Path) -> None:
    data = json.dumps(PER, ensure_ascii=False).encode()[:300]
    assert cli_refuses(run_cli, tmp_path, "thread.json", data, "messenger-e2ee") == []
