"""A diary entry's facts (when, where, who, the person, witnesses, her reaction, consequences) kept
in the item's salted record: through ``note``, ``show``, ``timeline``, the report in both languages
and a bundle; an entry left out of a bundle shows none of them anywhere in it."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from bundle_support import invoke
from conftest import PASSPHRASE
from evidencekit.errors import UserError
from evidencekit.locker import normalise_date
from evidencekit.models import IncidentFacts
from locker_files import open_locker

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext is not installed")

FACTS = {
    "date": "2026-03-02T09:15..2026-03-02T11:40",
    "where": "Lagerhallen på Alnabru",
    "channel": "face to face",
    "who": "client",
    "person": "Oddvar Brå-Kvist",
    "witnesses": ["Sigrid Vatnedal", "Per Øyen"],
    "reaction": "Jeg sa tydelig at han måtte slutte",
    "consequences": "Tre dager sykemeldt, byttet vakter",
}
SECRET = {  # a second entry, later withheld: none of these may leak
    "where": "Kantina i tredje etasje",
    "person": "Trygve Glommerud",
    "witnesses": ["Hildegunn Aasvang"],
    "reaction": "Gikk ut av rommet gråtende",
    "consequences": "Permisjon uten lønn",
}


def ok(*args: str | Path) -> str:
    done = invoke(*args)
    assert done.code == 0, (args, done.out, done.err)
    return done.out


def note_args(text: str, facts: dict) -> list[str]:
    args = ["note", text, "--no-stamp"]
    for name, value in facts.items():
        for one in value if isinstance(value, list) else [value]:
            args += [f"--{'witness' if name == 'witnesses' else name}", one]
    return args


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def diary(home: Path) -> Path:
    ok("init", "--kdf", "interactive")
    ok("case", "new", "Lageret")
    ok(*note_args("Han tok tak i armen min og sa at jeg skulle holde kjeft.", FACTS))  # E-001
    ok(*note_args("Han fulgte etter meg til kantina.", {"date": "2026-02-20", **SECRET}))  # E-002
    return home


def test_every_fact_through_note_show_and_timeline(diary: Path) -> None:
    shown = json.loads(ok("show", "E-001", "--json"))
    assert shown["incident"] == {**FACTS, "date": "2026-03-02T08:15:00.000000Z..2026-03-02T10:40:00.000000Z", "description": None}
    assert shown["text"] == "Han tok tak i armen min og sa at jeg skulle holde kjeft."
    human = ok("--lang", "nb", "show", "E-001")
    for label, value in (("Hvor", FACTS["where"]), ("Hvem", "oppdragsgiver"), ("Person", FACTS["person"]),
                         ("Vitner", "Sigrid Vatnedal, Per Øyen"), ("Reaksjon", FACTS["reaction"]),
                         ("Følger", FACTS["consequences"]), ("Dato for hendelsen", "02.03.2026 09:15 – 11:40")):
        assert f"  {label}: {value}" in human, (label, human)
    assert "    Han tok tak i armen min" in human

    lines = ok("timeline").splitlines()[1:]  # after the line naming the zone
    assert lines[0].startswith("2026-02-20") and "E-002" in lines[0]  # sorted by the period's start
    assert "E-001  [diary note (your own account)] client (who hires you) · face to face: Han tok tak" in lines[1]
    assert "[Lagerhallen på Alnabru · Oddvar Brå-Kvist · witnesses: Sigrid Vatnedal, Per Øyen]" in lines[1]
    moment = next(m for m in json.loads(ok("timeline", "--json")) if m["item"] == "E-001")
    assert (moment["where"], moment["person"], moment["witnesses"]) == (FACTS["where"], FACTS["person"],
                                                                        FACTS["witnesses"])


def test_facts_are_in_the_signed_record_and_old_records_still_read(diary: Path) -> None:
    with open_locker(diary) as locker:
        raw = bytes(locker.db.execute("SELECT record FROM items WHERE number = 1").fetchone()[0])
        record = json.loads(raw)
        assert record["incident"]["witnesses"] == FACTS["witnesses"] and "salt" in record
        assert locker.item("E-001").record_sha256 == next(e.record_sha256 for e in locker.log() if e.subject == "E-001")
    old = IncidentFacts.from_json({"date": "2025-01-01", "who": "leader"})  # written before the new fields
    assert old.witnesses == () and old.where is None and old.given() == {"date": "2025-01-01", "who": "leader"}


@pytest.mark.parametrize("bad, key", [("2026-03-05..2026-03-01", "items.bad_period"),
                                      ("2026-03-01..soon", "items.bad_date"), ("..", "items.bad_date")])
def test_a_period_must_be_two_dates_in_order(bad: str, key: str) -> None:
    with pytest.raises(UserError) as raised:
        normalise_date(bad)
    assert raised.value.key == key


def test_a_bad_period_changes_nothing(diary: Path) -> None:
    done = invoke("note", "x", "--date", "2026-03-05..2026-03-01", "--no-stamp")
    assert done.code == 2 and "ends before it begins" in done.err
    assert len(json.loads(ok("list", "--json"))) == 2


@needs_poppler
@pytest.mark.parametrize("lang, labels", [
    ("en", ("Where", "Person involved", "Witnesses", "Reaction", "Consequences", "client (who hires you)")),
    ("nb", ("Hvor", "Person involvert", "Vitner", "Reaksjon", "Følger", "oppdragsgiver")),
])
def test_the_report_shows_every_fact(diary: Path, tmp_path: Path, lang: str, labels: tuple[str, ...]) -> None:
    pdf = tmp_path / f"report-{lang}.pdf"
    ok("report", "--lang", lang, "--items", "E-001", "-o", pdf)
    text = " ".join(pdf_text(pdf).split())
    for expected in (*labels, FACTS["where"], FACTS["person"], "Sigrid Vatnedal, Per Øyen", FACTS["reaction"],
                     FACTS["consequences"],
                     {"en": "2026-03-02 09:15 – 2026-03-02 11:40", "nb": "02.03.2026 09:15 – 02.03.2026 11:40"}[lang]):
        assert expected in text, (lang, expected)


@needs_poppler
def test_a_bundle_carries_the_facts_and_a_withheld_entry_shows_none(diary: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "lageret.zip"
    ok("seal", "--plain", "--items", "E-001", "-o", bundle, "--no-stamp")
    verdict = json.loads(ok("verify", bundle, "--json"))
    assert verdict["verdict"] in ("valid", "valid_with_warnings") and verdict["items"] == ["E-001"]
    with zipfile.ZipFile(bundle) as z:
        record = json.loads(z.read("records/E-001.json"))
        members = {name: z.read(name) for name in z.namelist()}
    assert {k: v for k, v in record["incident"].items()} == {**FACTS, "date": "2026-03-02T08:15:00.000000Z..2026-03-02T10:40:00.000000Z"}
    [pdf_name] = [n for n in members if n.endswith(".pdf")]
    (tmp_path / "report.pdf").write_bytes(members[pdf_name])
    haystacks = [*members.values(), pdf_text(tmp_path / "report.pdf").encode()]
    assert any(FACTS["person"].encode() in h for h in haystacks)  # the search can find what is there
    for value in [SECRET["where"], SECRET["person"], *SECRET["witnesses"], SECRET["reaction"],
                  SECRET["consequences"], "Han fulgte etter meg"]:
        for form in {value.encode(), json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode()}:
            leaks = [name for name, data in [*members.items(), ("report.pdf text", haystacks[-1])] if form in data]
            assert not leaks, (value, leaks)
    assert PASSPHRASE.encode() not in b"".join(members.values())
