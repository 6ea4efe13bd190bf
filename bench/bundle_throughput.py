"""How fast ``evidencekit seal`` and ``verify`` run, plain and sealed, next to ``openssl dgst -sha256``.

A case of 1 GiB (8 random files of 128 MiB) is added to a fresh locker. Then, for several rounds,
each measured command runs right after ``openssl dgst -sha256`` over the same item files, so both
see the same machine load and a warm page cache:

* ``seal`` (plain ZIP) and ``verify`` of it,
* ``seal --to`` (encrypted to one recipient) and ``verify`` of that (decrypt, then check).

Hashing every byte is the cost no verifier can avoid, so openssl is the honest reference. Prints
MB/s of item bytes, the median ratio to openssl per command, and the peak resident memory of each
CLI process (``ru_maxrss`` of that child, from ``wait4``). Targets: plain verify >= 0.8 of openssl,
sealed seal and verify >= 0.5, peak memory < 200 MB.

Run: ``python bench/bundle_throughput.py [--rounds N] [--size-mib N]``. Needs ~5x the case size
free in the temporary folder (``TMPDIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = 8
TARGETS = {"seal plain": None, "verify plain": 0.8, "seal sealed": 0.5, "verify sealed": 0.5}
MEMORY_TARGET_MB = 200


def _make_files(folder: Path, total_mib: int) -> list[Path]:
    paths = []
    per_file = total_mib // FILES
    for n in range(FILES):
        path = folder / f"evidence-{n}.bin"
        with open(path, "wb") as f:
            for _ in range(per_file // 4):
                f.write(os.urandom(4 << 20))
        paths.append(path)
    return paths


def _run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak resident MB of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()  # small; read before waiting so the child never blocks on a full pipe
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command[:5])} … failed ({proc.returncode}): {err.decode().strip()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux: ru_maxrss in KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024, help="case size (default 1024 MiB)")
    args = parser.parse_args()
    if not shutil.which("openssl"):
        sys.exit("openssl is needed as the reference; install it (Debian: apt-get install openssl).")
    with tempfile.TemporaryDirectory(prefix="ek-bench-") as scratch:
        root = Path(scratch)
        files = _make_files(root, args.size_mib)
        env = {**os.environ, "EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_PASSPHRASE": "bench",
               "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": "", "EVIDENCEKIT_LANG": "en"}
        cli = [sys.executable, "-m", "evidencekit"]

        def quiet(*more: str) -> str:
            return subprocess.run([*cli, *more], check=True, env=env, capture_output=True, text=True).stdout

        quiet("init", "--kdf", "interactive")
        quiet("case", "new", "Benchmark")
        quiet("add", "--no-stamp", *map(str, files))
        quiet("recipients", "add", "handler", json.loads(quiet("keys", "show", "--json"))["public_key"])
        total_mb = sum(p.stat().st_size for p in files) / 1e6
        reference = ["openssl", "dgst", "-sha256", *map(str, files)]
        _run(reference)  # warm the page cache

        plain, sealed = root / "case.zip", root / "case.sealed"
        commands = {
            "seal plain": [*cli, "seal", "--no-stamp", "-o", str(plain)],
            "verify plain": [*cli, "verify", str(plain)],
            "seal sealed": [*cli, "seal", "--no-stamp", "--to", "handler", "-o", str(sealed)],
            "verify sealed": [*cli, "verify", str(sealed)],
        }
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        ratios: dict[str, list[float]] = {name: [] for name in commands}
        cpu_ratios: dict[str, list[float]] = {name: [] for name in commands}
        openssl_wall: list[float] = []
        openssl_cpu: list[float] = []
        peak: dict[str, float] = {name: 0.0 for name in commands}
        load_before = os.getloadavg()[0]
        for _ in range(args.rounds):
            plain.unlink(missing_ok=True)
            sealed.unlink(missing_ok=True)
            for name, command in commands.items():
                ref_wall, ref_cpu, _ = _run(reference)
                ours_wall, ours_cpu, rss = _run(command, env)
                openssl_wall.append(ref_wall)
                openssl_cpu.append(ref_cpu)
                wall[name].append(ours_wall)
                cpu[name].append(ours_cpu)
                ratios[name].append(ref_wall / ours_wall)
                cpu_ratios[name].append(ref_cpu / ours_cpu)
                peak[name] = max(peak[name], rss)
        startup = [_run([*cli, "--version"], env) for _ in range(3)]
        load_after = os.getloadavg()[0]

    med = statistics.median
    print(f"bundle_throughput: {total_mb:.0f} MB of items in {FILES} files, {args.rounds} rounds, medians; "
          f"each command run right after openssl on the same files")
    print(f"  load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs "
          "(wall-clock ratios suffer on a busy machine; the CPU-time ratio much less)")
    print(f"  {'':24s} {'MB/s':>6s} {'ratio':>6s} {'target':>7s} {'cpu s':>6s} {'cpu ratio':>9s} {'peak MB':>8s}")
    print(f"  {'openssl dgst -sha256':24s} {total_mb / med(openssl_wall):6.0f} {'':6s} {'':7s} {med(openssl_cpu):6.2f}")
    missed = []
    for name in commands:
        ratio, target = med(ratios[name]), TARGETS[name]
        if target is not None and ratio < target:
            missed.append(f"{name} ({ratio:.2f} < {target})")
        print(f"  {'evidencekit ' + name:24s} {total_mb / med(wall[name]):6.0f} {ratio:6.2f} "
              f"{'' if target is None else '>= ' + str(target):>7s} {med(cpu[name]):6.2f} {med(cpu_ratios[name]):9.2f} "
              f"{peak[name]:8.0f}")
    print(f"  evidencekit start-up alone (--version): {med(s[0] for s in startup):.2f} s wall, "
          f"{med(s[1] for s in startup):.2f} s CPU, included in every row above")
    over = [n for n, mb in peak.items() if mb >= MEMORY_TARGET_MB]
    print(f"  peak memory < {MEMORY_TARGET_MB} MB: {'MISSED by ' + ', '.join(over) if over else 'met'}")
    print(f"  speed targets: {'missed: ' + '; '.join(missed) if missed else 'met'}")


if __name__ == "__main__":
    main()
