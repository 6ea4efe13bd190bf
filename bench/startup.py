"""How quickly ``evidencekit --version`` and ``evidencekit doctor`` start, next to ``python -c pass``.

Each command runs in a fresh process, alternating with the reference; the medians of ``--runs``
(default 10) are compared. ``doctor`` runs offline against a set-up locker in a temporary HOME
(identity, connector for each browser found, one case), so it does every check a worker's would:
with the passphrase it opens the encrypted locker, which costs one run of the KDF (``interactive``
here; the default ``moderate`` costs several times more), and without it (locked) it does not.
Bytecode is written once and reused, as in an installed package.
The target (issue 13) is under 0.5 s for each on the machine that runs it.
Run: ``.venv/bin/python bench/startup.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.5  # seconds


def seconds(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="evidencekit-startup-") as scratch:
        # An installed package has its bytecode (pip compiles it); a checkout run without it would
        # time the compiler. The bytecode goes to the scratch folder, not into the checkout.
        env = {**os.environ, "HOME": scratch, "EVIDENCEKIT_HOME": str(Path(scratch) / "locker"),
               "EVIDENCEKIT_PASSPHRASE": "correct horse battery staple", "EVIDENCEKIT_LANG": "en",
               "PYTHONPYCACHEPREFIX": str(Path(scratch) / "bytecode")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cli = [sys.executable, "-m", "evidencekit"]
        subprocess.run([*cli, "setup", "--yes", "--kdf", "interactive"], env=env, check=True, capture_output=True)
        subprocess.run([*cli, "case", "new", "Startup case"], env=env, check=True, capture_output=True)
        locked = {k: v for k, v in env.items() if k != "EVIDENCEKIT_PASSPHRASE"}
        commands = {"python -c pass": ([sys.executable, "-c", "pass"], env),
                    "evidencekit --version": ([*cli, "--version"], env),
                    "evidencekit doctor": ([*cli, "doctor"], env),
                    "evidencekit doctor, locked": ([*cli, "doctor"], locked)}
        for command, its_env in commands.values():  # warm the file cache and the bytecode
            seconds(command, its_env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, (command, its_env) in commands.items():
                times[name].append(seconds(command, its_env))
    reference = statistics.median(times["python -c pass"])
    print(f"startup, median of {runs} (reference: python -c pass = {reference * 1000:.0f} ms)")
    for name, samples in times.items():
        median = statistics.median(samples)
        verdict = "" if name == "python -c pass" else ("  under 0.5 s" if median < TARGET else "  OVER 0.5 s")
        print(f"  {name:<28} {median * 1000:6.0f} ms   ratio {median / reference:5.1f}{verdict}")


if __name__ == "__main__":
    main()
