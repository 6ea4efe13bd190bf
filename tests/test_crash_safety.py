"""An ``add`` killed at any instant leaves the case whole: the new item complete, or absent."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import run_cli

TRIALS = 24
SIZE = 32 * 1024 * 1024


def _write_evidence(path: Path, trial: int) -> str:
    block = hashlib.sha256(str(trial).encode()).digest() * (1024 * 1024 // 32)
    with open(path, "wb") as f:
        for _ in range(SIZE // len(block)):
            f.write(block)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sigkill_during_add_never_leaves_half_an_item(case_home: Path, tmp_path: Path) -> None:
    big = tmp_path / "recording.bin"
    _write_evidence(big, -1)
    started = time.monotonic()
    assert run_cli("add", big).code == 0
    full_run = time.monotonic() - started
    rng = random.Random(20261126)
    outcomes = {"whole": 0, "none": 0}
    for trial in range(TRIALS):
        digest = _write_evidence(big, trial)
        before = len(run_cli("list", "--json").json())
        proc = subprocess.Popen([sys.executable, "-m", "evidencekit", "add", str(big)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.25, 1.05) * full_run)  # most of the run is start-up and key unlocking
        proc.send_signal(signal.SIGKILL)
        proc.wait()

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
    # leftovers of killed writers are cleaned when the locker is next opened
    assert [p for p in (case_home / "blobs" / "tmp").iterdir()] == []
    print(f"after {TRIALS} kills: {outcomes}")
    assert os.path.exists(case_home / "locker.sqlite")
