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
        env = {**os.environ, "EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_PASSPHRASE": "bench"}
        cli = [sys.executable, "-m", "evidencekit"]
        subprocess.run([*cli, "init", "--kdf", "interactive"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([*cli, "case", "new", "Benchmark"], check=True, env=env, stdout=subprocess.DEVNULL)
        total_mb = FILES * FILE_SIZE / 1e6
        reference = _timed(["openssl", "dgst", "-sha256", *map(str, files)])  # files now in page cache
        reference = min(reference, _timed(["openssl", "dgst", "-sha256", *map(str, files)]))
        ours = _timed([*cli, "add", "--no-stamp", *map(str, files)] if _has_no_stamp(cli, env)
                      else [*cli, "add", *map(str, files)], env)
    print(f"add_throughput: {total_mb:.0f} MB in {FILES} files")
    print(f"  openssl dgst -sha256 : {total_mb / reference:7.0f} MB/s")
    print(f"  evidencekit add      : {total_mb / ours:7.0f} MB/s  (hash + copy + fsync + record + sign)")
    print(f"  ratio                : {reference / ours:7.2f}  (target >= 0.80)")


def _has_no_stamp(cli: list[str], env: dict[str, str]) -> bool:
    helptext = subprocess.run([*cli, "add", "--help"], capture_output=True, text=True, env=env).stdout
    return "--no-stamp" in helptext


if __name__ == "__main__":
    main()
