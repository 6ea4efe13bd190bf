"""Bad input gets one clear sentence and a non-zero exit, and the case stays as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from contextlib import closing
from pathlib import Path

import pytest

from conftest import PASSPHRASE, Result, run_cli
from evidencekit._internal import layout
from evidencekit._internal.database import SCHEMA_VERSION
from locker_files import connect


def _snapshot(home: Path) -> tuple[str, str]:
    return run_cli("list", "--json").out, run_cli("log", "--json").out


def _one_clear_sentence(result) -> None:
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_wrong_passphrase_changes_nothing(case_home: Path, tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("x")
    before = _snapshot(case_home)
    blobs_before = sorted(p.name for p in (case_home / layout.BLOBS).rglob("*") if p.is_file())
    result = run_cli("add", f, env={"EVIDENCEKIT_PASSPHRASE": "wrong"})
    assert result.code == 2
    assert result.err.strip() == "The passphrase is wrong; nothing was changed."
    assert _snapshot(case_home) == before
    assert sorted(p.name for p in (case_home / layout.BLOBS).rglob("*") if p.is_file()) == blobs_before
    assert run_cli("note", "text", env={"EVIDENCEKIT_PASSPHRASE": "wrong"}).code == 2
    assert run_cli("case", "new", "Other", env={"EVIDENCEKIT_PASSPHRASE": "wrong"}).code == 2
    assert _snapshot(case_home) == before


def test_no_passphrase_and_no_terminal(case_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "x.txt"
    f.write_text("x")
    before = _snapshot(case_home)
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    result = run_cli("add", f, stdin=subprocess.DEVNULL)
    assert result.code == 2
    _one_clear_sentence(result)
    assert "evidencekit unlock" in result.err
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", PASSPHRASE)
    assert _snapshot(case_home) == before


def test_newer_schema_is_refused(case_home: Path) -> None:
    with closing(connect(case_home)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    result = run_cli("list")
    assert result.code == 2
    _one_clear_sentence(result)
    assert "newer version of evidencekit" in result.err
    with closing(connect(case_home)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


@pytest.mark.parametrize("garbage, says", [(layout.DATABASE, "is not an evidencekit locker or is damaged"),
                                           (layout.KEY, "locker key file"),
                                           (layout.PLAIN_DATABASE, "evidencekit upgrade")])
def test_not_a_locker(home: Path, garbage: str, says: str) -> None:
    """A locker's database or key that is no such file, or an old locker's that is none either."""
    if garbage != layout.PLAIN_DATABASE:
        assert run_cli("init", "--kdf", "interactive").code == 0
    home.mkdir(exist_ok=True)
    (home / garbage).write_bytes(b"this is no database" * 100)
    result = run_cli("list")
    assert result.code == 2
    _one_clear_sentence(result)
    assert says in result.err


@pytest.mark.parametrize("kind", ["missing", "folder", "fifo"])
def test_paths_that_are_not_files(case_home: Path, tmp_path: Path, kind: str) -> None:
    good = tmp_path / "good.txt"
    good.write_text("good")
    bad = tmp_path / "bad"
    if kind == "folder":
        bad.mkdir()
    elif kind == "fifo":
        os.mkfifo(bad)
    before = _snapshot(case_home)
    result = run_cli("add", good, bad)
    assert result.code == 2
    _one_clear_sentence(result)
    assert str(bad) in result.err and "nothing was added" in result.err.lower()
    assert _snapshot(case_home) == before


def test_unreadable_file(case_home: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    secret.chmod(0o000)
    before = _snapshot(case_home)
    result = run_cli_unprivileged("add", secret)
    assert result.code == 2
    _one_clear_sentence(result)
    assert "cannot be read" in result.err
    assert _snapshot(case_home) == before


def run_cli_unprivileged(*args: str | os.PathLike[str]):
    """Root reads anything; without the capabilities that bypass file modes, it is refused like anyone."""
    if os.geteuid() != 0:
        return run_cli(*args)
    if not shutil.which("setpriv"):
        pytest.skip("running as root and setpriv (util-linux) is missing, so no file is unreadable")
    proc = subprocess.run(
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-m", "evidencekit",
         *map(str, args)], capture_output=True, text=True, timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_empty_file_is_accepted(case_home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    item = run_cli("add", empty, "--json").json()[0]
    assert item["files"][0]["size"] == 0
    assert item["files"][0]["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert run_cli("check").code == 0


def test_unusual_unicode_names(case_home: Path, tmp_path: Path) -> None:
    names = ["Skjermbilde – æøå 😀.png", unicodedata.normalize("NFD", "Åse Ødegård.txt"), "\u200eright\u202eleft.txt"]
    for name in names:
        (tmp_path / name).write_bytes(name.encode())
    added = run_cli("add", *(tmp_path / n for n in names), "--json")
    assert added.code == 0, added.err
    assert [i["files"][0]["name"] for i in added.json()] == names
    out = tmp_path / "out"
    for item in added.json():
        assert run_cli("export", item["id"], "-o", out).code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_undecodable_file_name(case_home: Path, tmp_path: Path) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9.txt"
    with open(raw, "wb") as f:
        f.write(b"latin-1 name")
    added = run_cli("add", os.fsdecode(raw), "--json")
    assert added.code == 0, added.err
    assert added.json()[0]["files"][0]["name"] == "caf\\xe9.txt"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["show", "E-099"], "There is no item E-099"),
        (["show", "banana"], "is not an item number"),
        (["add", "--who", "boss", "x"], "Invalid value for '--who'"),
        (["add", "--incident-date", "someday", "x"], "is not a date"),
        (["case", "use", "nope"], "There is no case 'nope'"),
        (["note", "   "], "cannot be empty"),
    ],
)
def test_user_errors_exit_2(case_home: Path, args: list[str], fragment: str) -> None:
    result = run_cli(*args)
    assert result.code == 2
    assert fragment in result.err
    assert "Traceback" not in result.err


def test_export_never_overwrites(case_home: Path, tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("original")
    assert run_cli("add", f).code == 0
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("mine")
    result = run_cli("export", "E-001", "-o", out)
    assert result.code == 2 and "exists already" in result.err
    assert (out / "a.txt").read_text() == "mine"


def test_commands_before_init(home: Path) -> None:
    result = run_cli("case", "new", "Early")
    assert result.code == 2 and "evidencekit init" in result.err
    result = run_cli("list")
    assert result.code == 2 and "evidencekit init" in result.err  # init comes before the first case
    assert run_cli("init", "--kdf", "interactive").code == 0
    again = run_cli("init", "--kdf", "interactive")
    assert again.code == 2 and "already has an identity" in again.err
