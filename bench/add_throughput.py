"""How fast ``evidencekit add`` stores evidence, next to ``openssl dgst -sha256`` on the same files.

Hashing is the cost that cannot be avoided; storing (copy, fsync, rename, record, sign) should add
little. Prints MB/s for both and the ratio (target >= 0.8). Run: ``python bench/add_throughput.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = 8
FILE_SIZE = 128 * 1024 * 1024  # 8 x 128 MiB = 1 GiB


def _make_files(folder: Path) -> list[Path]:
    paths = []
    for n in range(FILES):
        path = folder / f"evidence-{n}.bin"
        with open(path, "wb") as f:
            for _ in range(FILE_SIZE // (4 * 1024 * 1024)):
                f.write(os.urandom(4 * 1024 * 1024))
        paths.append(path)
    return paths


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def main() -> None:
    if not shutil.which("openssl"):
        sys.exit("openssl is needed as the reference; install it (Debian: apt-get install openssl).")
    with tempfile.TemporaryDirectory(prefix="ek-bench-") as scratch:
        root = Path(scratch)
        files = _make_files(root)
        env = {**os.environ, "EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_PASSPHRASE": "bench locker without evidence",
               "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}
        os.environ.update(EVIDENCEKIT_OTS_CALENDARS="", EVIDENCEKIT_TSA_URLS="")  # the library run: no network
        cli = [sys.executable, "-m", "evidencekit"]
        subprocess.run([*cli, "init", "--kdf", "interactive"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([*cli, "case", "new", "Benchmark"], check=True, env=env, stdout=subprocess.DEVNULL)
        total_mb = FILES * FILE_SIZE / 1e6
        reference = _timed(["openssl", "dgst", "-sha256", *map(str, files)])  # files now in page cache
        reference = min(reference, _timed(["openssl", "dgst", "-sha256", *map(str, files)]))
        ours = _timed([*cli, "add", "--no-stamp", *map(str, files)], env)
        library = _library_add(root / "library-locker", files)
        startup = _timed([*cli, "--version"], env)
    print(f"add_throughput: {total_mb:.0f} MB in {FILES} files")
    print(f"  openssl dgst -sha256          : {total_mb / reference:7.0f} MB/s")
    print(f"  evidencekit add (command)     : {total_mb / ours:7.0f} MB/s  ratio {reference / ours:5.2f}"
          "  (start-up, key unlock, hash + copy + fsync + record + sign)")
    print(f"  Locker.add_files (library)    : {total_mb / library:7.0f} MB/s  ratio {reference / library:5.2f}"
          "  (the same work without process start-up and key unlock)")
    print(f"  command start-up alone        : {startup:7.2f} s")
    print("  target: ratio >= 0.80")


def _library_add(home: Path, files: list[Path]) -> float:
    from evidencekit.locker import Locker

    with Locker.open(home) as locker:
        locker.init_identity("bench", "interactive")
        locker.create_case("Benchmark", "bench")
        locker.case_signer(locker.case().id, "bench")  # the key is open, as in a running session
        started = time.perf_counter()
        locker.add_files(files, "bench")
        return time.perf_counter() - started


if __name__ == "__main__":
    main()
