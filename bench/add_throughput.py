"""How fast the locker stores and re-checks evidence, next to ``openssl dgst -sha256`` on the same bytes.

Hashing is the cost that cannot be avoided; storing (encrypt, write, fsync, rename, record, sign)
and checking (decrypt every chunk, hash anew) should add little to it. For 1 GiB as eight 128 MiB
files and as one file it prints, as a ratio of our speed to the reference's (higher is better):

- ``Locker.add_files`` (the library path, key already open), target >= 0.6;
- ``Locker.check`` of the locker holding those bytes, target >= 0.5;
- ``evidencekit add`` (the command: start-up and key unlock too), for information.

Each round runs the reference and ours one after the other on the same files in the page cache;
the median of ``--rounds`` rounds is printed, with the load average, as the machine may be shared.
Run: ``python bench/add_throughput.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evidencekit.locker import Locker

GIB = 1024 * 1024 * 1024
WORKLOADS = {"8 x 128 MiB": (8, GIB // 8), "1 x 1 GiB": (1, GIB)}
PASSPHRASE = "bench locker without evidence"
ADD_TARGET, CHECK_TARGET = 0.6, 0.5


def _make_files(folder: Path, count: int, size: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for n in range(count):
        path = folder / f"evidence-{n}.bin"
        with open(path, "wb") as f:
            for _ in range(size // (4 * 1024 * 1024)):
                f.write(os.urandom(4 * 1024 * 1024))
        paths.append(path)
    return paths


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def _openssl(files: list[Path]) -> float:
    return _timed(["openssl", "dgst", "-sha256", *map(str, files)])


def _library_add(home: Path, files: list[Path]) -> tuple[float, Locker]:
    """Seconds for ``add_files`` in a new locker whose case key is open, and that locker."""
    locker = Locker.create(home, PASSPHRASE, "interactive")
    locker.create_case("Benchmark", PASSPHRASE)
    locker.case_signer(locker.case().id, PASSPHRASE)  # the key is open, as in a running session
    started = time.perf_counter()
    locker.add_files(files, PASSPHRASE)
    return time.perf_counter() - started, locker


def _library_check(locker: Locker) -> float:
    started = time.perf_counter()
    report = locker.check()
    elapsed = time.perf_counter() - started
    if report.problems:
        sys.exit(f"check found problems in the bench locker: {report.problems}")
    return elapsed


def _command_add(root: Path, files: list[Path]) -> float:
    env = {**os.environ, "EVIDENCEKIT_HOME": str(root / "command-locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE}
    cli = [sys.executable, "-m", "evidencekit"]
    subprocess.run([*cli, "init", "--kdf", "interactive"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([*cli, "case", "new", "Benchmark"], check=True, env=env, stdout=subprocess.DEVNULL)
    return _timed([*cli, "add", "--no-stamp", *map(str, files)], env)


def _round(root: Path, files: list[Path], with_command: bool) -> dict[str, float]:
    """One round's ratios (our speed / openssl's on the same bytes just before)."""
    ratios = {}
    reference = _openssl(files)
    added, locker = _library_add(root / "library-locker", files)
    ratios["Locker.add_files"] = reference / added
    try:
        reference = _openssl(files)
        ratios["Locker.check"] = reference / _library_check(locker)
    finally:
        locker.close()
    if with_command:
        reference = _openssl(files)
        ratios["evidencekit add"] = reference / _command_add(root, files)
    ratios["openssl dgst MB/s"] = sum(f.stat().st_size for f in files) / 1e6 / reference
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-command", action="store_true", help="only the library path")
    args = parser.parse_args()
    if not shutil.which("openssl"):
        sys.exit("openssl is needed as the reference; install it (Debian: apt-get install openssl).")
    os.environ.update(EVIDENCEKIT_OTS_CALENDARS="", EVIDENCEKIT_TSA_URLS="")  # no network
    print(f"add_throughput: {args.rounds} rounds, median ratio of our speed to openssl dgst -sha256's")
    print(f"  load average before: {' '.join(f'{n:.2f}' for n in os.getloadavg())} on {os.cpu_count()} cores")
    for label, (count, size) in WORKLOADS.items():
        with tempfile.TemporaryDirectory(prefix="ek-bench-") as scratch:
            root = Path(scratch)
            files = _make_files(root / "files", count, size)
            _openssl(files)  # into the page cache
            rounds = []
            for n in range(args.rounds):
                here = root / f"round-{n}"
                here.mkdir()
                rounds.append(_round(here, files, not args.no_command))
                shutil.rmtree(here)
        print(f"  {label}:")
        for name in rounds[0]:
            values = [r[name] for r in rounds]
            target = {"Locker.add_files": ADD_TARGET, "Locker.check": CHECK_TARGET}.get(name)
            shown = "  ".join(f"{v:6.2f}" if name != "openssl dgst MB/s" else f"{v:6.0f}" for v in values)
            verdict = f"  target >= {target:.2f}" if target else ""
            print(f"    {name:17}: median {statistics.median(values):7.2f}   rounds {shown}{verdict}")
    print(f"  load average after:  {' '.join(f'{n:.2f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
