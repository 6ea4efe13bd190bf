"""Notices given (``evidencekit notice``): recorded with or without a letter, shown by ``list``,
``show`` and ``timeline``, listed in time order in the report's "Reported" section (read back from
the PDF in both languages), refused as one sentence when the input is bad, and kept through a
bundle round trip."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bundle_support import invoke
from conftest import quiet_locker_env
from evidencekit._internal import layout

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext is not installed")

# Recorded out of time order on purpose: the report and the timeline must sort them.
NOTICES = [
    ("--to", "police", "--date", "2026-03-05T10:30", "--reference", "14523881", "--name", "Oslo politidistrikt"),
    ("--to", "arbeidsgiver", "--date", "2026-03-02", "--reference", "HR-2026-17", "--name", "HR, Kari Hansen",
     "--note", "Told them about the shouting in the break room"),
    ("--to", "union", "--date", "2026-03-03", "--note", "Asked the shop steward for help"),
    ("--to", "safety-rep", "--date", "2026-03-04", "--reference", "AVVIK-88"),
]
FILES = ["politianmeldelse.txt", "varsel-til-hr.txt", None, "avvik.txt"]
IN_TIME = ["E-003", "E-004", "E-005", "E-002"]  # employer, union, safety rep, police (E-001 is the diary note)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A case with a diary note and four notices, three of them with their letter or receipt."""
    folder = tmp_path_factory.mktemp("notices")
    with pytest.MonkeyPatch.context() as env:
        for name, value in quiet_locker_env(folder / "locker").items():
            env.setenv(name, value)
        for args in (("init", "--kdf", "interactive"), ("case", "new", "Notices"),
                     ("note", "He shouted at me in the break room.", "--date", "2026-03-01", "--no-stamp")):
            assert invoke(*args).code == 0, args
        for args, name in zip(NOTICES, FILES):
            files = []
            if name:
                (folder / name).write_text(f"The letter: {name}\n", encoding="utf-8")
                files = [folder / name]
            done = invoke("notice", *args, *files, "--no-stamp")
            assert done.code == 0, (args, done.err)
        yield folder


def _items() -> list[dict]:
    listed = invoke("list", "--json")
    assert listed.code == 0, listed.err
    return listed.json()


def test_show_json_holds_the_notice(case: Path) -> None:
    shown = invoke("show", "E-003", "--json")
    assert shown.code == 0, shown.err
    item = shown.json()
    assert item["kind"] == "notice"
    assert item["acquired"]["notice"] == {"to": "employer", "date": "2026-03-02", "reference": "HR-2026-17",
                                          "name": "HR, Kari Hansen",
                                          "note": "Told them about the shouting in the break room"}
    assert [f["name"] for f in item["files"]] == ["varsel-til-hr.txt"]
    without = invoke("show", "E-004", "--json").json()
    assert without["files"] == [] and without["acquired"]["notice"] == {
        "to": "union", "date": "2026-03-03", "note": "Asked the shop steward for help"}
    assert [i["acquired"].get("notice", {}).get("to") for i in _items()] == [
        None, "police", "employer", "union", "safety-rep"]


def test_show_and_list_say_to_whom_and_when(case: Path) -> None:
    shown = invoke("--lang", "nb", "show", "E-003")
    assert shown.code == 0, shown.err
    for line in ("Varslet: arbeidsgiveren", "Når: 02.03.2026", "Mottatt av: HR, Kari Hansen",
                 "Referanse: HR-2026-17", "Merknad: Told them about the shouting in the break room"):
        assert f"  {line}\n" in shown.out, line
    listed = invoke("list").out.splitlines()[1:]  # after the heading that names the zone
    assert listed[2].startswith("E-003") and "2026-03-02 " in listed[2]
    assert listed[2].endswith("  Reported to the employer: HR, Kari Hansen (ref HR-2026-17)")
    assert "2026-03-03 " in listed[3] and listed[3].endswith("  Reported to the union")


