"""``report --for tribunal|police|employer|union``: the same exhibits, arranged as each receiver
asks, printed to PDF and read back with ``pdftotext``; and ``case describe``, the worker's own
words the tribunal report opens with, signed, logged and shown by ``case show``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from PIL import Image

from bundle_support import invoke
from conftest import quiet_locker_env
from evidencekit._internal.demo_site import serve_demo
from locker_files import connect

ACCOUNT = "Since March my team leader comments on my body in front of customers. It is harassment because it is unwanted, it is about my sex, and he goes on after I told him to stop."
PHONE = "+47 912 34 567"


def ok(*args: str | Path) -> str:
    done = invoke(*args)
    assert done.code == 0, (args, done.err)
    return done.out


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A case with the worker's account, two diary notes with every fact, a chat from a phone
    number, a web capture on loopback, and notices to the employer and to the police."""
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("pdftotext and pdftoppm (poppler-utils) are needed to read the printed reports")
    folder = tmp_path_factory.mktemp("receivers")
    with pytest.MonkeyPatch.context() as env:
        for name, value in quiet_locker_env(folder / "locker").items():
            env.setenv(name, value)
        chat = folder / "WhatsApp Chat with Ola.txt"
        chat.write_text(f"01/03/2025, 21:14 - {PHONE}: you looked good today\n"
                        f"01/03/2025, 21:20 - {PHONE}: wear the red one tomorrow\n", encoding="utf-8")
        ok("init", "--kdf", "interactive")
        ok("case", "new", "Vaktrom")
        ok("case", "describe", ACCOUNT, "--no-stamp")
        ok("note", "He commented on my body in the break room.", "--date", "2025-03-02", "--where",
           "Break room, floor 3", "--who", "leader", "--person", "Ola Nordmann", "--witness", "Kari Lie",
           "--witness", "Per Berg", "--reaction", "I told him to stop", "--consequences", "Two days sick leave",
           "--no-stamp")
        ok("note", "Again, at the staff meeting.", "--date", "2025-03-10", "--where", "Staff meeting",
           "--who", "leader", "--person", "ola nordmann", "--witness", "Kari Lie", "--no-stamp")
        ok("import", chat, "--tz", "Europe/Oslo", "--date-order", "dmy", "--who", "leader", "--no-stamp")
        with serve_demo() as site:
            ok("capture", site.url("post"), "--who", "customer", "--no-stamp")
        ok("notice", "--to", "employer", "--date", "2025-03-05", "--name", "HR, Anne Hansen", "--reference",
           "HR-2025-17", "--no-stamp")
        ok("notice", "--to", "police", "--date", "2025-03-12", "--reference", "14523881", "--no-stamp")
        yield folder


def printed(folder: Path, *args: str) -> tuple[Path, str]:
    """The report printed to PDF with ``args``, and its text as pdftotext reads it (spaces folded)."""
    pdf = folder / f"report{'-'.join(args)}.pdf"
    ok("report", *args, "-o", pdf)
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True).stdout
    return pdf, " ".join(text.split())


def in_order(text: str, *parts: str) -> None:
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} not found after position {at}"
        at = found + len(part)


def block(text: str, title: str, end: str = "Summary") -> str:
    """The receiver's own pages: from its title to the general report's summary."""
    start = text.index(title)
    return text[start:text.index(end, start)]


def page_has_ink(pdf: Path, folder: Path) -> None:
    """Page 2 (the receiver's pages begin there) renders to a picture with text on it."""
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "2", "-l", "2", pdf, prefix], check=True)
    [png] = folder.glob(f"{pdf.stem}-*2.png")
    with Image.open(png) as picture:
        low, _ = picture.convert("L").getextrema()
    assert low < 100


def test_tribunal_in_english(case: Path, tmp_path: Path) -> None:
    pdf, text = printed(case, "--for", "tribunal", "--lang", "en")
    mine = block(text, "For the Anti-Discrimination Tribunal (Diskrimineringsnemnda)")
    in_order(mine, "What happened, and why it is harassment", ACCOUNT, "In the worker's own words",
             "When", "The exhibits cover 2025-03-01 – ", "Where", "Break room, floor 3 (exhibit 1)",
             "Staff meeting (exhibit 2)", "Who was involved", "leader (exhibit 1–3)", "customer, patient or user (exhibit 4)", "Ola Nordmann (exhibit 1–2)",
             "Witnesses", "Kari Lie (exhibit 1–2)", "Per Berg (exhibit 1)", "How the worker reacted",
             "I told him to stop", "Consequences", "Two days sick leave", "Notices given (Reported)",
             "2025-03-05", "the employer", "HR, Anne Hansen", "HR-2025-17", "2025-03-12", "the police",
             "14523881", "The evidence", "The exhibits follow (6 in all)")
    assert "ola nordmann" not in mine  # one person, however the worker spelled the name
    in_order(text, "Exhibit list", "Timeline", "Exhibit 1")  # the general report follows, whole
    page_has_ink(pdf, tmp_path)


