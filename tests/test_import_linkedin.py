"""LinkedIn messages.csv: the 2020, 2021 and 2023 column sets, commas in names, HTML in CONTENT,
profile URLs as identity, every row pointing at its own bytes."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from evidencekit.importers import ImportFailed, detect, parse

COLUMNS = {
    "2020": ["CONVERSATION ID", "CONVERSATION TITLE", "FROM", "TO", "DATE", "SUBJECT", "CONTENT",
             "FOLDER"],
    "2021": ["CONVERSATION ID", "CONVERSATION TITLE", "FROM", "SENDER PROFILE URL", "TO", "DATE",
             "SUBJECT", "CONTENT", "FOLDER"],
    "2023": ["CONVERSATION ID", "CONVERSATION TITLE", "FROM", "SENDER PROFILE URL", "TO",
             "RECIPIENT PROFILE URLS", "DATE", "SUBJECT", "CONTENT", "FOLDER", "IS MESSAGE DRAFT"],
}
ROWS = [
    {"CONVERSATION ID": "2-YWJj", "CONVERSATION TITLE": "", "FROM": "Hansen, Per",
     "SENDER PROFILE URL": "https://www.linkedin.com/in/per-hansen-1a2b3c",
     "TO": "Kari Nordmann", "RECIPIENT PROFILE URLS": "https://www.linkedin.com/in/kari-n",
     "DATE": "2023-02-14 07:05:09 UTC", "SUBJECT": "", "FOLDER": "INBOX",
     "CONTENT": "Du burde passe deg,\nKari.", "IS MESSAGE DRAFT": "false"},
    {"CONVERSATION ID": "2-YWJj", "CONVERSATION TITLE": "", "FROM": "Kari Nordmann",
     "SENDER PROFILE URL": "https://www.linkedin.com/in/kari-n", "TO": "Hansen, Per",
     "RECIPIENT PROFILE URLS": "https://www.linkedin.com/in/per-hansen-1a2b3c",
     "DATE": "2023-02-14 08:00:00 UTC", "SUBJECT": "", "FOLDER": "SENT",
     "CONTENT": "Ikke kontakt meg igjen.", "IS MESSAGE DRAFT": "false"},
    {"CONVERSATION ID": "2-ZGVm", "CONVERSATION TITLE": "Sponsored", "FROM": "Recruiter AS",
     "SENDER PROFILE URL": "https://www.linkedin.com/in/recruiter", "TO": "Kari Nordmann",
     "RECIPIENT PROFILE URLS": "", "DATE": "2023-03-01 12:00:00 UTC", "SUBJECT": "Jobb",
     "FOLDER": "INBOX", "IS MESSAGE DRAFT": "false",
     "CONTENT": "<p>Hei&nbsp;Kari,</p><p>Se <a href=\"https://x.example\">dette</a> &amp; svar.</p>"},
]


def _csv(layout: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS[layout])
    for row in ROWS:
        writer.writerow([row.get(c, "") for c in COLUMNS[layout]])
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("layout", sorted(COLUMNS))
def test_each_column_set(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "messages.csv"
    data = _csv(layout)
    path.write_bytes(data)
    assert detect(path) == "linkedin"
    t = parse(path, me="https://www.linkedin.com/in/kari-n" if layout != "2020" else "Kari Nordmann")
    assert len(t.messages) == 3
    assert [m.sender for m in t.messages] == ["Hansen, Per", "Kari Nordmann", "Recruiter AS"]
    assert [m.time_utc for m in t.messages] == [
        "2023-02-14T07:05:09.000000Z", "2023-02-14T08:00:00.000000Z", "2023-03-01T12:00:00.000000Z"]
    ids = [m.sender_id for m in t.messages]
    if layout == "2020":
        assert ids == [None, None, None]
    else:
        assert ids[0] == "https://www.linkedin.com/in/per-hansen-1a2b3c"
    assert [m.from_me for m in t.messages] == [False, True, False]
    assert [m.conversation for m in t.messages] == ["2-YWJj", "2-YWJj", "Sponsored"]
    assert t.messages[0].text == "Du burde passe deg,\nKari."
    html = t.messages[2]
    assert html.text.startswith("<p>Hei&nbsp;Kari,</p>")  # kept exactly
    assert html.display == "Hei\xa0Kari,\nSe dette & svar."
    for msg in t.messages:  # a quoted field spans lines; the offsets still cover the whole row
        row = next(csv.reader(io.StringIO(data[msg.offset:msg.offset + msg.length].decode())))
        assert msg.time_written in row and msg.text in row


def test_in_the_zip_with_bom_and_short_row(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + _csv("2021") + b"2-x,,Ola,,,2024-01-01 00:00:00 UTC\r\n"
    path = tmp_path / "Basic_LinkedInDataExport_01-01-2024.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("messages.csv", data)
        z.writestr("Profile.csv", "First Name\nKari\n")
    t = parse(path)
    assert t.format == "linkedin" and len(t.messages) == 4
    assert t.messages[3].sender == "Ola" and t.messages[3].text == ""
    assert [n.code for n in t.notices] == ["csv_columns_differ"]
    assert data[t.messages[0].offset:].startswith(b"2-YWJj,,\"Hansen, Per\"")


def test_broken_quote_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "messages.csv"
    path.write_bytes(_csv("2023") + b'2-q,,"Ola\x00,,\r\n')
    with pytest.raises(ImportFailed, match="not valid CSV"):
        parse(path)


def test_not_linkedin_columns(tmp_path: Path) -> None:
    path = tmp_path / "messages.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ImportFailed, match="not a LinkedIn messages.csv"):
        parse(path, fmt="linkedin")
