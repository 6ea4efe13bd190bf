"""``import`` killed at any instant: the export is imported whole or not at all, and no copy of it
(the worker's whole chat) stays anywhere: not in ``$TMPDIR``, not in the locker's work area."""

from __future__ import annotations

import hashlib
import random
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from test_crash_safety import (campaign_size, kill_after, live_processes, marked_env, orphan_blobs, start_cli,
                               timed_run, work_leftovers)

MEDIA = 6
MEDIA_SIZE = 4 << 20


def whatsapp_zip(path: Path, trial: int, media: int = MEDIA, media_size: int = MEDIA_SIZE) -> str:
    """A WhatsApp export as the phone shares it: ``_chat.txt`` and its pictures, in one zip."""
    rng = random.Random(trial)
    lines = []
    for n in range(3000):
        lines.append(f"{1 + n // 1440 % 28:02d}.03.2022, {n // 60 % 24:02d}:{n % 60:02d} - Kari: melding {n} {trial}")
    for n in range(media):
        lines.append(f"28.03.2022, 10:{n:02d} - Ola: IMG-20220328-WA{n:04d}.jpg (file attached)")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_chat.txt", "\n".join(lines) + "\n")
        for n in range(media):  # pictures do not compress
            z.writestr(f"IMG-20220328-WA{n:04d}.jpg", rng.randbytes(media_size), zipfile.ZIP_STORED)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_sigkill_during_import_leaves_no_copy_and_no_half_item(case_home: Path, tmp_path: Path,
                                                                request: pytest.FixtureRequest) -> None:
    export = tmp_path / "WhatsApp Chat with Kari.zip"
    whatsapp_zip(export, -1)
    marker, env = marked_env(tmp_path / "tmpdir")
    full_run = timed_run("import", export, "--no-stamp", env=env)
    rng = random.Random(20261201)
    outcomes = {"whole": 0, "none": 0}
    for trial in range(campaign_size(request, 5)):
        digest = whatsapp_zip(export, trial)
        before = run_cli("list", "--json").json()
        kill_after(start_cli("import", export, "--no-stamp", env=env), rng.uniform(0.2, 1.05) * full_run)

        after = run_cli("list", "--json")  # the next command: it succeeds and cleans up
        assert after.code == 0, f"trial {trial}: {after.err}"
        assert work_leftovers(case_home) == [], f"trial {trial}"
        assert list(Path(env["TMPDIR"]).iterdir()) == [], f"trial {trial}"
        assert orphan_blobs(case_home) == set(), f"trial {trial}"
        assert live_processes(marker) == [], f"trial {trial}"
        check = run_cli("check")
        assert check.code == 0, f"trial {trial}: {check.out}{check.err}"
        items = after.json()
        assert len(items) in (len(before), len(before) + 1), f"trial {trial}"
        if len(items) == len(before) + 1:
            outcomes["whole"] += 1
            assert items[-1]["files"][0]["sha256"] == digest
            assert items[-1]["files"][-1]["name"] == "evidencekit-transcript.json"
        else:
            outcomes["none"] += 1
    print(f"after import kills: {outcomes}")
