"""Hostile files handed over as bundles are refused cleanly by both ``open`` and ``verify``.

Zip slip (``..``, absolute and backslash paths), a link, a zip bomb, 100,000 entries, duplicate
names, something that is not a ZIP at all, and a sealed file addressed to someone else: each
gets exit 2 and one sentence, never a traceback, and ``open`` leaves nothing behind — no target
folder, no half-unpacked staging folder, no decrypted temporary copy.
"""

from __future__ import annotations

import os
import stat
import warnings
import zipfile
from pathlib import Path

import nacl.signing
import pytest

from bundle_support import invoke
from conftest import PASSPHRASE, Result, run_cli
from evidencekit._internal import keys
from evidencekit._internal.bundle import envelope


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we write on purpose
        for info, data in entries:
            archive.writestr(info, data)
    return path


def _link(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3  # Unix, as `zip --symlinks` writes it
    return info


def _hostile(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what the one sentence must say)."""
    ok = b"harmless"
    made = {
        "zip slip ..": (_zip(folder / "slip.zip", [("items/a.txt", ok), ("../escaped.txt", ok)]),
                        "could escape its folder (../escaped.txt)"),
        "zip slip deep": (_zip(folder / "slip-deep.zip", [("items/../../escaped.txt", ok)]), "could escape its folder"),
        "absolute path": (_zip(folder / "absolute.zip", [(str(folder / "escaped-absolute.txt"), ok)]),
                          "could escape its folder"),
        "backslash path": (_zip(folder / "backslash.zip", [("..\\escaped.txt", ok)]), "could escape its folder"),
        "link": (_zip(folder / "link.zip", [("items/a.txt", ok), (_link("items/passwd", "/etc/passwd"), b"/etc/passwd")]),
                 "holds a link (items/passwd)"),
        "zip bomb": (_zip(folder / "bomb.zip", [("items/zeros.bin", bytes(64 << 20))], zipfile.ZIP_DEFLATED),
                     "(a zip bomb)"),
        "duplicate names": (_zip(folder / "twice.zip", [("manifest.json", b"{}"), ("manifest.json", b"{}")]),
                            "holds the name manifest.json twice"),
        "names differing in case": (_zip(folder / "case.zip", [("items/A.txt", ok), ("items/a.txt", ok)]),
                                    "holds the name items/a.txt twice"),
        "only a dot": (_zip(folder / "dot.zip", [(".", ok)]), "could escape its folder (.)"),
        "200 folders deep": (_zip(folder / "deep.zip", [("d/" * 200 + "f", ok)]), "more than 100 folders deep"),
        # Open only: these pass the archive checks, then cannot be written as files.
        "a file where a folder goes": (_zip(folder / "file-dir.zip", [("items/a", ok), ("items/a/b", ok)]),
                                       "Could not unpack items/a/b (File exists); nothing was unpacked."),
        "a name too long": (_zip(folder / "long.zip", [("items/" + "x" * 300, ok)]),
                            "(File name too long); nothing was unpacked."),
    }
    not_zip = folder / "not-a-zip.zip"
    not_zip.write_bytes(b"%PDF-1.7\n" + os.urandom(4000))
    made["not a ZIP"] = (not_zip, "is not a ZIP bundle")
    empty = folder / "empty.zip"
    empty.write_bytes(b"")
    made["empty file"] = (empty, "is not a ZIP bundle")
    return made


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("hostile")
    made = _hostile(folder)
    many = folder / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(100_000):
            archive.writestr(f"items/{n}", b"")
    made["100,000 entries"] = (many, "has 100000 entries, more than the 20000 evidencekit accepts")
    return made


@pytest.fixture
def quiet_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private TMPDIR for the command, to see that nothing is left in it."""
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    return scratch


def _refused(result: Result, says: str) -> None:
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == "" and "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.err


CASES = ["zip slip ..", "zip slip deep", "absolute path", "backslash path", "only a dot", "link", "zip bomb",
         "duplicate names", "names differing in case", "200 folders deep", "not a ZIP", "empty file",
         "100,000 entries"]


@pytest.mark.parametrize("name", CASES)
def test_hostile_archive_refused(name: str, hostile: dict, home: Path, tmp_path: Path, quiet_tmp: Path) -> None:
    path, says = hostile[name]
    _refused(invoke("verify", path, env={"TMPDIR": str(quiet_tmp)}), says)
    place = tmp_path / "unpacked"
    place.mkdir()
    _refused(invoke("open", path, "-o", place / "bundle", env={"TMPDIR": str(quiet_tmp)}), says)
    assert list(place.iterdir()) == []  # no target, no staging folder
    assert list(quiet_tmp.iterdir()) == []
    assert not (tmp_path.parent / "escaped.txt").exists() and not (path.parent / "escaped-absolute.txt").exists()


@pytest.mark.parametrize("name", ["a file where a folder goes", "a name too long"])
def test_open_stops_at_what_cannot_be_written(name: str, hostile: dict, home: Path, tmp_path: Path,
                                              quiet_tmp: Path) -> None:
    """Such archives are not bundles (verify says INVALID); open refuses them whole."""
    path, says = hostile[name]
    place = tmp_path / "unpacked"
    place.mkdir()
    _refused(invoke("open", path, "-o", place / "bundle", env={"TMPDIR": str(quiet_tmp)}), says)
    assert list(place.iterdir()) == [] and list(quiet_tmp.iterdir()) == []
    assert invoke("verify", path).code == 1


@pytest.mark.parametrize("name", ["zip slip ..", "link"])
def test_refused_by_the_installed_command(name: str, hostile: dict, home: Path, tmp_path: Path,
                                          quiet_tmp: Path) -> None:
    """The same, as a person at a terminal sees it: a fresh process, one sentence on stderr."""
    path, says = hostile[name]
    _refused(run_cli("verify", path), says)
    _refused(run_cli("open", path, "-o", tmp_path / "bundle"), says)
    assert not (tmp_path / "bundle").exists() and list(quiet_tmp.iterdir()) == []


def test_open_into_a_folder_in_use_is_refused(home: Path, tmp_path: Path) -> None:
    assert invoke("init", "--kdf", "interactive").code == 0
    assert invoke("case", "new", "Busy").code == 0
    (tmp_path / "e.txt").write_text("x")
    assert invoke("add", tmp_path / "e.txt").code == 0
    bundle = tmp_path / "b.zip"
    assert invoke("seal", "-o", bundle).code == 0
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    _refused(invoke("open", bundle, "-o", busy), "is not an empty folder")
    assert [p.name for p in busy.iterdir()] == ["mine.txt"] and (busy / "mine.txt").read_text() == "keep me"
    _refused(invoke("seal", "-o", bundle), "exists already")


@pytest.fixture(scope="module")
def recipient(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("recipient")
    env = {"EVIDENCEKIT_HOME": str(folder / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE, "EVIDENCEKIT_LANG": "en"}
    made = invoke("init", "--kdf", "interactive", env=env)
    assert made.code == 0, made.err
    env["public_key"] = invoke("keys", "show", "--json", env=env).json()["public_key"]
    return env


def _seal(plain: Path, target: Path, *public_keys: bytes) -> Path:
    with open(plain, "rb") as source, open(target, "wb") as raw:
        writer = envelope.SealWriter(raw, list(public_keys))
        while chunk := source.read(1 << 16):
            writer.write(chunk)
        writer.close()
    return target


def test_sealed_file_not_addressed_to_you(recipient: dict, hostile: dict, tmp_path: Path, quiet_tmp: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in recipient.items():
        monkeypatch.setenv(name, value)
    somebody = nacl.signing.SigningKey.generate()
    sealed = _seal(hostile["names differing in case"][0], tmp_path / "for-somebody.evidencekit", bytes(somebody.verify_key))
    says = "This sealed file is not addressed to your key (it has 1 recipient(s)), or its header is damaged."
    _refused(run_cli("verify", sealed), says)
    _refused(invoke("open", sealed, "-o", tmp_path / "opened", env={"TMPDIR": str(quiet_tmp)}), says)
    assert not (tmp_path / "opened").exists() and list(quiet_tmp.iterdir()) == []


@pytest.mark.parametrize("name", ["zip slip ..", "link", "zip bomb", "not a ZIP"])
def test_hostile_archive_inside_a_sealed_file(name: str, recipient: dict, hostile: dict, tmp_path: Path,
                                              quiet_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decrypting is not trusting: what comes out is checked like any other archive, and the
    decrypted copy is gone afterwards."""
    for key, value in recipient.items():
        monkeypatch.setenv(key, value)
    path, says = hostile[name]
    sealed = _seal(path, tmp_path / "hostile.evidencekit", keys.parse_public_key(recipient["public_key"]))
    verified = invoke("verify", sealed, env={"TMPDIR": str(quiet_tmp)})
    _refused(verified, says)
    assert str(quiet_tmp) not in verified.err  # the private decrypted copy is never named
    place = tmp_path / "unpacked"
    place.mkdir()
    _refused(invoke("open", sealed, "-o", place / "bundle", env={"TMPDIR": str(quiet_tmp)}), says)
    assert list(place.iterdir()) == [] and list(quiet_tmp.iterdir()) == []
