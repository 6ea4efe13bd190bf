"""Hand-over stopped from outside: nothing decrypted lingers, nothing half-written passes for a
bundle, and the log never records a bundle that is not there.

SIGTERM or SIGHUP (a closed terminal) during ``verify`` or ``open`` of a sealed bundle; SIGKILL at
random moments during ``seal`` (plain and sealed, with and without the report, whose Chromium
must die with it); two seals to one path at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PASSPHRASE, run_cli
from test_crash_safety import campaign_size, kill_after, marked_env, start_cli, wait_until_gone

SIZE = 96 * 1024 * 1024


@pytest.fixture(scope="module")
def big_case(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A locker with one large item, sealed to its own identity: verifying it takes a while."""
    root = tmp_path_factory.mktemp("interrupted")
    env = {"EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": "",
           "EVIDENCEKIT_PASSPHRASE": PASSPHRASE, "EVIDENCEKIT_LANG": "en"}
    evidence = root / "recording.bin"
    with open(evidence, "wb") as f:
        f.write(os.urandom(SIZE))
    sample = evidence.read_bytes()[SIZE // 2:SIZE // 2 + 64]
    for args in (("init", "--kdf", "interactive"), ("case", "new", "Stor sak"), ("add", "--no-stamp", evidence)):
        assert run_cli(*args, env=env).code == 0, args
    public = run_cli("keys", "show", "--json", env=env).json()["public_key"]
    assert run_cli("recipients", "add", "me", public, env=env).code == 0
    sealed = root / "big.evidencekit"
    result = run_cli("seal", "--no-stamp", "--no-report", "--to", "me", "-o", sealed, env=env)
    assert result.code == 0, result.err
    evidence.unlink()  # from now on, the plaintext may only exist inside the locker
    return {"root": root, "env": env, "sealed": sealed, "sample": sample}


def _files_holding(folder: Path, sample: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and sample in p.read_bytes()]


def _read_so_far(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@pytest.mark.parametrize("command", ["verify", "open"])
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_stopped_mid_way_leaves_no_plaintext(big_case: dict, tmp_path: Path, command: str,
                                             stop: signal.Signals) -> None:
    marker, env = marked_env(tmp_path / "tmp")
    env.update(big_case["env"])
    places = tmp_path / "places"
    places.mkdir()
    args = [command, big_case["sealed"]] + (["-o", places / "case"] if command == "open" else [])
    proc = start_cli(*args, env=env)
    deadline = time.monotonic() + 60
    while _read_so_far(proc.pid) < SIZE // 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be stopped; make the bundle larger"
    proc.send_signal(stop)
    assert proc.wait(timeout=60) != 0
    assert wait_until_gone(marker) == []
    assert not _files_holding(tmp_path, big_case["sample"])  # TMPDIR and the place it unpacks to
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list(places.iterdir()) == []


def test_two_seals_to_one_path(case_home: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "note.txt"
    evidence.write_bytes(b"Hun sa at jeg skulle passe meg.\n" * 1000)
    assert run_cli("add", "--no-stamp", evidence).code == 0
    for trial in range(3):
        target = tmp_path / f"same-{trial}.zip"
        procs = [start_cli("seal", "--no-stamp", "--no-report", "-o", target) for _ in range(2)]
        codes = sorted(p.wait(timeout=120) for p in procs)
        assert codes == [0, 2], codes  # one writes it; the other says it exists, and logs nothing
        seals = [e for e in run_cli("log", "--json").json() if e["action"] == "bundle.seal"]
        assert len(seals) == trial + 1
        verified = run_cli("verify", target, "--json")
        assert verified.code == 0 and verified.json()["verdict"] != "invalid"
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["plain", "sealed", "plain+report", "sealed+report"])
def test_sigkill_during_seal(case_home: Path, tmp_path: Path, request: pytest.FixtureRequest, kind: str) -> None:
    """Killed at any moment: no stray process, no partial file at all, the next seal to the same
    place works, and every seal in the log has its bundle."""
    evidence = tmp_path / "recording.bin"
    evidence.write_bytes(os.urandom(24 * 1024 * 1024))
    assert run_cli("add", "--no-stamp", evidence).code == 0
    public = run_cli("keys", "show", "--json").json()["public_key"]
    assert run_cli("recipients", "add", "me", public).code == 0
    sealed = kind.startswith("sealed")
    suffix = ".evidencekit" if sealed else ".zip"
    options = ["--no-stamp", *(["--to", "me"] if sealed else ["--plain"]),
               *([] if kind.endswith("report") else ["--no-report"])]
    out = tmp_path / "out"
    out.mkdir()
    started = time.monotonic()
    assert run_cli("seal", *options, "-o", out / f"timing{suffix}").code == 0
    full_run = time.monotonic() - started
    rng = random.Random(f"{kind}-20261201")
    made: list[Path] = [out / f"timing{suffix}"]
    # A short TMPDIR of its own per trial: Chromium puts a socket there, whose path must stay short.
    scratch = Path(tempfile.mkdtemp(prefix="ek-"))
    request.addfinalizer(lambda: shutil.rmtree(scratch, ignore_errors=True))
    for trial in range(campaign_size(request, 1 if kind.endswith("report") else 2)):
        marker, env = marked_env(scratch / str(trial))
        target = out / f"trial-{trial}{suffix}"
        kill_after(start_cli("seal", *options, "-o", target, env=env), rng.uniform(0.05, 1.1) * full_run)
        assert wait_until_gone(marker) == [], f"trial {trial}: a process outlived the seal"
        # The unfinished bundle had no name (O_TMPFILE): a killed seal leaves nothing beside it.
        assert [p.name for p in out.iterdir() if not p.name.endswith(suffix)] == [], f"trial {trial}"
        if target.exists():
            made.append(target)
        else:  # the next seal to the same place works, and sweeps what the killed one left
            result = run_cli("seal", *options, "-o", target, env=env)
            assert result.code == 0, f"trial {trial}: {result.err}"
            made.append(target)
            assert [p for p in out.iterdir() if p.name.endswith(".partial")] == []
        assert list((scratch / str(trial)).iterdir()) == [], f"trial {trial}: scratch left in TMPDIR"
    # The log never records a hand-over that did not happen.
    logged = [e for e in run_cli("log", "--json").json() if e["action"] == "bundle.seal"]
    assert len(logged) <= len(made)
    digests = set()
    for bundle in made:
        manifest = _manifest_of(bundle, sealed)
        digests.add(hashlib.sha256(manifest).hexdigest())
    assert run_cli("check").code == 0
    assert len(digests) == len(made)


def _manifest_of(bundle: Path, sealed: bool) -> bytes:
    opened = run_cli("open", bundle, "-o", bundle.with_suffix(".opened"), "--json")
    assert opened.code == 0, opened.out + opened.err
    data = json.loads(opened.out)
    return Path(data["folder"], "manifest.json").read_bytes()


def test_open_killed_outright_is_swept_by_the_next_open(big_case: dict, tmp_path: Path) -> None:
    """SIGKILL gives no chance to clean up: the half-unpacked folder stays until the next open."""
    marker, env = marked_env(tmp_path / "tmp")
    env.update(big_case["env"])
    places = tmp_path / "places"
    places.mkdir()
    proc = start_cli("open", big_case["sealed"], "-o", places / "first", env=env)
    deadline = time.monotonic() + 60
    while _read_so_far(proc.pid) < SIZE // 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be stopped; make the bundle larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert wait_until_gone(marker) == []
    assert [p.name for p in places.iterdir() if p.name.startswith(".evidencekit-opening-")]  # left behind
    done = run_cli("open", big_case["sealed"], "-o", places / "second", env=env)
    assert done.code == 0, done.out + done.err
    assert sorted(p.name for p in places.iterdir()) == ["second"]


def test_without_unnamed_files_a_locked_partial_is_used_and_swept(case_home: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the file system has no O_TMPFILE (FAT, exFAT): a private, locked .partial, swept by
    the next seal once no running seal holds it."""
    import fcntl

    from bundle_support import invoke

    evidence = tmp_path / "note.txt"
    evidence.write_bytes(b"Hun sa at jeg skulle passe meg.\n")
    assert run_cli("add", "--no-stamp", evidence).code == 0
    out = tmp_path / "usb"
    out.mkdir()
    stale = out / ".old.zip.abcd1234.partial"  # what a seal killed on such a stick left
    stale.write_bytes(b"PK\x03\x04 half a bundle")
    held = out / ".busy.zip.efgh5678.partial"  # one a running seal still writes
    held.write_bytes(b"PK\x03\x04")
    with open(held, "rb") as busy:
        fcntl.flock(busy, fcntl.LOCK_EX)
        monkeypatch.delattr(os, "O_TMPFILE")
        result = invoke("seal", "--no-stamp", "--no-report", "-o", out / "case.zip")
        assert result.code == 0, result.err
        assert sorted(p.name for p in out.iterdir()) == [".busy.zip.efgh5678.partial", "case.zip"]
    assert invoke("verify", out / "case.zip").code == 0
