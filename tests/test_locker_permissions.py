"""The locker is private to its owner: folders 0700, files 0600, blobs 0400, whatever the umask and
even when the folder existed before, loose; what else a chosen folder holds is left as it was."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import PASSPHRASE, run_cli
from evidencekit._internal import layout
from locker_files import blob_files, open_locker
from test_crash_import import whatsapp_zip


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    before = os.umask(mask)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _loose(home: Path) -> list[str]:
    """Everything under ``home`` that is not as private as it must be."""
    found = []
    for path in [home, *home.rglob("*")]:
        is_blob = path.parent.parent == home / layout.BLOBS and len(path.parent.name) == 2
        wanted = 0o700 if path.is_dir() else 0o400 if is_blob else 0o600
        if _mode(path) != wanted:
            found.append(f"{oct(_mode(path))} {path.relative_to(home)}")
    return found


def test_everything_is_private_under_a_permissive_umask(home: Path, tmp_path: Path) -> None:
    export = tmp_path / "WhatsApp Chat with Kari.zip"
    whatsapp_zip(export, 3, media=2, media_size=1 << 16)
    note = tmp_path / "photo.jpg"
    note.write_bytes(b"\xff\xd8 picture")
    for args in (("init", "--kdf", "interactive"), ("case", "new", "Umask"), ("add", note, "--no-stamp"),
                 ("note", "what they said", "--no-stamp"), ("import", export, "--no-stamp"), ("check",)):
        result = run_cli(*args, umask=0)
        assert result.code == 0, result.err
    assert _loose(home) == []
    with _umask(0), open_locker(home) as locker:  # while a command runs: -wal, -shm, its work folder
        locker.add_note("another note", PASSPHRASE)
        scratch = locker.scratch()
        (scratch / "page.png").write_bytes(b"work in progress")  # written by someone else's code
        names = {p.name for p in home.iterdir()}
        assert {f"{layout.DATABASE}-wal", f"{layout.DATABASE}-shm"} <= names
        assert _mode(scratch) == 0o700 and _mode(scratch.parent) == 0o700
        assert [line for line in _loose(home) if not line.endswith("page.png")] == []
    assert _loose(home) == []


def test_a_loose_folder_that_existed_is_tightened(home: Path) -> None:
    home.mkdir(mode=0o777)
    os.chmod(home, 0o777)
    assert run_cli("init", "--kdf", "interactive").code == 0
    assert run_cli("case", "new", "Loose").code == 0
    assert run_cli("note", "first", "--no-stamp").code == 0
    # as an older evidencekit (or a careless copy) left it
    os.chmod(home, 0o777)
    blob = blob_files(home)[0]
    for path, mode in ((home / layout.BLOBS, 0o777), (blob.parent, 0o755), (blob, 0o444),
                       (home / layout.DATABASE, 0o666), (home / layout.KEY, 0o644),
                       (home / layout.BLOBS / "tmp", 0o777)):
        os.chmod(path, mode)
    assert run_cli("list", umask=0).code == 0
    assert _loose(home) == []


def test_check_tightens_files_even_in_a_private_folder(case_home: Path) -> None:
    assert run_cli("note", "first", "--no-stamp").code == 0
    blob = blob_files(case_home)[0]
    os.chmod(blob, 0o644)
    assert run_cli("check").code == 0
    assert _mode(blob) == 0o400


def test_other_things_in_a_chosen_folder_are_left_alone(home: Path) -> None:
    """``--home`` may name a folder that holds more than the locker: only the locker is touched."""
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    (home / "notes.txt").write_text("mine")
    os.chmod(home / "notes.txt", 0o644)
    (home / "tool").mkdir(mode=0o755)
    os.chmod(home / "tool", 0o755)
    assert run_cli("init", "--kdf", "interactive").code == 0
    assert _mode(home) == 0o700
    assert _mode(home / "notes.txt") == 0o644 and _mode(home / "tool") == 0o755
