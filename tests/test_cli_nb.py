"""Under ``--lang nb`` no English word of click's is left: every command's help, and wrong invocations.

The words checked are click's own (its headings, help lines and error sentences) and the
placeholders in usage lines, click's and ours. A message click adds in a later version shows up
here as an English word in some help page or error.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import run_cli
from evidencekit.cli import cli
from evidencekit.i18n import catalog

ENGLISH = [
    "Usage", "Options", "Commands", "Show this message", "Show the version", "Missing", "No such",
    "Invalid value", "is not one of", "is not a valid", "is not in the range", "Did you mean", "Try '",
    "for help", "Error:", "default:", "Got unexpected", "requires an argument", "does not take a value",
    "does not exist", "is a directory", "is a file", "Aborted", "(see:", "version 0", "Choose from",
]
PLACEHOLDERS = [
    "OPTIONS", "COMMAND", "ARGS", "TEXT", "INTEGER", "RANGE", "PATH", "FILE", "FILES", "DIRECTORY", "DATE",
    "PLACE", "NAME", "CASE", "ITEM", "RECIPIENT", "RECEIVER", "CERT", "SELECTOR", "TITLE", "ZONE", "WHO",
    "VALUE", "PROOF", "TARGET", "HEADER", "DOMAIN", "PUBLIC_KEY",
]
# English choice words a bokmål reader would otherwise be offered
CHOICES = ["customer", "colleague", "leader", "unknown", "moderate", "interactive"]


def english_in(text: str) -> list[str]:
    found = [word for word in ENGLISH if word in text]
    found += [word for word in PLACEHOLDERS if re.search(rf"(?<![\w-]){word}(?![\w-])", text)]
    found += [word for word in CHOICES if re.search(rf"[\[|]{word}[\]|]", text)]
    return found


def every_command(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += every_command(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_help_page_is_in_bokmal(home: Path) -> None:
    runner = CliRunner()
    pages = every_command(cli)
    assert len(pages) > 30 and ("upgrade",) in pages and ("unlock",) in pages  # the walk reached every command
    for path in pages:
        result = runner.invoke(cli, ["--lang", "nb", *path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Bruk:" in result.output and "Valg:" in result.output, (path, result.output)
        assert not english_in(result.output), (path, english_in(result.output), result.output)


def test_the_same_pages_are_english_in_english(home: Path) -> None:
    """The check above can fail: English help has these words."""
    output = CliRunner().invoke(cli, ["--lang", "en", "add", "--help"]).output
    assert {"Usage", "Options", "Show this message", "FILES", "DATE", "customer"} <= set(english_in(output))


WRONG = [
    (["ad"], "Kommandoen 'ad' finnes ikke. Mente du 'add'?"),
    (["add", "--wh", "x.png"], "(Mente du en av disse: '--help', '--where', '--who'?)"),
    (["add"], "Mangler argumentet 'FILER...'."),
    (["add", "--who", "kunder", "x.png"], "'kunder' er ikke blant 'kunde', 'oppdragsgiver', 'kollega'"),
    (["capture", "--timeout", "lenge", "https://example.org/"], "'lenge' er ikke et gyldig tall"),
    (["capture", "--timeout", "0", "https://example.org/"], "0 er utenfor området 1<=x<=600."),
    (["notice", "--date", "2024-03-03"], "Mangler valget '--to'."),
    (["show"], "Mangler argumentet 'BEVIS'."),
    (["list", "ekstra"], "Fikk et argument for mye (ekstra)"),
    (["add", "x.png", "--date"], "Valget '--date' trenger en verdi."),
    (["init", "--kdf", "rask"], "'rask' er ikke blant 'moderat', 'interaktiv'."),
    (["config", "set", "farge", "blå"], "Ugyldig verdi for '{"),
    (["--lang", "nb", "seal", "-o", "."], "Fil '.' er en mappe, ikke en fil."),
]


@pytest.mark.parametrize("args, said", WRONG, ids=[" ".join(args) for args, _ in WRONG])
def test_wrong_invocations_are_answered_in_bokmal(home: Path, args: list[str], said: str) -> None:
    result = run_cli("--lang", "nb", *args)
    assert result.code == 2, result
    assert said in result.err, result.err
    assert "(se: " in result.err and "--help)" in result.err
    assert not english_in(result.err), (english_in(result.err), result.err)
    assert "Traceback" not in result.err


def test_version_in_bokmal() -> None:
    result = run_cli("--lang", "nb", "--version")
    assert result.code == 0 and result.out.startswith("evidencekit, versjon ")


@pytest.mark.parametrize("lang, word", [("nb", "kunde"), ("nb", "customer"), ("en", "kunde"), ("en", "Customer")])
def test_who_takes_either_language_and_keeps_the_key(case_home: Path, lang: str, word: str) -> None:
    result = run_cli("--lang", lang, "note", "Han skrev igjen", "--who", word, "--no-stamp", "--json")
    assert result.code == 0, result.err
    assert result.json()["incident"]["who"] == "customer"


def test_lists_and_help_given_as_errors_keep_their_lines(home: Path) -> None:
    """A group without its command answers with its help; a missing choice lists the choices, one a line."""
    bare = run_cli("--lang", "nb", "case")
    assert bare.code == 2 and bare.err.startswith("Bruk: ") and "Kommandoer:" in bare.err
    listed = run_cli("--lang", "nb", "config", "set")
    assert listed.code == 2 and "Velg blant:\n    ots_calendars,\n" in listed.err
    for said in (bare.err, listed.err):
        assert "[U+000A]" not in said and "[U+0009]" not in said and not english_in(said)


NEW_WITH_ENCRYPTION = {"locker": ["locked", "needs_upgrade"], "upgrade": ["already", "done", "done_one"],
                       "doctor": ["locker_locked", "locker_plain", "locker_wrong_passphrase"], "cli": ["upgrade_help"]}


def test_the_encrypted_lockers_words_are_in_both_catalogs() -> None:
    for domain, names in NEW_WITH_ENCRYPTION.items():
        for name in names:
            english, bokmal = catalog("en", domain).get(name), catalog("nb", domain).get(name)
            assert english and bokmal and english != bokmal, f"{domain}.{name}"


def test_a_locked_and_an_old_locker_are_answered_in_bokmal(home: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with tarfile.open(Path(__file__).parent / "previous_locker" / "locker-0.1.0.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")  # its folder is locker/, the home fixture's
    old = run_cli("--lang", "nb", "list")
    assert old.code == 2 and old.err.strip() == (
        "Dette bevisskapet er laget av en eldre versjon av evidencekit og er ikke kryptert ennå. Krypter det først "
        "med: evidencekit upgrade (den spør om passordfrasen din; ingenting går tapt).")
    doctor = run_cli("--lang", "nb", "doctor").out
    assert f"FEIL   Bevisskapet i {home} er laget av en eldre versjon og er ikke kryptert ennå." in doctor
    assert "løsning: evidencekit upgrade" in doctor

    upgraded = run_cli("--lang", "nb", "upgrade")
    assert upgraded.code == 0 and upgraded.out.startswith("Bevisskapet er nå kryptert: 2 saker og ")
    again = run_cli("--lang", "nb", "upgrade")
    assert again.code == 2 and again.err.strip() == "Dette bevisskapet er allerede kryptert; det er ingenting å oppgradere."

    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    locked = run_cli("--lang", "nb", "list")
    assert locked.code == 2 and locked.err.strip() == \
        "Bevisskapet er låst: innholdet er kryptert. Lås det opp først med: evidencekit unlock"
    doctor = run_cli("--lang", "nb", "doctor").out
    assert f"merk   Bevisskapet i {home} er låst (kryptert); innholdet sjekkes når du har låst det opp." in doctor
    assert "løsning: evidencekit unlock" in doctor
    for said in (old.err, upgraded.out, again.err, locked.err, doctor):
        assert not english_in(said) and "Traceback" not in said, said
