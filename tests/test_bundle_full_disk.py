"""Hand-over on a full disk: ``seal`` and ``open`` name the full disk and where, leave no partial
file or folder, and log nothing that did not happen (a real 20 MB tmpfs; skipped where mounting is
not allowed)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import run_cli
from test_full_disk import FULL, _fill, _mount_tmpfs

import pytest


@pytest.fixture
def small_disk(tmp_path: Path):
    yield from _mount_tmpfs(tmp_path / "disk", "20m")


def _one_sentence_naming(result, folder: Path) -> None:
    assert result.code not in (0, 70), result.err
    assert result.err.startswith(FULL) and str(folder) in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_seal_onto_a_full_disk(case_home: Path, small_disk: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "video.bin"
    evidence.write_bytes(os.urandom(8 << 20))
    assert run_cli("add", "--no-stamp", evidence).code == 0
    _fill(small_disk, 3 << 20)  # room for part of the bundle only
    seals_before = [e for e in run_cli("log", "--json").json() if e["action"] == "bundle.seal"]
    result = run_cli("seal", "--no-stamp", "--no-report", "-o", small_disk / "case.zip")
    _one_sentence_naming(result, small_disk)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    assert [e for e in run_cli("log", "--json").json() if e["action"] == "bundle.seal"] == seals_before
    assert run_cli("check").code == 0


def test_open_onto_a_full_disk(case_home: Path, small_disk: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "video.bin"
    evidence.write_bytes(os.urandom(8 << 20))
    assert run_cli("add", "--no-stamp", evidence).code == 0
    bundle = tmp_path / "case.zip"
    assert run_cli("seal", "--no-stamp", "--no-report", "-o", bundle).code == 0
    _fill(small_disk, 3 << 20)
    result = run_cli("open", bundle, "-o", small_disk / "case")
    _one_sentence_naming(result, small_disk)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
