"""Every sentence exists in bokmål and English, with the same placeholders, and is really used."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from conftest import run_cli
from evidencekit.i18n import catalog, domains

def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("domain", domains())
def test_catalogs_match(domain: str) -> None:
    en, nb = catalog("en", domain), catalog("nb", domain)
    assert en.keys() == nb.keys(), f"{domain}: keys differ: {set(en) ^ set(nb)}"
    for key in en:
        assert _fields(en[key]) == _fields(nb[key]), f"{domain}.{key}: placeholders differ"
        if len(en[key].split()) >= 3:  # shorter ones may be names, the same in both
            assert en[key] != nb[key], f"{domain}.{key} is not translated"


def test_errors_in_bokmal(case_home: Path) -> None:
    missing = run_cli("--lang", "nb", "add", "/no/such/file.png")
    assert missing.code == 2
    assert missing.err.strip() == "Det finnes ingen fil på /no/such/file.png; ingenting ble lagt til."
    wrong = run_cli("note", "x", env={"EVIDENCEKIT_LANG": "nb", "EVIDENCEKIT_PASSPHRASE": "feil"})
    assert wrong.err.strip() == "Passordfrasen er feil; ingenting ble endret."


def test_language_from_locale(case_home: Path) -> None:
    env = {"EVIDENCEKIT_LANG": "", "LC_ALL": "nb_NO.UTF-8"}
    assert "Alt stemmer".lower() in run_cli("check", env=env).out.lower()
    env = {"EVIDENCEKIT_LANG": "", "LC_ALL": "C.UTF-8"}
    assert "everything holds" in run_cli("check", env=env).out


def test_the_check_summary_counts_in_singular_and_plural(case_home: Path) -> None:
    assert run_cli("note", "he shouted at me", "--no-stamp").code == 0
    assert run_cli("check").out.strip() == 'Case "Test case": everything holds — 1 item, 1 file and 2 log entries checked.'
    assert run_cli("--lang", "nb", "check").out.strip() == \
        "Sak «Test case»: alt stemmer — 1 bevis, 1 fil og 2 loggoppføringer kontrollert."
    assert run_cli("note", "and again the next day", "--no-stamp").code == 0
    assert run_cli("check").out.strip() == 'Case "Test case": everything holds — 2 items, 2 files and 3 log entries checked.'


COMMANDS = [[], ["init"], ["keys"], ["keys", "show"], ["case"], ["case", "new"], ["case", "list"],
            ["case", "use"], ["case", "show"], ["add"], ["note"], ["list"], ["show"], ["export"],
            ["log"], ["check"], ["setup"], ["doctor"], ["unlock"], ["upgrade"]]


@pytest.mark.parametrize("lang, word", [("en", "Examples?:"), ("nb", "Eksemp(el|ler):")])
def test_every_command_has_help_with_an_example(home: Path, lang: str, word: str) -> None:
    from click.testing import CliRunner

    from evidencekit.cli import cli

    runner = CliRunner()
    for command in COMMANDS:
        result = runner.invoke(cli, ["--lang", lang, *command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        groups = {(), ("keys",), ("case",)}
        if tuple(command) not in groups:
            assert re.search(word, result.output), (lang, command, result.output)
        assert "cli." not in result.output, (lang, command)  # no untranslated catalog key


def test_singular_forms_when_count_is_one() -> None:
    from evidencekit.i18n import t

    assert t("report.more_files", "nb", count=1) == "og 1 fil til (se bilaget)"
    assert t("report.more_files", "nb", count=2) == "og 2 filer til (se bilaget)"
    assert t("report.more_files", "en", count=1) == "and 1 more file (see the exhibit)"
    for domain in domains():  # a singular form stands beside the sentence it replaces
        for key in catalog("en", domain):
            if key.endswith("_one"):
                base = key.removesuffix("_one")
                assert base in catalog("en", domain) or f"{base}_many" in catalog("en", domain), f"{domain}.{key}"
