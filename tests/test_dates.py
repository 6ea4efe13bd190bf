"""Dates as people write them: each input → the instant kept (UTC) and the words said back, in both
languages, including the nights Europe/Oslo changes its clocks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from conftest import run_cli
from evidencekit._internal.dates import read, shown
from evidencekit.errors import UserError
from evidencekit.i18n import set_language
from evidencekit.importers._time import Zone

OSLO = Zone.resolve("Europe/Oslo")
TODAY = date(2024, 3, 4)

# input, kept value, said back in bokmål, said back in English
TABLE = [
    ("03.03.2024", "2024-03-03", "03.03.2024", "2024-03-03"),
    ("3.3.2024", "2024-03-03", "03.03.2024", "2024-03-03"),
    ("2024-03-03", "2024-03-03", "03.03.2024", "2024-03-03"),
    ("3.3.2024 22:10", "2024-03-03T21:10:00.000000Z", "03.03.2024 22:10 (Europe/Oslo)",
     "2024-03-03 22:10 (Europe/Oslo)"),
    ("3.3.2024 kl. 22.10", "2024-03-03T21:10:00.000000Z", "03.03.2024 22:10 (Europe/Oslo)",
     "2024-03-03 22:10 (Europe/Oslo)"),
    ("2024-03-03T22:10", "2024-03-03T21:10:00.000000Z", "03.03.2024 22:10 (Europe/Oslo)",
     "2024-03-03 22:10 (Europe/Oslo)"),
    ("2024-03-03 22:10:05", "2024-03-03T21:10:05.000000Z", "03.03.2024 22:10:05 (Europe/Oslo)",
     "2024-03-03 22:10:05 (Europe/Oslo)"),
    ("2024-03-03T21:10Z", "2024-03-03T21:10:00.000000Z", "03.03.2024 22:10 (Europe/Oslo)",
     "2024-03-03 22:10 (Europe/Oslo)"),
    ("i går 22:10", "2024-03-03T21:10:00.000000Z", "03.03.2024 22:10 (Europe/Oslo)",
     "2024-03-03 22:10 (Europe/Oslo)"),
    ("yesterday 22:10", "2024-03-03T21:10:00.000000Z", "03.03.2024 22:10 (Europe/Oslo)",
     "2024-03-03 22:10 (Europe/Oslo)"),
    ("I dag", "2024-03-04", "04.03.2024", "2024-03-04"),
    ("today at 07:05", "2024-03-04T06:05:00.000000Z", "04.03.2024 07:05 (Europe/Oslo)",
     "2024-03-04 07:05 (Europe/Oslo)"),
    ("13/04/2024", "2024-04-13", "13.04.2024", "2024-04-13"),  # only day first is possible
    ("04/13/2024", "2024-04-13", "13.04.2024", "2024-04-13"),  # only month first is possible
    ("01.03.2024..14.03.2024", "2024-03-01..2024-03-14", "01.03.2024 – 14.03.2024", "2024-03-01 – 2024-03-14"),
    ("3.3.2024 22:10..4.3.2024 1:00", "2024-03-03T21:10:00.000000Z..2024-03-04T00:00:00.000000Z",
     "03.03.2024 22:10 – 04.03.2024 01:00 (Europe/Oslo)", "2024-03-03 22:10 – 2024-03-04 01:00 (Europe/Oslo)"),
    # summer time starts 31.03.2024: 01:59 is +01:00, 03:00 is +02:00
    ("31.03.2024 01:59", "2024-03-31T00:59:00.000000Z", "31.03.2024 01:59 (Europe/Oslo)",
     "2024-03-31 01:59 (Europe/Oslo)"),
    ("31.03.2024 03:00", "2024-03-31T01:00:00.000000Z", "31.03.2024 03:00 (Europe/Oslo)",
     "2024-03-31 03:00 (Europe/Oslo)"),
    # summer time ends 27.10.2024: 02:30 happens twice; the first is taken and the words say so
    ("27.10.2024 02:30", "2024-10-27T00:30:00.000000Z",
     "27.10.2024 02:30 (Europe/Oslo, sommertid: den første av de to; skriv +01:00 etter klokkeslettet for den andre)",
     "2024-10-27 02:30 (Europe/Oslo, summer time: the first of the two; write +01:00 after the time for the second)"),
    ("2024-10-27T02:30+01:00", "2024-10-27T01:30:00.000000Z",
     "27.10.2024 02:30 (Europe/Oslo, vintertid: den andre av de to)",
     "2024-10-27 02:30 (Europe/Oslo, winter time: the second of the two)"),
    ("27.10.2024 03:30", "2024-10-27T02:30:00.000000Z", "27.10.2024 03:30 (Europe/Oslo)",
     "2024-10-27 03:30 (Europe/Oslo)"),
]


@pytest.mark.parametrize("given, kept, said_nb, said_en", TABLE, ids=[row[0] for row in TABLE])
def test_read_and_said_back(given: str, kept: str, said_nb: str, said_en: str) -> None:
    for lang, said in (("nb", said_nb), ("en", said_en)):
        set_language(lang)
        reading = read(given, OSLO, TODAY)
        assert (reading.value, reading.said) == (kept, said)
        assert read(reading.value, OSLO, TODAY).value == kept  # the kept form reads as itself


REFUSED = [
    ("03/04/2024", "'03/04/2024' kan bety 03.04.2024 (dagen først) eller 04.03.2024 (måneden først); skriv datoen "
                   "med punktum og dagen først (som 03.04.2024), eller som 2024-04-03."),
    ("31.03.2024 02:30", "'31.03.2024 02:30': klokken 02:30 fantes ikke 31.03.2024 i Europe/Oslo, for klokkene ble "
                         "stilt en time fram den natten; skriv tiden klokken viste."),
    ("31.02.2024", "'31.02.2024' er ikke en dato"),
    ("3.3.2024 24:10", "'3.3.2024 24:10' er ikke en dato"),
    ("3.3.24", "'3.3.24' er ikke en dato"),
    ("neste uke", "'neste uke' er ikke en dato"),
    ("14.03.2024..01.03.2024", "'14.03.2024..01.03.2024' slutter før det begynner"),
    ("3.3.2024 22:10..3.3.2024 21:00", "slutter før det begynner"),
]


@pytest.mark.parametrize("given, says", REFUSED, ids=[row[0] for row in REFUSED])
def test_refused_with_one_sentence(given: str, says: str) -> None:
    set_language("nb")
    with pytest.raises(UserError) as refused:
        read(given, OSLO, TODAY)
    assert says in refused.value.message()


def test_one_day_is_a_period_of_itself() -> None:
    assert read("3.3.2024..3.3.2024", OSLO, TODAY).value == "2024-03-03..2024-03-03"
    assert read("3.3.2024..3.3.2024 23:59", OSLO, TODAY).value.startswith("2024-03-03..")


def test_a_record_written_before_times_were_kept_in_utc_is_shown_as_local() -> None:
    set_language("nb")
    assert shown("2026-03-02T09:15:00", OSLO) == "02.03.2026 09:15 (Europe/Oslo)"


def test_the_cli_says_back_and_keeps_utc(case_home: Path) -> None:
    env = {"TZ": "Europe/Oslo"}
    done = run_cli("--lang", "nb", "note", "Han ringte igjen", "--date", "3.3.2024 22:10", "--no-stamp", "--json",
                   env=env)
    assert done.code == 0, done.err
    assert json.loads(done.out)["incident"]["date"] == "2024-03-03T21:10:00.000000Z"
    assert "Datoen er lest som 03.03.2024 22:10 (Europe/Oslo)." in done.err
    shown_nb = run_cli("--lang", "nb", "show", "E-001", env=env).out
    assert "  Tider i Europe/Oslo." in shown_nb and "  Dato for hendelsen: 03.03.2024 22:10\n" in shown_nb


def test_the_cli_refuses_an_ambiguous_date_and_stores_nothing(case_home: Path) -> None:
    refused = run_cli("--lang", "nb", "note", "Han ringte", "--date", "03/04/2024")
    assert refused.code == 2
    assert refused.err.strip().splitlines() == [
        "'03/04/2024' kan bety 03.04.2024 (dagen først) eller 04.03.2024 (måneden først); skriv datoen med "
        "punktum og dagen først (som 03.04.2024), eller som 2024-04-03."]
    assert run_cli("list", "--json").json() == []


def test_the_zone_follows_tz(case_home: Path) -> None:
    done = run_cli("note", "x", "--date", "3.3.2024 22:10", "--no-stamp", "--json", env={"TZ": "UTC"})
    assert done.json()["incident"]["date"] == "2024-03-03T22:10:00.000000Z"
    assert "Date read as 2024-03-03 22:10 (UTC)." in done.err
