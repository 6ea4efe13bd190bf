"""Long work shows how far it has come on a terminal, and nothing to scripts; offline stamping is
one calm line."""

from __future__ import annotations

import io
import os
import pty
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from evidencekit.cli._progress import Shown

BIG = 10 * 1000 * 1000


def stderr_on_terminal(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (as a person sees it) and stdout in a pipe."""
    main, side = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "evidencekit", *map(str, args)], stdout=subprocess.PIPE,
                          stderr=side, env={**os.environ, **(env or {})}, timeout=300)
    os.close(side)
    said = b""
    while select.select([main], [], [], 0.2)[0]:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        said += chunk
    os.close(main)
    return done.returncode, done.stdout.decode(), said.decode()


def test_a_bar_with_counts_redrawn_in_place_then_wiped() -> None:
    screen = io.StringIO()
    shown = Shown(True, 1000, screen)
    for done in (0, 500, 1000, 1000):
        shown("write", done, 2_000_000)
    shown("report", 0, 0)
    shown.wipe()
    drawn = screen.getvalue()
    assert "\rWriting the bundle  [........................] 0.0/2.0 MB\x1b[K" in drawn
    assert "\rMaking the report …\x1b[K" in drawn
    assert drawn.endswith("\r\x1b[K")  # the line is wiped: what the command prints next stands alone


def test_small_jobs_and_scripts_see_nothing() -> None:
    screen = io.StringIO()
    Shown(True, 1000, screen)("write", 10, 999)  # below the threshold: done in a blink
    Shown(False, 0, screen)("write", 10, 20)  # not a terminal, or --json
    assert screen.getvalue() == ""


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "video.mp4"
    path.write_bytes(os.urandom(BIG))
    return path


def test_add_seal_and_verify_show_progress_on_a_terminal(case_home: Path, big_file: Path, tmp_path: Path) -> None:
    code, out, said = stderr_on_terminal("--lang", "nb", "add", big_file, "--no-stamp")
    assert code == 0 and "La til E-001" in out
    assert "Lagrer bevis  [" in said and "10.0/10.0 MB" in said
    bundle = tmp_path / "case.zip"
    code, _, said = stderr_on_terminal("seal", "--plain", "--no-report", "-o", bundle, "--no-stamp")
    assert code == 0 and "Writing the bundle  [" in said and "/10.0 MB" in said
    code, out, said = stderr_on_terminal("verify", bundle)
    assert code == 0 and out.startswith("VALID")
    assert "Checking the bundle  [" in said and "[########################]" in said


def test_no_progress_under_json_or_in_a_pipe(case_home: Path, big_file: Path) -> None:
    code, out, said = stderr_on_terminal("add", big_file, "--no-stamp", "--json")
    assert code == 0 and out.lstrip().startswith("[")
    assert "Storing evidence" not in said
    piped = run_cli("add", big_file, "--no-stamp", "--again")
    assert piped.code == 0 and "Storing evidence" not in piped.err and "\x1b" not in piped.err


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once it is closed


def test_offline_stamping_is_one_calm_line(case_home: Path) -> None:
    port = _closed_port()
    offline = {"EVIDENCEKIT_TSA_URLS": f"http://127.0.0.1:{port}/tsa",
               "EVIDENCEKIT_OTS_CALENDARS": f"http://127.0.0.1:{port}/ots"}
    calm = run_cli("--lang", "nb", "note", "Han ringte", env=offline)
    assert calm.code == 0
    assert calm.out.splitlines()[-1] == ("Tidsstempel venter – kjøres automatisk neste gang du er på nett, "
                                        "eller med `evidencekit stamp`.")
    assert "127.0.0.1" not in calm.out + calm.err
    detailed = run_cli("--verbose", "note", "He called", env=offline)
    assert f"127.0.0.1:{port}/tsa" in detailed.out and "Timestamp waiting" not in detailed.out
