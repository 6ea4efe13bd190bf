"""Hostile files handed over as bundles: ``verify`` says INVALID with the reason, ``open`` writes nothing.

Zip slip (``..``, absolute and backslash paths), a folder entry, a link, a zip bomb, too many
entries, duplicate names (also differing only in case), something that is not a ZIP at all, and
a sealed file addressed to someone else. The archives are written in evidencekit's own exact
layout (``container.py``) wherever the trick allows, so the one thing wrong is the trick itself;
the others are written by Python's zipfile, as a forger's tool would. Each gets the verdict
INVALID (exit 1) naming the problem, never a traceback, and ``open`` leaves nothing behind — no
target folder, no half-unpacked staging folder, nothing in TMPDIR.
"""

from __future__ import annotations

import os
import stat
import warnings
import zipfile
import zlib
from pathlib import Path

import nacl.signing
import pytest

from bundle_support import invoke
from conftest import PASSPHRASE, Result, run_cli
from evidencekit._internal import keys
from evidencekit._internal.bundle import container, envelope


def _exact(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    """Members in evidencekit's exact layout, names taken as given (the writer would refuse them)."""
    made, offset, out = [], 0, []
    for name, data in entries:
        entry = container.Entry(name, len(data), zlib.crc32(data), offset, 0, 0x21)
        header = entry.local_header()
        out += [header, data]
        made.append(entry)
        offset += len(header) + len(data)
    path.write_bytes(b"".join(out) + container.directory(made, offset))
    return path


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for info, data in entries:
            archive.writestr(info, data)
    return path


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3  # Unix, as `zip --symlinks` writes it
    return info


BAD_NAME = "a member name evidencekit never writes"


def _hostile(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what the verdict must say)."""
    ok = b"harmless"
    made = {
        "zip slip ..": (_exact(folder / "slip.zip", [("items/a.txt", ok), ("../escaped.txt", ok)]),
                        f"{BAD_NAME} (../escaped.txt)"),
        "zip slip deep": (_exact(folder / "slip-deep.zip", [("items/../../escaped.txt", ok)]), BAD_NAME),
        "absolute path": (_exact(folder / "absolute.zip", [(str(folder / "escaped-absolute.txt"), ok)]), BAD_NAME),
        "backslash path": (_exact(folder / "backslash.zip", [("..\\escaped.txt", ok)]), BAD_NAME),
        "folder entry": (_exact(folder / "folder.zip", [("items/", ok)]), f"{BAD_NAME} (items/)"),
        "control characters": (_exact(folder / "ctrl.zip", [("items/\x1b[2Jx", ok)]), BAD_NAME),
        "link": (_zip(folder / "link.zip", [(_link("items/passwd"), b"/etc/passwd")]),
                 "The ZIP header of items/passwd is not what evidencekit writes"),
        "zip bomb": (_zip(folder / "bomb.zip", [("items/zeros.bin", bytes(64 << 20))], zipfile.ZIP_DEFLATED),
                     "The ZIP header of items/zeros.bin is not what evidencekit writes"),
        "duplicate names": (_exact(folder / "twice.zip", [("manifest.json", b"{}"), ("manifest.json", b"{}")]),
                            "holds the name manifest.json twice"),
        "names differing in case": (_exact(folder / "case.zip", [("items/A.txt", ok), ("items/a.txt", ok)]),
                                    "holds the name items/a.txt twice"),
        "only a dot": (_exact(folder / "dot.zip", [(".", ok)]), f"{BAD_NAME} (.)"),
        "200 folders deep": (_exact(folder / "deep.zip", [("d/" * 200 + "f", ok)]), BAD_NAME),
        # Valid names, no manifest: INVALID for verify; open cannot even write them as files.
        "a file where a folder goes": (_exact(folder / "file-dir.zip", [("items/a", ok), ("items/a/b", ok)]),
                                       "Could not unpack items/a/b (File exists); nothing was unpacked."),
        "a name too long": (_exact(folder / "long.zip", [("items/" + "x" * 300, ok)]),
                            "(File name too long); nothing was unpacked."),
    }
    not_zip = folder / "not-a-zip.zip"
    not_zip.write_bytes(b"%PDF-1.7\n" + os.urandom(4000))
    made["not a ZIP"] = (not_zip, "does not begin the way a bundle does")
    empty = folder / "empty.zip"
    empty.write_bytes(b"")
    made["empty file"] = (empty, "ends too early")
    return made


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("hostile")
    made = _hostile(folder)
    many = _exact(folder / "many.zip", [(f"items/{n}", b"") for n in range(container.MAX_MEMBERS + 1)])
    made["too many entries"] = (many, f"more than {container.MAX_MEMBERS} files")
    return made


@pytest.fixture
def quiet_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private TMPDIR for the command, to see that nothing is left in it."""
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    return scratch


def _refused(result: Result, says: str) -> None:
    """An error of the input: exit 2 and one sentence on stderr."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == "" and "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.err


def _invalid(result: Result, says: str) -> None:
    """A finding: the verdict INVALID, the reason named, exit 1, no traceback."""
    assert result.code == 1, (result.code, result.out, result.err)
    assert result.out.startswith("INVALID") and says in result.out, result.out
    assert "Traceback" not in result.err


CASES = ["zip slip ..", "zip slip deep", "absolute path", "backslash path", "folder entry", "control characters",
         "only a dot", "link", "zip bomb", "duplicate names", "names differing in case", "200 folders deep",
         "not a ZIP", "empty file", "too many entries"]


@pytest.mark.parametrize("name", CASES)
def test_hostile_archive_refused(name: str, hostile: dict, home: Path, tmp_path: Path, quiet_tmp: Path) -> None:
    path, says = hostile[name]
    _invalid(invoke("verify", path, env={"TMPDIR": str(quiet_tmp)}), says)
    place = tmp_path / "unpacked"
    place.mkdir()
    opened = invoke("open", path, "-o", place / "bundle", env={"TMPDIR": str(quiet_tmp)})
    _invalid(opened, says)
    assert "nothing was unpacked" in opened.out
    assert list(place.iterdir()) == []  # no target, no staging folder
    assert list(quiet_tmp.iterdir()) == []
    assert not (tmp_path.parent / "escaped.txt").exists() and not (path.parent / "escaped-absolute.txt").exists()


@pytest.mark.parametrize("name", ["a file where a folder goes", "a name too long"])
def test_open_stops_at_what_cannot_be_written(name: str, hostile: dict, home: Path, tmp_path: Path,
                                              quiet_tmp: Path) -> None:
    """Such archives are not bundles (verify says INVALID); open stops at the first file it cannot write."""
    path, says = hostile[name]
    place = tmp_path / "unpacked"
    place.mkdir()
    _refused(invoke("open", path, "-o", place / "bundle", env={"TMPDIR": str(quiet_tmp)}), says)
    assert list(place.iterdir()) == [] and list(quiet_tmp.iterdir()) == []
    assert invoke("verify", path).code == 1


@pytest.mark.parametrize("name", ["zip slip ..", "link"])
def test_refused_by_the_installed_command(name: str, hostile: dict, home: Path, tmp_path: Path,
                                          quiet_tmp: Path) -> None:
    """The same, as a person at a terminal sees it: a fresh process."""
    path, says = hostile[name]
    _invalid(run_cli("verify", path), says)
    _invalid(run_cli("open", path, "-o", tmp_path / "bundle"), says)
    assert not (tmp_path / "bundle").exists() and list(quiet_tmp.iterdir()) == []


def test_open_into_a_folder_in_use_is_refused(home: Path, tmp_path: Path) -> None:
    assert invoke("init", "--kdf", "interactive").code == 0
    assert invoke("case", "new", "Busy").code == 0
    (tmp_path / "e.txt").write_text("x")
    assert invoke("add", tmp_path / "e.txt").code == 0
    bundle = tmp_path / "b.zip"
    assert invoke("seal", "--no-report", "-o", bundle).code == 0
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    _refused(invoke("open", bundle, "-o", busy), "is not an empty folder")
    assert [p.name for p in busy.iterdir()] == ["mine.txt"] and (busy / "mine.txt").read_text() == "keep me"
    _refused(invoke("seal", "--no-report", "-o", bundle), "exists already")


@pytest.fixture(scope="module")
def recipient(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("recipient")
    env = {"EVIDENCEKIT_HOME": str(folder / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE, "EVIDENCEKIT_LANG": "en"}
    made = invoke("init", "--kdf", "interactive", env=env)
    assert made.code == 0, made.err
    env["public_key"] = invoke("keys", "show", "--json", env=env).json()["public_key"]
    return env


def _seal(plain: Path, target: Path, *public_keys: bytes) -> Path:
    """Any file encrypted to ``public_keys`` and signed by some key: decrypting is not trusting."""
    signer = nacl.signing.SigningKey.generate()
    with open(plain, "rb") as source, open(target, "wb") as raw, envelope.SealWriter(raw, list(public_keys)) as writer:
        while chunk := source.read(1 << 16):
            writer.write(chunk)
        writer.sign_and_close(signer, bytes(32))
    return target


def test_sealed_file_not_addressed_to_you(recipient: dict, hostile: dict, tmp_path: Path, quiet_tmp: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in recipient.items():
        monkeypatch.setenv(name, value)
    somebody = nacl.signing.SigningKey.generate()
    sealed = _seal(hostile["names differing in case"][0], tmp_path / "for-somebody.evidencekit", bytes(somebody.verify_key))
    says = "This sealed file is not addressed to your key (it has 1 recipient), or its header is damaged."
    _refused(run_cli("verify", sealed), says)
    _refused(invoke("open", sealed, "-o", tmp_path / "opened", env={"TMPDIR": str(quiet_tmp)}), says)
    assert not (tmp_path / "opened").exists() and list(quiet_tmp.iterdir()) == []


@pytest.mark.parametrize("name", ["zip slip ..", "link", "zip bomb", "not a ZIP"])
def test_hostile_archive_inside_a_sealed_file(name: str, recipient: dict, hostile: dict, tmp_path: Path,
                                              quiet_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decrypting is not trusting: what comes out is checked like any other archive, and
    nothing decrypted is written anywhere."""
    for key, value in recipient.items():
        monkeypatch.setenv(key, value)
    path, says = hostile[name]
    sealed = _seal(path, tmp_path / "hostile.evidencekit", keys.parse_public_key(recipient["public_key"]))
    verified = invoke("verify", sealed, env={"TMPDIR": str(quiet_tmp)})
    _invalid(verified, says)
    place = tmp_path / "unpacked"
    place.mkdir()
    _invalid(invoke("open", sealed, "-o", place / "bundle", env={"TMPDIR": str(quiet_tmp)}), says)
    assert list(place.iterdir()) == [] and list(quiet_tmp.iterdir()) == []
