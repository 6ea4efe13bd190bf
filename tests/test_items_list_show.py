"""``list`` says when each item happened (not when it was stored), who, the channel and what it
is; ``show`` says everything, a note's words included; ``add`` of bytes already in the case is
refused (exit 2, nothing added) unless ``--again``."""

from __future__ import annotations

from pathlib import Path

from conftest import PASSPHRASE, run_cli
from evidencekit.locker import Source
from evidencekit.models import IncidentFacts
from locker_files import open_locker

CHAT = ("18.03.2022, 14:50 - Per Hansen: Hei\n"
        "19.03.2022, 22:15 - Per Hansen: Du får sparken\n")


def ok(*args: str | Path) -> str:
    done = run_cli(*args)
    assert done.code == 0, (args, done.out, done.err)
    return done.out


def test_list_and_show_tell_what_happened(case_home: Path, tmp_path: Path) -> None:
    export = tmp_path / "WhatsApp Chat with Per Hansen.txt"
    export.write_text(CHAT, encoding="utf-8")
    ok("import", export, "--tz", "Europe/Oslo", "--date-order", "dmy", "--channel", "whatsapp", "--no-stamp")
    ok("note", "Han ringte meg klokka 22:10 og var sint", "--date", "2022-03-19T22:10", "--who", "customer",
       "--channel", "WhatsApp", "--no-stamp")

    lines = ok("--lang", "nb", "list").splitlines()
    assert "Europe/Oslo" in lines[0]
    assert lines[1].startswith("E-001") and "18.03.2022 14:50 – 19.03.2022 22:15" in lines[1]
    assert "WhatsApp" in lines[1]
    assert "19.03.2022 22:10" in lines[2] and "kunde" in lines[2] and "Han ringte meg klokka 22:10" in lines[2]
    assert "2026" not in "".join(lines[1:])  # no storing date passes for when it happened
    listed = run_cli("list", "--json").json()
    assert listed[0]["happened"]["from"] == "2022-03-18T13:50:00Z" and listed[0]["happened"]["to"] == "2022-03-19T21:15:00Z"
    assert {item["channel"] for item in listed} == {"WhatsApp"}  # "whatsapp" and "WhatsApp": one channel

    shown = ok("--lang", "nb", "show", "E-002")
    assert "  Notat:\n    Han ringte meg klokka 22:10 og var sint" in shown
    assert "Dato for hendelsen: 19.03.2022 22:10" in shown


def test_show_of_a_capture_gives_its_address_and_title(case_home: Path) -> None:
    acquired = {"method": "capture", "requested_url": "http://example.org/p", "final_url": "https://example.org/post/7",
                "title": "Innlegg om nattevakten", "started": {"utc": "2026-03-01T21:47:00Z"}}
    with open_locker(case_home) as locker:  # the record a capture stores (tests/test_capture_* make real ones)
        locker.add_items([("web", [Source("page-text.txt", data=b"Innlegg om nattevakten")], acquired,
                           IncidentFacts())], PASSPHRASE)
    shown = ok("show", "E-001")
    assert "Web address: https://example.org/post/7" in shown and "Address asked for: http://example.org/p" in shown
    assert "Page title: Innlegg om nattevakten" in shown and "Happened: 2026-03-01 22:47" in shown
    assert "2026-03-01 22:47" in ok("list").splitlines()[1]


def test_add_of_the_same_bytes_says_so_and_needs_again(case_home: Path, tmp_path: Path) -> None:
    first, copy = tmp_path / "skjermbilde.png", tmp_path / "kopi.png"
    first.write_bytes(b"the same screenshot, byte for byte")
    copy.write_bytes(first.read_bytes())
    ok("add", first, "--no-stamp")
    log = ok("log", "--json")
    refused = run_cli("add", copy, "--no-stamp")
    assert refused.code == 2 and "Traceback" not in refused.err
    assert refused.err.strip() == ("kopi.png is already in the case as E-001 (the very same bytes); nothing was added."
                                   " To add it once more anyway, use --again.")
    assert len(run_cli("list", "--json").json()) == 1 and ok("log", "--json") == log
    ok("add", copy, "--again", "--no-stamp")
    assert [item["id"] for item in run_cli("list", "--json").json()] == ["E-001", "E-002"]