def test_cli_timeline_marks_notices_in_time_order(case: Path) -> None:
    lines = invoke("timeline").out.splitlines()[1:]  # after the line naming the zone
    assert [re.search(r" (E-\d{3}) ", line)[1] for line in lines] == ["E-001", *IN_TIME]
    assert lines[1].endswith("E-003  [notice given (your own account)] → Reported to the employer: HR, Kari Hansen (ref HR-2026-17)")
    assert lines[3].endswith("E-005  [notice given (your own account)] → Reported to the safety representative (ref AVVIK-88)")
    assert lines[4].endswith("E-002  [notice given (your own account)] → Reported to the police: Oslo politidistrikt (ref 14523881)")
    moments = invoke("timeline", "--json").json()
    assert [(m["item"], m["kind"], m["given"], m["time"]) for m in moments[1:]] == [
        ("E-003", "notice", "2026-03-02", "2026-03-01T23:00:00Z"),
        ("E-004", "notice", "2026-03-03", "2026-03-02T23:00:00Z"),
        ("E-005", "notice", "2026-03-04", "2026-03-03T23:00:00Z"),
        ("E-002", "notice", "2026-03-05T09:30:00.000000Z", "2026-03-05T09:30:00Z")]


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@needs_poppler
@pytest.mark.parametrize("lang, words", [
    ("en", {"intro": "To whom and when the worker reported", "timeline": "Timeline", "exhibit": "Exhibit",
            "to": ["the employer", "the union", "the safety representative", "the police"],
            "tag": "notice given", "said": "→ Reported to", "ref": "(ref HR-2026-17)", "none": "no letter"}),
    ("nb", {"intro": "Hvem arbeidstakeren varslet og når", "timeline": "Tidslinje", "exhibit": "Bilag",
            "to": ["arbeidsgiveren", "fagforeningen", "verneombudet", "politiet"],
            "tag": "varsel gitt", "said": "→ Varslet", "ref": "(ref. HR-2026-17)", "none": "uten brev"}),
])
def test_report_section_and_timeline_in_time_order(case: Path, tmp_path: Path, lang: str, words: dict) -> None:
    pdf = tmp_path / f"report-{lang}.pdf"
    made = invoke("report", "-o", pdf, "--lang", lang)
    assert made.code == 0, made.err
    text = _pdf_text(pdf)
    timeline = text[text.index(words["timeline"]): text.index(words["intro"])].splitlines()
    section = text[text.index(words["intro"]): text.index(f"{words['exhibit']} 1: ")].splitlines()
    # one row a notice, earliest first: when (local time), to whom, received by, reference, note, exhibit
    day = (lambda d: d) if lang == "en" else (lambda d: ".".join(reversed(d.split("-"))))  # the reader's date
    rows = [(day("2026-03-02"), words["to"][0], "HR, Kari Hansen", "HR-2026-17", "Told them", f"{words['exhibit']} 3"),
            (day("2026-03-03"), words["to"][1], "Asked the shop", f"{words['exhibit']} 4"),
            (day("2026-03-04"), words["to"][2], "AVVIK-88", f"{words['exhibit']} 5"),
            (day("2026-03-05"), words["to"][3], "Oslo politidistrikt", "14523881", f"{words['exhibit']} 2")]
    found, marked = [], []
    for row, to in zip(rows, words["to"]):
        [line] = [n for n, text in enumerate(section) if text.strip().startswith(row[0])]
        cells = section[line] + section[line + 1]  # a long name wraps onto the row's second line
        assert all(word in cells for cell in row for word in cell.split()), (row, cells)
        found.append(line)
        [line] = [n for n, text in enumerate(timeline) if text.strip().startswith(row[0])]
        assert f"{words['tag']} {words['said']} {to}" in " ".join(timeline[line].split()), timeline[line]
        marked.append(line)
    assert found == sorted(found) and marked == sorted(marked)
    assert "10:30" in section[found[3]] + section[found[3] + 1]  # shown in local time (09:30 UTC)
    assert words["none"] in section[found[1] + 1]  # the notice given without a letter says so
    assert words["ref"].replace(" ", "") in "".join("".join(timeline).split())  # however the line wraps


@pytest.mark.parametrize("args, says", [
    (["--to", "boss", "--date", "2026-03-02"], "'boss' is not someone you can have reported to; use one of: employer"),
    (["--to", "employer"], "Missing option '--date'"),
    (["--to", "employer", "--date", "2. mars"], "'2. mars' is not a date"),
    (["--to", "employer", "--date", "2026-03-02", "letter.txt", "no-such-receipt.pdf"],
     "There is no file at no-such-receipt.pdf; nothing was added."),
])
def test_bad_input_is_one_sentence_and_stores_nothing(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      args: list[str], says: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "letter.txt").write_text("Dear HR\n", encoding="utf-8")
    before, log, blobs = _items(), invoke("log", "--json").out, sorted((case / "locker" / layout.BLOBS).rglob("*"))
    result = invoke("notice", *args, "--no-stamp")
    assert result.code == 2, result
    assert result.out == "" and says in result.err and len(result.err.strip().splitlines()) == 1, result.err
    assert _items() == before and invoke("log", "--json").out == log
    assert sorted((case / "locker" / layout.BLOBS).rglob("*")) == blobs


def test_bokmal_error_and_help(case: Path) -> None:
    wrong = invoke("--lang", "nb", "notice", "--to", "sjef", "--date", "2026-03-02", "--no-stamp")
    assert wrong.code == 2
    assert wrong.err.startswith("'sjef' er ikke noen du kan ha varslet; bruk en av: arbeidsgiver, verneombud")
    for lang, word in (("en", "Example:"), ("nb", "Eksempel:")):
        shown = invoke("--lang", lang, "notice", "--help")
        assert shown.code == 0 and word in shown.out and "evidencekit notice --to" in shown.out
        assert "notices." not in shown.out  # no catalog key left untranslated


def test_notice_survives_a_bundle_round_trip(case: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "handover.zip"
    sealed = invoke("seal", "--plain", "--no-stamp", "--no-report", "-o", bundle)
    assert sealed.code == 0, sealed.err
    checked = invoke("verify", bundle, "--json")
    assert checked.code == 0, checked.out
    report = checked.json()
    assert report["verdict"] != "invalid" and not [c for c in report["checks"] if c["status"] == "failed"]
    assert {"E-002", "E-003", "E-004", "E-005"} <= set(report["items"])
    with zipfile.ZipFile(bundle) as archive:
        records = [archive.read(n) for n in archive.namelist() if re.search(r"E-003.*record|record.*E-003", n)]
        names = archive.namelist()
    assert records and b'"reference":"HR-2026-17"' in records[0], names
    assert any(n.endswith("varsel-til-hr.txt") for n in names)
