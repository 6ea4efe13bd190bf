"""A command killed at any instant leaves the case whole, and its leftovers go with the next command.

``add`` killed by SIGKILL leaves the new item complete or absent; a killed command's work folder
(``store/tmp/work-*``) and orphan blobs are removed by the next command or ``check``, never those
of a command still running. The helpers here serve the other kill campaigns too.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import PASSPHRASE, run_cli
from evidencekit._internal import layout, workdir
from evidencekit.errors import UserError
from evidencekit.locker import Source
from evidencekit.models import IncidentFacts
from locker_files import blob_file, blob_files, open_locker, stray_blob_files, write_blob_file

FULL_CAMPAIGN = 50
SIZE = 32 * 1024 * 1024
MARKER = "EVIDENCEKIT_TEST_RUN"


# helpers for every kill campaign -------------------------------------------------------------


def campaign_size(request: pytest.FixtureRequest, sample: int) -> int:
    """``FULL_CAMPAIGN`` trials with ``--slow``, else a bounded sample."""
    return FULL_CAMPAIGN if request.config.getoption("--slow") else sample


def marked_env(tmp: Path) -> tuple[str, dict[str, str]]:
    """An environment whose processes can be found again (a marker) and whose TMPDIR is ``tmp``.

    Keep ``tmp`` short: Chromium's socket inside it must have a name of at most 104 bytes.
    """
    marker = uuid.uuid4().hex
    tmp.mkdir(parents=True, exist_ok=True)
    return marker, {**os.environ, MARKER: marker, "TMPDIR": str(tmp)}


def start_cli(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``evidencekit args`` in a process group of its own (as a shell runs a command)."""
    return subprocess.Popen([sys.executable, "-m", "evidencekit", *map(str, args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def timed_run(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> float:
    """Seconds a whole run takes (it must succeed)."""
    started = time.monotonic()
    proc = start_cli(*args, env=env)
    assert proc.wait(timeout=600) == 0, args
    return time.monotonic() - started


def kill_after(proc: subprocess.Popen[bytes], seconds: float, group: bool = False) -> None:
    """SIGKILL ``proc`` after ``seconds`` (if it still runs), and reap it.

    With ``group`` its whole process group dies at once, as when a terminal's session is killed:
    children in the group (the browser driver) get no chance to clean up either.
    """
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGKILL)
    proc.wait()


def live_processes(marker: str) -> list[str]:
    """Command lines of the running (not zombie) processes whose environment holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"{MARKER}={marker}".encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z":
            found.append(f"{entry.name}: {command[:200]}")
    return found


def wait_until_gone(marker: str, timeout: float = 40) -> list[str]:
    """The marked processes still running after ``timeout`` seconds (none, when all is well)."""
    deadline = time.monotonic() + timeout
    while (left := live_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def work_leftovers(home: Path) -> list[Path]:
    """What killed commands left in the work area. A folder a command was killed in the very
    instant of making (``.new-…`` with no lock file in it yet) cannot be told from one being made
    right now, so it stays for ``workdir.GRACE`` by design and is not counted."""
    tmp = home / layout.BLOBS / "tmp"
    return [entry for entry in tmp.iterdir()
            if not (entry.name.startswith(workdir.SETTING_UP) and not (entry / workdir.LOCK).exists())]


def orphan_blobs(home: Path) -> set[Path]:
    """Blob files that no item of the (only) case refers to, found without opening the locker."""
    named = {f["sha256"] for item in run_cli("list", "--json").json() for f in item["files"]}
    return set(stray_blob_files(home, named))


# add ------------------------------------------------------------------------------------------


def _write_evidence(path: Path, trial: int) -> str:
    block = hashlib.sha256(str(trial).encode()).digest() * (1024 * 1024 // 32)
    with open(path, "wb") as f:
        for _ in range(SIZE // len(block)):
            f.write(block)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sigkill_during_add_never_leaves_half_an_item(case_home: Path, tmp_path: Path,
                                                       request: pytest.FixtureRequest) -> None:
    big = tmp_path / "recording.bin"
    _write_evidence(big, -1)
    full_run = timed_run("add", big)
    rng = random.Random(20261126)
    outcomes = {"whole": 0, "none": 0}
    for trial in range(campaign_size(request, 24)):
        digest = _write_evidence(big, trial)
        before = len(run_cli("list", "--json").json())
        # most of the run is start-up and key unlocking
        kill_after(start_cli("add", big), rng.uniform(0.25, 1.05) * full_run)

        check = run_cli("check")
        assert check.code == 0, f"trial {trial}: {check.out}{check.err}"
        items = run_cli("list", "--json").json()
        assert len(items) in (before, before + 1), f"trial {trial}"
        if len(items) == before + 1:
            outcomes["whole"] += 1
            assert items[-1]["files"][0]["sha256"] == digest
            assert items[-1]["files"][0]["size"] == SIZE
        else:
            outcomes["none"] += 1
        assert work_leftovers(case_home) == [], f"trial {trial}"
        assert orphan_blobs(case_home) == set(), f"trial {trial}"
    print(f"after kills: {outcomes}")
    assert os.path.exists(case_home / layout.DATABASE)


# work folders and orphan blobs ----------------------------------------------------------------


def _dead_command(home: Path) -> Path:
    """What a command killed mid-way leaves: its work folder, whose lock nobody holds any more."""
    folder = home / layout.BLOBS / "tmp" / "work-killed"
    (folder / "scratch-1").mkdir(parents=True)
    (folder / "lock").touch()
    (folder / "scratch-1" / "export.zip").write_bytes(b"the worker's chat" * 1000)
    return folder


def _orphan(home: Path, data: bytes) -> Path:
    """A blob stored by a command killed before it recorded the item."""
    return write_blob_file(home, data)


def test_next_command_removes_a_killed_commands_work_and_orphans(case_home: Path) -> None:
    orphan = _orphan(case_home, b"stored, then the command died before recording it")
    assert run_cli("list").code == 0 and orphan in orphan_blobs(case_home)  # nobody died: no sweep
    dead = _dead_command(case_home)
    assert run_cli("list").code == 0  # a command was found dead: any command removes its leftovers
    assert not dead.exists() and work_leftovers(case_home) == []
    assert orphan_blobs(case_home) == set()


def test_check_sweeps_orphans_and_keeps_every_recorded_blob(case_home: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "photo.jpg"
    evidence.write_bytes(b"\xff\xd8 a picture")
    assert run_cli("add", evidence).code == 0
    orphan = _orphan(case_home, b"nobody refers to me")
    assert run_cli("check").code == 0
    assert orphan_blobs(case_home) == set() and not orphan.exists()
    assert blob_files(case_home) == [blob_file(case_home, hashlib.sha256(evidence.read_bytes()).hexdigest())]
    assert run_cli("check").code == 0


def test_a_failed_add_takes_its_new_blobs_with_it(case_home: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("first file of two")
    sources = [Source(good.name, path=good), Source("gone.txt", path=tmp_path / "gone.txt")]
    with open_locker(case_home) as locker, pytest.raises(UserError):
        locker.add_items([("file", sources, {}, IncidentFacts())], PASSPHRASE)
    assert orphan_blobs(case_home) == set()
    assert work_leftovers(case_home) == []


def test_a_running_command_is_never_robbed(case_home: Path) -> None:
    """While one command stores (and until it records), no other may sweep; its folder stays."""
    data = b"an add in progress"
    with open_locker(case_home) as running:
        with running.blobs.storing():
            blob = running.blobs.put_bytes(data).sha256  # stored, not yet recorded: an orphan for now
            work = running.blobs.work()
            dead = _dead_command(case_home)
            assert run_cli("list").code == 0  # finds the dead command but may not sweep yet
            assert blob_file(case_home, blob).exists() and work.exists()
            assert dead.exists() and not (dead / "scratch-1").exists()  # emptied, kept as a reminder
            with pytest.raises(BlockingIOError):  # the running command's lock is really held
                _try_lock(work / "lock")
            running.add_items([("diary", [Source("diary.txt", data=data)], {}, IncidentFacts())], PASSPHRASE)
    assert run_cli("list").code == 0  # now the owed sweep runs, and keeps what was recorded
    assert not dead.exists() and work_leftovers(case_home) == []
    assert blob_file(case_home, blob).exists() and orphan_blobs(case_home) == set()
    assert run_cli("check").code == 0


def _try_lock(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_a_command_killed_while_making_its_work_folder_leaves_nothing_for_long(case_home: Path) -> None:
    """Killed after the lock file of its folder existed (the lock goes with the process), the
    half-made folder is removed by the next command; one whose lock is held (a command making it
    right now) is left alone, and so is one with no lock file yet, until it is GRACE old."""
    tmp = case_home / layout.BLOBS / "tmp"
    died, making, bare = tmp / ".new-work-died", tmp / ".new-work-making", tmp / ".new-work-bare"
    for folder in (died, making, bare):
        folder.mkdir()
    (died / workdir.LOCK).touch()
    held = os.open(making / workdir.LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert run_cli("list").code == 0
        assert not died.exists() and making.exists() and bare.exists()
    finally:
        os.close(held)
    long_ago = time.time() - workdir.GRACE - 60
    os.utime(bare, (long_ago, long_ago))
    assert run_cli("list").code == 0
    assert not making.exists() and not bare.exists()


def test_leftovers_of_older_versions_go_once_they_are_old(case_home: Path) -> None:
    """Before work folders were locked, a killed import left its copy of the export for good."""
    tmp = case_home / layout.BLOBS / "tmp"
    old_copy, old_half, fresh = tmp / "work-x1y2z3", tmp / "4242-0123456789abcdef", tmp / "work-just-made"
    (old_copy / "export").mkdir(parents=True)
    (old_copy / "export" / "chat.zip").write_bytes(b"the whole chat")
    old_half.write_bytes(b"half a blob")
    fresh.mkdir()
    long_ago = time.time() - 3600
    for path in (old_copy, old_half):
        os.utime(path, (long_ago, long_ago))
    assert run_cli("list").code == 0
    assert not old_copy.exists() and not old_half.exists()
    assert fresh.exists()  # may be a command that started a moment ago
