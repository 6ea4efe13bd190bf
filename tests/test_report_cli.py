"""``evidencekit report`` and ``redact`` from the command line: files written, bad input as one
sentence with exit code 2, help with an example in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from conftest import quiet_locker_env, run_cli
from report_fixtures import picture


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One locker for the module: an empty case, an anonymous one, and "Test case" (current)."""
    folder = tmp_path_factory.mktemp("report-cli")
    with pytest.MonkeyPatch.context() as env:
        for name, value in quiet_locker_env(folder / "locker").items():
            env.setenv(name, value)
        shot = folder / "screenshot.png"
        shot.write_bytes(picture(11))
        for args in (("init", "--kdf", "interactive"), ("case", "new", "Empty"),
                     ("case", "new", "Hidden", "--anonymous"),
                     ("note", "Something happened.", "--case", "Hidden", "--no-stamp"), ("case", "new", "Test case"),
                     ("add", shot, "--who", "leader", "--channel", "Teams", "--note", "Yelled at me", "--no-stamp"),
                     ("note", "He apologised, then did it again.", "--date", "2025-04-01", "--no-stamp")):
            done = run_cli(*args)
            assert done.code == 0, (args, done.err)
        yield folder


def test_html_and_pdf_from_the_command_line(evidence: Path, tmp_path: Path) -> None:
    html = tmp_path / "rapport.html"
    made = run_cli("report", "-o", html, "--lang", "nb", "--name", "Kari", "--json")
    assert made.code == 0, made.err
    assert made.json() == {"path": str(html), "exhibits": 2, "lang": "nb"}
    text = html.read_text(encoding="utf-8")
    assert "Bilag 1" in text and "Bilag 2" in text and "Kari" in text and "Yelled at me" in text
    assert not list(tmp_path.glob(".*partial"))
    out = tmp_path / "out"
    out.mkdir()
    printed = run_cli("report", "--items", "E-002", cwd=out)
    assert printed.code == 0, printed.err
    [pdf] = out.glob("report-*.pdf")
    assert re.fullmatch(rf"report-[a-z0-9]+-{date.today().isoformat()}\.pdf", pdf.name)
    assert pdf.read_bytes().startswith(b"%PDF-") and str(pdf.name) in printed.out


def test_sensitive_pictures_blurred_unless_asked(evidence: Path, tmp_path: Path) -> None:
    assert run_cli("mark", "E-001", "--sensitive").code == 0
    try:
        assert run_cli("report", "-o", tmp_path / "a.html").code == 0
        assert run_cli("report", "-o", tmp_path / "b.html", "--show-sensitive").code == 0
    finally:
        assert run_cli("mark", "E-001", "--not-sensitive").code == 0
    blurred, shown = ((tmp_path / n).read_text(encoding="utf-8") for n in ("a.html", "b.html"))
    assert "Blurred: this picture is marked sensitive." in blurred
    assert "Blurred:" not in shown
    strips = re.findall(r'src="(data:image/jpeg;base64,[^"]+)"', shown)
    assert strips and not any(s in blurred for s in strips)


@pytest.mark.parametrize("args, says", [
    (["-o", "report.txt"], "ending in .html or .pdf"),
    (["-o", "exists.html"], "exists already"),
    (["-o", "no/such/folder/r.html"], "does not exist"),
    (["--items", "E-099", "-o", "r.html"], "E-099"),
    (["--tz", "Mars/Olympus", "-o", "r.html"], "Mars/Olympus"),
    (["--tsa-root", "missing.pem", "-o", "r.html"], "missing.pem"),
])
def test_bad_input_is_one_sentence(evidence: Path, tmp_path: Path, args: list[str], says: str) -> None:
    (tmp_path / "exists.html").write_text("keep me")
    result = run_cli("report", *args, cwd=tmp_path)
    assert result.code == 2, result
    assert says in result.err and len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert (tmp_path / "exists.html").read_text() == "keep me"
    assert not (tmp_path / "r.html").exists()


def test_empty_and_anonymous_cases(evidence: Path, tmp_path: Path) -> None:
    empty = run_cli("report", "-o", tmp_path / "r.html", "--case", "Empty")
    assert empty.code == 2 and "nothing to report" in empty.err
    named = run_cli("report", "-o", tmp_path / "r.html", "--name", "Kari", "--case", "Hidden")
    assert named.code == 2 and "anonymous" in named.err and not (tmp_path / "r.html").exists()
    assert run_cli("report", "-o", tmp_path / "r.html", "--case", "Hidden").code == 0
    assert ">anonymous<" in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang, word", [("en", "Example"), ("nb", "Eksempel")])
def test_help_has_an_example(home: Path, lang: str, word: str) -> None:
    from click.testing import CliRunner

    from evidencekit.cli import cli

    for command in ("report", "redact"):
        result = CliRunner().invoke(cli, ["--lang", lang, command, "--help"])
        assert result.exit_code == 0 and word in result.output and "report." not in result.output
