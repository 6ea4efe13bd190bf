"""``import``, ``transcript`` and ``timeline`` through the CLI, on real exports from the corpus."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import CORPUS, run_cli

EXPORTS = CORPUS / "exports"


@pytest.fixture(autouse=True)
def _corpus() -> None:
    if not EXPORTS.is_dir():
        pytest.skip("the shared corpus is not beside the repository")


def test_whatsapp_import_keeps_the_export_and_a_transcript(case_home: Path, tmp_path: Path) -> None:
    export = EXPORTS / "whatsapp" / "WhatsApp Chat with Dmitry S EN+Media Android.txt"
    item = run_cli("import", export, "--who", "colleague", "--json")
    assert item.code == 0, item.err
    data = item.json()
    assert data["kind"] == "chat" and data["acquired"]["format"] == "whatsapp"
    assert data["files"][0]["sha256"] == hashlib.sha256(export.read_bytes()).hexdigest()
    assert data["files"][1]["name"] == "evidencekit-transcript.json"
    messages = run_cli("transcript", "E-001", "--json").json()["messages"]
    assert messages and {"index", "sender", "time_written", "time_utc", "tz_source", "text", "system",
                         "attachments", "edited", "deleted", "reply_to", "offset"} <= set(messages[0])
    raw = export.read_bytes()
    for message in messages:
        if not message["system"]:
            start = raw[message["offset"]:].decode("utf-8", "replace")
            assert message["time_written"] in start[:80]
    hello = run_cli("transcript", "E-001", "--sender", "Dmitry S", "--json").json()["messages"]
    assert hello and all(m["sender"] == "Dmitry S" for m in hello)
    out = tmp_path / "out"
    assert run_cli("export", "E-001", "-o", out).code == 0
    assert (out / export.name).read_bytes() == raw
    assert run_cli("check").code == 0


def test_email_with_recorded_dkim_keys(case_home: Path) -> None:
    email = EXPORTS / "email"
    key_file = case_home.parent / "brisbane.txt"
    key_file.write_text("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    item = run_cli("import", email / "rfc6376.signed.msg",
                   "--dns-record", f"test._domainkey.football.example.com={email / 'test.txt'}",
                   "--dns-record", f"brisbane._domainkey.football.example.com={key_file}", "--json")
    assert item.code == 0, item.err
    assert item.json()["kind"] == "email"
    message = run_cli("transcript", "E-001", "--json").json()["messages"][0]
    assert [(d["selector"], d["result"]) for d in message["extra"]["dkim"]] == [("brisbane", "pass"), ("test", "pass")]
    without = run_cli("import", email / "rfc6376.signed.msg", "--json")  # no keys recorded: cannot be checked
    assert without.code == 0
    unchecked = run_cli("transcript", "E-002", "--json").json()["messages"][0]["extra"]["dkim"]
    assert all(d["result"] != "pass" and d["result"] != "fail" for d in unchecked), unchecked


def test_timeline_merges_items_and_messages(case_home: Path, tmp_path: Path) -> None:
    note = run_cli("note", "Dmitry wrote to me again", "--date", "2022-03-19")
    assert note.code == 0
    assert run_cli("import", EXPORTS / "whatsapp" / "WhatsApp Chat with Dmitry S EN+Media Android.txt").code == 0
    moments = run_cli("timeline", "--json").json()
    times = [m["time"] for m in moments if m["time"]]
    assert times == sorted(times)
    assert {m["item"] for m in moments} == {"E-001", "E-002"}
    assert any(m["kind"] == "message" for m in moments) and any(m["kind"] == "note" and m["own"] for m in moments)


def test_bad_exports_are_refused_cleanly(case_home: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01not a chat export" * 10)
    before = run_cli("log", "--json").out
    for bad in (junk, tmp_path / "missing.txt"):
        result = run_cli("import", bad)
        assert result.code == 2 and "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) == 1, result.err
    assert run_cli("log", "--json").out == before
    assert run_cli("transcript", "E-001").code == 2
