"""A full disk is named as such, with the folder, and changes nothing: on a real 20 MB tmpfs holding
the locker (or the temporary folder), ``add``, ``import`` and ``note`` fail with one sentence; the
case is as it was and ``check`` passes once there is room again."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from evidencekit._internal.browser import BrowserNotFound, find_browser
from evidencekit._internal.demo_site import serve_demo
from evidencekit.errors import disk_full
from test_crash_import import whatsapp_zip
from test_crash_safety import orphan_blobs, work_leftovers

FULL = "No room is left on the disk that holds"


def _mount_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mount_tmpfs(tmp_path / "disk", "20m")


@pytest.fixture
def locker_on_small_disk(small_disk: Path, monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """A locker with one case and a first item, on the small disk."""
    locker = small_disk / "locker"
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(locker))
    assert run_cli("init", "--kdf", "interactive").code == 0
    assert run_cli("case", "new", "Full disk").code == 0
    first = small_disk.parent / "first.bin"
    first.write_bytes(os.urandom(2 << 20))
    assert run_cli("add", first).code == 0
    return locker


def _free(folder: Path) -> int:
    info = os.statvfs(folder)
    return info.f_bavail * info.f_frsize


def _fill(disk: Path, leave: int) -> Path:
    """Take all the room on ``disk`` but ``leave`` bytes."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    with open(filler, "wb") as out:
        want = _free(disk) - leave
        while want > 0:
            want -= out.write(b"\0" * min(want, 1 << 20))
    return filler


def _says_disk_full(result: object, folder: Path) -> None:
    code, err = result.code, result.err  # type: ignore[attr-defined]
    assert code not in (0, 70), err
    assert err.startswith(FULL) and str(folder) in err and len(err.strip().splitlines()) == 1, err


def _unchanged(locker: Path, items: list[dict[str, object]]) -> None:
    assert run_cli("list", "--json").json() == items
    check = run_cli("check")
    assert check.code == 0, check.out + check.err
    assert work_leftovers(locker) == [] and orphan_blobs(locker) == set()


def test_add_larger_than_the_room_left(locker_on_small_disk: Path, tmp_path: Path) -> None:
    before = run_cli("list", "--json").json()
    big = tmp_path / "video.mp4"
    big.write_bytes(os.urandom(_free(locker_on_small_disk) + (1 << 20)))
    _says_disk_full(run_cli("add", big), locker_on_small_disk)
    _unchanged(locker_on_small_disk, before)


def test_import_of_a_large_export(locker_on_small_disk: Path, tmp_path: Path) -> None:
    before = run_cli("list", "--json").json()
    export = tmp_path / "WhatsApp Chat with Kari.zip"
    whatsapp_zip(export, 1, media=4, media_size=4 << 20)  # copied and stored: twice what is left
    _says_disk_full(run_cli("import", export, "--no-stamp"), locker_on_small_disk)
    _unchanged(locker_on_small_disk, before)


def test_note_on_a_full_disk(locker_on_small_disk: Path, small_disk: Path) -> None:
    before = run_cli("list", "--json").json()
    filler = _fill(small_disk, 0)
    _says_disk_full(run_cli("note", "they called again at 9"), locker_on_small_disk)
    filler.unlink()
    _unchanged(locker_on_small_disk, before)


@pytest.mark.parametrize("left_kb", [8, 16, 24, 32, 48, 64, 96])
def test_a_nearly_full_disk_never_says_anything_else(locker_on_small_disk: Path, small_disk: Path,
                                                      left_kb: int) -> None:
    """With a little room the blob may fit and the database not (or the other way round)."""
    before = run_cli("list", "--json").json()
    filler = _fill(small_disk, left_kb << 10)
    result = run_cli("note", f"a note with {left_kb} KB left", "--no-stamp")
    filler.unlink()
    if result.code == 0:
        assert len(run_cli("list", "--json").json()) == len(before) + 1
        assert run_cli("check").code == 0
    else:
        _says_disk_full(result, locker_on_small_disk)
        _unchanged(locker_on_small_disk, before)


def test_a_full_temporary_folder_is_not_used(case_home: Path, tmp_path: Path) -> None:
    """Imports and adds never write to ``$TMPDIR``: a full one does not stop them."""
    for tmpdir in _mount_tmpfs(tmp_path / "tmpdisk", "1m"):
        filler = _fill(tmpdir, 0)
        env = {"TMPDIR": str(tmpdir)}
        export = tmp_path / "WhatsApp Chat with Ola.zip"
        whatsapp_zip(export, 2, media=2, media_size=1 << 20)
        assert run_cli("import", export, "--no-stamp", env=env).code == 0
        assert run_cli("note", "written while the temporary folder was full", "--no-stamp", env=env).code == 0
        assert run_cli("add", export, "--no-stamp", "--again", env=env).code == 0
        assert run_cli("check", env=env).code == 0
        assert [p.name for p in tmpdir.iterdir()] == [filler.name]


def test_export_to_a_full_disk(case_home: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "recording.m4a"
    evidence.write_bytes(os.urandom(3 << 20))
    assert run_cli("add", evidence).code == 0
    for disk in _mount_tmpfs(tmp_path / "usb", "1m"):
        _says_disk_full(run_cli("export", "E-001", "-o", disk / "copy"), disk / "copy")
        assert list((disk / "copy").iterdir()) == []  # no partial copy either


def test_a_full_disk_nobody_named_is_still_a_full_disk() -> None:
    """The command's last resort: a full disk is never reported as a bug (exit 70)."""
    named = disk_full(OSError(errno.ENOSPC, "No space left on device", "/media/usb/out/report.pdf"))
    assert named is not None and named.exit_code == 2
    assert named.message("en").startswith(f"{FULL} /media/usb/out ")
    assert "No room" in str(disk_full(OSError(errno.EDQUOT, "Disk quota exceeded")))
    assert disk_full(OSError(errno.EIO, "Input/output error", "/x")) is None


def test_a_capture_with_a_full_temporary_folder(case_home: Path, tmp_path: Path) -> None:
    try:
        find_browser()
    except BrowserNotFound as error:
        pytest.skip(f"no browser: {error.message('en')}")
    for tmpdir in _mount_tmpfs(tmp_path / "tmpdisk", "1m"):
        filler = _fill(tmpdir, 0)
        with serve_demo() as site:
            result = run_cli("capture", site.url("post"), "--no-stamp", env={"TMPDIR": str(tmpdir)})
        assert result.code == 0 or (result.code != 70 and FULL in result.err and str(tmpdir) in result.err), result.err
        assert run_cli("check").code == 0
        assert [p.name for p in tmpdir.iterdir()] == [filler.name]