def test_tribunal_in_bokmal(case: Path, tmp_path: Path) -> None:
    pdf, text = printed(case, "--for", "tribunal", "--lang", "nb")
    mine = block(text, "Til Diskrimineringsnemnda", "Sammendrag")
    in_order(mine, "Hva som skjedde, og hvorfor det er trakassering", ACCOUNT, "Med arbeidstakerens egne ord",
             "Når", "Hvor", "Break room, floor 3 (bilag 1)", "Hvem som var involvert", "leder (bilag 1–3)",
             "Ola Nordmann (bilag 1–2)", "Vitner", "Kari Lie", "Hvordan arbeidstakeren reagerte", "Følger",
             "Varslet", "arbeidsgiveren", "HR-2025-17", "politiet", "14523881", "Bevisene", "Bilagene følger (6 i alt)")
    page_has_ink(pdf, tmp_path)


def test_police(case: Path, tmp_path: Path) -> None:
    pdf, text = printed(case, "--for", "police", "--lang", "en")
    mine = block(text, "For the police")
    address = invoke("show", "E-004", "--json").json()["acquired"]["final_url"]
    digests = [item["files"][0]["sha256"] for item in invoke("list", "--json").json() if item["files"]]
    in_order(mine, "Accounts and identifiers in the messages", PHONE, "2", "3",
             "Named by the worker", "Ola Nordmann", "Web addresses captured", "http://127.0.0.1:",
             "What was preserved, and when", "Exhibit 1", "Exhibit 6", "Case numbers and references",
             "14523881")
    assert address in mine.replace(" ", "") and all(d[:20] in mine for d in digests)
    pages = {}  # the digests whole, once more than in the general report (in the PDF each wraps in its cell)
    for name, args in (("police", ("--for", "police")), ("general", ())):
        ok("report", *args, "-o", tmp_path / f"{name}.html")
        pages[name] = (tmp_path / f"{name}.html").read_text(encoding="utf-8")
    assert all(pages["police"].count(d) == pages["general"].count(d) + 1 for d in digests)
    assert "you looked good today" not in mine  # accounts, not what they wrote (that is in the exhibit)
    page_has_ink(pdf, tmp_path)


def test_employer(case: Path, tmp_path: Path) -> None:
    pdf, text = printed(case, "--for", "employer", "--lang", "en")
    mine = block(text, "For the employer")
    in_order(mine, "Notice to the employer", "2025-03-05", "the employer", "HR, Anne Hansen", "HR-2025-17",
             "Request to act", "must act once told about it", "answer in writing", "The evidence")
    assert "14523881" not in mine  # the police report is not the employer's notice
    page_has_ink(pdf, tmp_path)


def test_union_is_the_general_report(case: Path, tmp_path: Path) -> None:
    pdf, text = printed(case, "--for", "union", "--lang", "en")
    general = printed(case, "--lang", "en")[1]
    assert "For the union" in text and "For the union" not in general
    for title in ("For the Anti-Discrimination Tribunal", "For the police", "For the employer",
                  "Request to act"):
        assert title not in general and title not in text
    in_order(text, "For the union", "Summary", "Exhibit list", "Timeline")
    page_has_ink(pdf, tmp_path)


def test_case_describe_round_trip(home: Path) -> None:
    ok("init", "--kdf", "interactive")
    ok("case", "new", "Described")
    assert invoke("case", "show", "--json").json()["description"] is None
    written = invoke("case", "describe", "First words.", "--no-stamp", "--json").json()
    assert written["text"] == "First words." and written["seq"] == 2
    again = invoke("case", "describe", "  He keeps doing it;\nI told him to stop.  ", "--no-stamp", "--json").json()
    shown = invoke("case", "show", "--json").json()["description"]
    assert shown == again and shown["text"] == "He keeps doing it;\nI told him to stop." and shown["seq"] == 3
    text = ok("case", "show")
    assert "Your description" in text and "    He keeps doing it;" in text and "First words." not in text
    log = [line for line in ok("log").splitlines() if "case described" in line]
    assert [line.split()[0] for line in log] == ["#2", "#3"]
    assert invoke("check").code == 0
    assert "Din beskrivelse" in ok("--lang", "nb", "case", "show")
    empty = invoke("case", "describe", "   ", "--no-stamp")
    assert empty.code == 2 and len(empty.err.strip().splitlines()) == 1 and "empty" in empty.err
    assert [line for line in ok("log").splitlines() if "case described" in line] == log


def test_a_changed_description_is_found(home: Path) -> None:
    """The description is committed to by its log entry: editing it in the database shows in ``check``."""
    ok("init", "--kdf", "interactive")
    ok("case", "new", "Tampered")
    seq = invoke("case", "describe", "What he did.", "--no-stamp", "--json").json()["seq"]
    with closing(connect(home)) as db:
        db.execute("UPDATE log_records SET record = replace(record, 'What he did.', 'Nothing.') WHERE seq = ?",
                   (seq,))
    checked = invoke("check")
    assert checked.code == 1 and f"#{seq}" in checked.out + checked.err


def test_unknown_receiver_and_help(case: Path, tmp_path: Path) -> None:
    wrong = invoke("report", "--for", "judge", "-o", tmp_path / "r.html")
    assert wrong.code == 2 and "judge" in wrong.err and "tribunal, police, employer, union" in wrong.err
    assert len(wrong.err.strip().splitlines()) == 1 and not (tmp_path / "r.html").exists()
    for lang, word in (("en", "Example"), ("nb", "Eksempel")):
        shown = " ".join(ok("--lang", lang, "report", "--help").split())
        assert "--for tribunal|police|employer|union" in shown and f"{word}: evidencekit report --for tribunal" in shown
        described = ok("--lang", lang, "case", "describe", "--help")
        assert word in described and "evidencekit case describe" in described
