"""The tribunal's three-year limit, said by ``timeline``, ``report`` and ``case show`` once the
earliest incident is more than 30 months old: not at 29 months, at 31 with the date the limit is
reached, at 37 with the date it was reached; from a diary date, a period's start, or the first
message of an imported chat."""

from __future__ import annotations

import calendar
import html
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bundle_support import invoke
from evidencekit._internal.deadlines import add_months

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def months_ago(months: int) -> date:
    """Today in the zone the tool speaks (Europe/Oslo), ``months`` back, by the calendar (not by days)."""
    today = datetime.now(ZoneInfo("Europe/Oslo")).date()
    total = today.year * 12 + today.month - 1 - months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


def three_years_on(day: date) -> date:
    year = day.year + 3
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def spoken(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@pytest.fixture
def case(home: Path) -> Path:
    for args in (("init", "--kdf", "interactive"), ("case", "new", "Limit")):
        assert invoke(*args).code == 0
    return home


def said(tmp_path: Path, name: str = "r.html") -> dict[str, str]:
    """What ``timeline`` (text and --json), ``case show`` and the report say, each as one text."""
    report = tmp_path / name
    made = invoke("report", "--lang", "en", "-o", report)
    assert made.code == 0, made.err
    timeline, timeline_json, shown = invoke("timeline"), invoke("timeline", "--json"), invoke("case", "show")
    assert timeline.code == timeline_json.code == shown.code == 0
    return {"timeline": timeline.out, "timeline --json (stderr)": timeline_json.err, "case show": shown.out,
            "report": html.unescape(report.read_text(encoding="utf-8"))}


def note(when: date | str, text: str = "It happened.") -> None:
    done = invoke("note", text, "--date", str(when), "--no-stamp")
    assert done.code == 0, done.err


def test_29_months_is_not_said(case: Path, tmp_path: Path) -> None:
    note(months_ago(29))
    note(months_ago(2))
    for where, text in said(tmp_path).items():
        assert "three-year limit" not in text, where
    assert invoke("case", "show", "--json").json()["deadline"] is None


@pytest.mark.parametrize("months, verb", [(31, "reaches"), (37, "reached")])
def test_said_once_with_the_date(case: Path, tmp_path: Path, months: int, verb: str) -> None:
    earliest = months_ago(months)
    note(months_ago(3))
    note(earliest, "The first time he did it.")
    note(months_ago(12))
    sentence = (f"The earliest incident ({spoken(earliest)}) {verb} the tribunal's three-year limit on "
                f"{spoken(three_years_on(earliest))}")
    for where, text in said(tmp_path).items():
        assert text.count(sentence) == 1, (where, text)
        assert text.count("three-year limit") == 1, where
    shown = invoke("case", "show", "--json").json()["deadline"]
    assert shown == {"earliest_incident": earliest.isoformat(), "item": "E-002",
                     "limit": three_years_on(earliest).isoformat(), "passed": months > 36}


def test_said_in_bokmal(case: Path, tmp_path: Path) -> None:
    earliest = months_ago(31)
    note(earliest)
    report = tmp_path / "r.html"
    assert invoke("report", "--lang", "nb", "-o", report).code == 0
    limit = three_years_on(earliest)
    months = ("januar februar mars april mai juni juli august september oktober november desember").split()
    expected = (f"Den tidligste hendelsen ({earliest.day}. {months[earliest.month - 1]} {earliest.year}) når "
                f"Diskrimineringsnemndas treårsfrist den {limit.day}. {months[limit.month - 1]} {limit.year}.")
    assert html.unescape(report.read_text(encoding="utf-8")).count(expected) == 1
    assert expected in invoke("--lang", "nb", "case", "show").out


def test_a_period_counts_from_its_start(case: Path, tmp_path: Path) -> None:
    start, end = months_ago(32), months_ago(27)
    note(f"{start}..{end}")
    assert f"({spoken(start)})" in invoke("case", "show").out


def test_a_chat_counts_from_its_first_message(case: Path, tmp_path: Path) -> None:
    """An imported chat without an incident date: its earliest message, not the day it was imported."""
    first, later = months_ago(34), months_ago(20)
    export = tmp_path / "WhatsApp Chat with Ola.txt"
    export.write_text(f"{later:%d/%m/%Y}, 09:15 - Ola: you again\n{first:%d/%m/%Y}, 14:30 - Ola: hello\n",
                      encoding="utf-8")
    done = invoke("import", export, "--tz", "Europe/Oslo", "--date-order", "dmy", "--no-stamp")
    assert done.code == 0, done.err
    assert f"The earliest incident ({spoken(first)}) reaches" in invoke("timeline").out


def test_withheld_items_do_not_speak_in_a_report(case: Path, tmp_path: Path) -> None:
    """A report on some items says the limit of those only: a left-out old note reveals nothing."""
    note(months_ago(35))
    note(months_ago(1))
    report = tmp_path / "r.html"
    assert invoke("report", "--items", "E-002", "-o", report).code == 0
    assert "three-year limit" not in report.read_text(encoding="utf-8")


def test_month_arithmetic() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 36) == date(2027, 2, 28)
    assert add_months(date(2024, 3, 3), 30) == date(2026, 9, 3)
    assert add_months(date(2024, 3, 3), -3) == date(2023, 12, 3)
