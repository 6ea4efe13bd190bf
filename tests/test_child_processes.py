"""Children die with evidencekit, even when it is killed outright (SIGKILL): the Playwright driver and
Chromium of a capture or a report are gone soon after, and the next command finds the locker clean."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from evidencekit._internal.browser import BrowserNotFound, dies_with_parent, find_browser
from evidencekit._internal.demo_site import serve_demo
from locker_files import work_folders
from test_crash_safety import kill_after, live_processes, marked_env, start_cli, wait_until_gone

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def _parent_of_a_sleeper(env: dict[str, str], through_launcher: bool) -> subprocess.Popen[str]:
    program = "dies_with_parent('/bin/sleep')" if through_launcher else "'/bin/sleep'"
    script = textwrap.dedent(f"""
        import subprocess, time
        from evidencekit._internal.browser import dies_with_parent
        subprocess.Popen([{program}, "300"])
        print("started", flush=True)
        time.sleep(300)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None and parent.stdout.readline() == "started\n"
    return parent


@pytest.mark.parametrize("through_launcher", [True, False])
def test_a_launched_child_dies_with_its_parent(tmp_path: Path, through_launcher: bool) -> None:
    marker, env = marked_env(tmp_path / "tmp")
    parent = _parent_of_a_sleeper(env, through_launcher)
    deadline = time.monotonic() + 10
    while not any("sleep 300" in p for p in live_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    left = wait_until_gone(marker, timeout=5)
    if through_launcher:
        assert left == []
    else:  # the control: started plainly, the child outlives its killed parent
        assert any("sleep 300" in p for p in left)
        for line in left:
            subprocess.run(["kill", "-KILL", line.partition(":")[0]], check=False)


def test_the_launcher_runs_the_program_as_given() -> None:
    launcher = dies_with_parent("/bin/echo")
    done = subprocess.run([launcher, "same", "arguments"], capture_output=True, text=True, check=True)
    assert done.stdout == "same arguments\n"
    assert dies_with_parent("/bin/echo") == launcher  # one launcher per program, kept


@pytest.fixture
def _browser() -> None:
    try:
        find_browser()
    except BrowserNotFound as error:
        pytest.skip(f"no browser: {error.message('en')}")


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary folder with a short name, as ``/tmp`` is (pytest's are too long for Chromium)."""
    folder = Path(tempfile.mkdtemp(prefix="ek-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _kill_once_chromium_runs(args: list[str], tmp: Path, group: bool) -> tuple[str, dict[str, str]]:
    """Run ``evidencekit args``, SIGKILL it as soon as its Chromium runs; its marker and environment."""
    marker, env = marked_env(tmp)
    proc = start_cli(*args, env=env)
    deadline = time.monotonic() + 120
    while not any("chrom" in p for p in live_processes(marker)):
        assert proc.poll() is None, f"{args} ended before its browser was seen"
        assert time.monotonic() < deadline, "no browser started"
        time.sleep(0.05)
    kill_after(proc, 0, group)
    return marker, env


KILLED = pytest.mark.parametrize("group", [False, True], ids=["evidencekit-killed", "its-group-killed"])


@KILLED
@pytest.mark.usefixtures("_browser")
def test_a_killed_capture_leaves_no_browser(case_home: Path, short_tmp: Path, group: bool) -> None:
    with serve_demo() as site:
        marker, env = _kill_once_chromium_runs(["capture", site.url("post"), "--no-stamp"], short_tmp, group)
        assert wait_until_gone(marker) == []
        assert run_cli("check").code == 0
        assert work_folders(case_home) == []
        # the browser's profile and files went to a folder of the killed run's: the next run removes it
        assert run_cli("capture", site.url("post"), "--no-stamp", env=env).code == 0
    assert list(Path(env["TMPDIR"]).iterdir()) == []


@KILLED
@pytest.mark.usefixtures("_browser")
def test_a_killed_report_leaves_no_browser(case_home: Path, tmp_path: Path, short_tmp: Path,
                                          group: bool) -> None:
    assert run_cli("note", "they shouted at me in the car park", "--no-stamp").code == 0
    marker, _ = _kill_once_chromium_runs(["report", "-o", str(tmp_path / "report.pdf")], short_tmp, group)
    assert wait_until_gone(marker) == []
    assert not (tmp_path / "report.pdf").exists()
