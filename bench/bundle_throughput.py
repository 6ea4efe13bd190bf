"""How fast ``evidencekit seal`` and ``verify`` run, plain and sealed, next to ``openssl dgst -sha256``.

A case of 1 GiB (8 random files of 128 MiB) is added to a fresh locker. Then, for several rounds,
each operation runs right after ``openssl dgst -sha256`` over the same item files, so both see the
same machine load and a warm page cache:

* ``seal`` (plain ZIP) and ``verify`` of it,
* ``seal --to`` (encrypted to one recipient) and ``verify`` of that (decrypt, then check).

Each operation is measured twice: as the command a person runs (a fresh ``evidencekit`` process,
start-up included) and as the library call inside an already started process (the bundle code
alone, key derivation included). Hashing every byte is the cost no verifier can avoid, so
openssl is the honest reference. Prints MB/s of item bytes, the median ratio to openssl, the CPU
seconds (user + system, all threads), and the peak resident memory of each command (``ru_maxrss``
of that child, from ``wait4``). Targets: plain verify >= 0.8 of openssl, plain seal and sealed seal
and verify >= 0.5, peak memory < 200 MB.

Run: ``python bench/bundle_throughput.py [--rounds N] [--size-mib N]``. Needs about five times the
case size free in the temporary folder (``TMPDIR``).
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
TARGETS = {"seal plain": 0.5, "verify plain": 0.8, "seal sealed": 0.5, "verify sealed": 0.5}
MEMORY_TARGET_MB = 200

# The same operations as library calls; the child prints its own wall and CPU seconds.
LIBRARY = """
import json, os, sys, time
from pathlib import Path
from evidencekit import bundle
from evidencekit.locker import Locker
what, path = sys.argv[1], Path(sys.argv[2])
passphrase = os.environ["EVIDENCEKIT_PASSPHRASE"]
with Locker.open(os.environ["EVIDENCEKIT_HOME"]) as locker:
    wall, cpu = time.perf_counter(), time.process_time()
    if what == "seal":
        bundle.seal(locker, passphrase, recipients=sys.argv[3:], output=path, plain=not sys.argv[3:])
    else:
        identity = locker.identity_signer(passphrase) if bundle.is_sealed(path) else None
        assert bundle.verify(path, identity=identity).verdict != "invalid"
    print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]))
