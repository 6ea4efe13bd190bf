"""One timeline: a WhatsApp chat, diary notes and a web capture interleaved across the night the
clocks go forward in Europe/Oslo (31 March 2024, 02:00 → 03:00) come out in instant order, the
same in the CLI's text, its ``--json`` and the report.

The notes are dated in local time (as the worker writes them), the messages carry UTC, the
capture its start in UTC: ordering the written forms instead of the instants puts the note of
03:05 after the message of 03:10's UTC form ("01:10Z"), which is the bug this guards against.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

from PIL import Image

from conftest import PASSPHRASE, run_cli
from evidencekit.locker import Source
from evidencekit.models import IncidentFacts
from locker_files import open_locker

CHAT = ("30.03.2024, 23:50 - Per Hansen: Du er ubrukelig\n"
        "31.03.2024, 01:55 - Per Hansen: Jeg vet hvor du bor\n"
        "31.03.2024, 03:10 - Per Hansen: Svar meg\n"
        "31.03.2024, 03:40 - Per Hansen: Siste advarsel\n")

# (item, text, instant in UTC, as shown in Europe/Oslo), in the order they happened
EXPECTED = [
    ("E-001", "Du er ubrukelig", "2024-03-30T22:50:00Z", "2024-03-30 23:50"),
    ("E-001", "Jeg vet hvor du bor", "2024-03-31T00:55:00Z", "2024-03-31 01:55"),
    ("E-003", "Han ringte rett etterpå", "2024-03-31T00:58:00Z", "2024-03-31 01:58"),
    ("E-002", "Jeg fikk ikke sove", "2024-03-31T01:05:00Z", "2024-03-31 03:05"),
    ("E-001", "Svar meg", "2024-03-31T01:10:00Z", "2024-03-31 03:10"),
    ("E-004", "Per sin profil", "2024-03-31T01:30:00Z", "2024-03-31 03:30"),
    ("E-001", "Siste advarsel", "2024-03-31T01:40:00Z", "2024-03-31 03:40"),
]


def _capture(home: Path) -> None:
    """A web capture item as ``capture`` stores one, started at a fixed instant in the night."""
    picture = io.BytesIO()
    Image.new("RGB", (200, 300), "white").save(picture, "PNG")
    acquired = {"method": "capture", "requested_url": "https://example.org/per", "final_url": "https://example.org/per",
                "title": "Per sin profil", "started": {"utc": "2024-03-31T01:30:00Z", "local": "2024-03-31T03:30:00",
                                                       "zone": "Europe/Oslo"}}
    with open_locker(home) as locker:
        locker.add_items([("web", [Source("page-full.png", data=picture.getvalue()),
                                   Source("page-text.txt", data="Per sin profil".encode())], acquired,
                           IncidentFacts())], PASSPHRASE)


def test_chat_notes_and_capture_across_dst_in_instant_order(case_home: Path, tmp_path: Path) -> None:
    export = tmp_path / "WhatsApp Chat with Per Hansen.txt"
    export.write_text(CHAT, encoding="utf-8")
    for args in (("import", export, "--tz", "Europe/Oslo", "--date-order", "dmy"),
                 ("note", "Jeg fikk ikke sove", "--date", "2024-03-31T03:05"),
                 ("note", "Han ringte rett etterpå", "--date", "2024-03-31T01:58")):
        done = run_cli(*args, "--no-stamp")
        assert done.code == 0, done.err
    _capture(case_home)

    moments = run_cli("timeline", "--json").json()
    assert [(m["item"], m["text"].split(" (")[0], m["time"]) for m in moments] == [e[:3] for e in EXPECTED]
    assert [m["own"] for m in moments] == [False, False, True, True, False, False, False]
    assert moments[3]["given"] == "2024-03-31T01:05:00.000000Z"  # her 03:05 in Oslo, kept as the instant

    lines = run_cli("timeline").out.splitlines()
    assert lines[0] == "Times in Europe/Oslo, oldest first."
    assert len(lines) == 1 + len(EXPECTED) + 1, lines  # the last says the tribunal's time limit has passed
    for line, (item, text, _, local) in zip(lines[1:], EXPECTED):
        assert line.startswith(local) and f" {item} " in line and text in line, line
    assert "(your own account)" in lines[4] and "WhatsApp" in lines[1]

    report = tmp_path / "report.html"
    assert run_cli("report", "--lang", "en", "-o", report).code == 0
    page = report.read_text(encoding="utf-8")
    table = page[page.index('<table class="timeline">'): page.index("</table>", page.index('<table class="timeline">'))]
    rows = [html.unescape(re.sub(r"<[^>]+>", " ", row)) for row in table.split("<tr")[2:]]
    assert len(rows) == len(EXPECTED)
    number = {"E-001": 1, "E-002": 2, "E-003": 3, "E-004": 4}
    for row, (item, text, _, local) in zip(rows, EXPECTED):
        assert local in row and f"Exhibit {number[item]}" in row and text in row, row