"""


def _make_files(folder: Path, total_mib: int) -> list[Path]:
    paths = []
    for n in range(FILES):
        path = folder / f"evidence-{n}.bin"
        with open(path, "wb") as f:
            for _ in range(total_mib // FILES // 4):
                f.write(os.urandom(4 << 20))
        paths.append(path)
    return paths


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system, all threads), peak resident MB and stdout of one
    child process, started with ``posix_spawn`` and reaped with ``wait4`` for its own rusage."""
    read_out, write_out = os.pipe()
    read_err, write_err = os.pipe()
    actions = [(os.POSIX_SPAWN_DUP2, write_out, 1), (os.POSIX_SPAWN_DUP2, write_err, 2),
               (os.POSIX_SPAWN_CLOSE, read_out), (os.POSIX_SPAWN_CLOSE, read_err)]
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, env if env is not None else os.environ, file_actions=actions)
    os.close(write_out)
    os.close(write_err)
    with os.fdopen(read_out, "rb") as out_file, os.fdopen(read_err, "rb") as err_file:
        out = out_file.read()  # outputs are small: reading one after the other cannot deadlock
        err = err_file.read()
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(command[:5])} … failed ({code}): {err.decode().strip()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.decode()


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
        env = {**os.environ, "EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_PASSPHRASE": "bench mark unrelated words ferry",
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
        run(reference)  # warm the page cache

        plain, sealed = root / "case.zip", root / "case.evidencekit"
        library = [sys.executable, "-c", LIBRARY]
        operations = {
            "seal plain": ([*cli, "seal", "--no-stamp", "--plain", "-o", str(plain)], [*library, "seal", str(plain)], plain),
            "verify plain": ([*cli, "verify", str(plain)], [*library, "verify", str(plain)], None),
            "seal sealed": ([*cli, "seal", "--no-stamp", "--to", "handler", "-o", str(sealed)],
                            [*library, "seal", str(sealed), "handler"], sealed),
            "verify sealed": ([*cli, "verify", str(sealed)], [*library, "verify", str(sealed)], None),
        }
        rows: dict[str, dict[str, list[float]]] = {
            name: {k: [] for k in ("wall", "cpu", "ratio", "cpu_ratio", "rss", "lib_wall", "lib_cpu", "lib_ratio")}
            for name in operations}
        reference_wall: list[float] = []
        reference_cpu: list[float] = []
        load_before = os.getloadavg()[0]
        for _ in range(args.rounds):
            for name, (command, call, output) in operations.items():
                row = rows[name]
                if output:
                    output.unlink(missing_ok=True)
                ref_wall, ref_cpu, _, _ = run(reference)
                wall, cpu, rss, _ = run(command, env)
                reference_wall.append(ref_wall)
                reference_cpu.append(ref_cpu)
                row["wall"].append(wall)
                row["cpu"].append(cpu)
                row["ratio"].append(ref_wall / wall)
                row["cpu_ratio"].append(ref_cpu / cpu)
                row["rss"].append(rss)
                if output:  # the library call writes the same file again
                    output.unlink()
                ref_wall, _, _, _ = run(reference)
                lib_wall, lib_cpu = json.loads(run(call, env)[3])
                row["lib_wall"].append(lib_wall)
                row["lib_cpu"].append(lib_cpu)
                row["lib_ratio"].append(ref_wall / lib_wall)
        startup = [run([*cli, "--version"], env) for _ in range(3)]
        load_after = os.getloadavg()[0]

    med = statistics.median
    print(f"bundle_throughput: {total_mb:.0f} MB of items in {FILES} files, {args.rounds} rounds, medians; "
          "each run right after openssl on the same files")
    print(f"  load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs "
          "(a busy machine lowers wall-clock ratios; CPU seconds much less)")
    print(f"  {'':24s} {'command (fresh process)':>38s} | {'library call':>25s}")
    print(f"  {'':24s} {'MB/s':>6s} {'ratio':>6s} {'target':>7s} {'CPU s':>6s} {'peak MB':>8s} | "
          f"{'MB/s':>6s} {'ratio':>6s} {'CPU s':>6s}")
    print(f"  {'openssl dgst -sha256':24s} {total_mb / med(reference_wall):6.0f} {'':6s} {'':7s} "
          f"{med(reference_cpu):6.2f}")
    missed = []
    for name, row in rows.items():
        ratio, target = med(row["ratio"]), TARGETS[name]
        if target is not None and ratio < target:
            missed.append(f"{name} ({ratio:.2f} < {target})")
        print(f"  {'evidencekit ' + name:24s} {total_mb / med(row['wall']):6.0f} {ratio:6.2f} "
              f"{'' if target is None else '>= ' + str(target):>7s} {med(row['cpu']):6.2f} {max(row['rss']):8.0f} | "
              f"{total_mb / med(row['lib_wall']):6.0f} {med(row['lib_ratio']):6.2f} {med(row['lib_cpu']):6.2f}")
    print(f"  evidencekit start-up alone (--version): {med(s[0] for s in startup):.2f} s wall, "
          f"{med(s[1] for s in startup):.2f} s CPU; every command above includes it")
    over = [n for n, row in rows.items() if max(row["rss"]) >= MEMORY_TARGET_MB]
    print(f"  peak memory < {MEMORY_TARGET_MB} MB: {'MISSED by ' + ', '.join(over) if over else 'met'}")
    print(f"  speed targets (command): {'missed: ' + '; '.join(missed) if missed else 'met'}")


if __name__ == "__main__":
    main()
