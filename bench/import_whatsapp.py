"""How fast the WhatsApp importer reads a large export, next to a named reference on the same bytes.

Run: ``.venv/bin/python bench/import_whatsapp.py [--messages 200000]``

Generates a synthetic Android export (Norwegian style, æøå, some multi-line messages, media lines,
a daylight-saving change) in a temporary folder, then times, on the same file:

* ``evidencekit``: ``evidencekit.importers.parse`` — hashing, both passes, every field of the model;
* ``regex-split``: a plain Python reference that reads the file, decodes it and splits it into
  messages with one regular expression (no times, no offsets, no flags) — the least any parser does;
* ``whatstk`` (only if installed): ``whatstk.WhatsAppChat.from_source``, a popular analytics parser.

Runs are interleaved (ours, reference, ours, …) and timed both by the wall clock and by the CPU
time of this process, so other work on the machine disturbs the comparison as little as possible;
the ratios use CPU time. Not a test: speed depends on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path
from typing import Callable

from evidencekit.importers import parse

NAMES = ["Kari Nordmann", "Ola Åsen", "Per Ørn", "Siri Æsir"]
WORDS = "hei på deg blåbær syltetøy møte i morgen klokka ni ærlig talt jeg synes ikke det er greit".split()


def generate(path: Path, count: int) -> None:
    """A WhatsApp Android export with ``count`` messages, one per 37 seconds from 2022-03-20."""
    start = time.mktime((2022, 3, 20, 8, 0, 0, 0, 0, -1))
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for i in range(count):
            moment = time.localtime(start + i * 37)
            stamp = time.strftime("%d.%m.%Y, %H:%M", moment)
            name = NAMES[i % len(NAMES)]
            words = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(3 + i % 11))
            if i % 50 == 0:
                body = "<Media utelatt>"
            elif i % 17 == 0:
                body = f"{words}\nandre linje {i}\ntredje linje"
            elif i % 97 == 0:
                body = f"IMG-{time.strftime('%Y%m%d', moment)}-WA{i % 10000:04d}.jpg (fil vedlagt)"
            else:
                body = words
            out.write(f"{stamp} - {name}: {body}\n")


HEADER = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}, \d{1,2}:\d{2} - ", re.M)


def regex_split(path: Path) -> int:
    """Reference: read, decode, split at every header with one regex."""
    text = path.read_bytes().decode("utf-8")
    return len(HEADER.split(text)) - 1


def ours(path: Path) -> int:
    return len(parse(path, fmt="whatsapp").messages)


def whatstk_count(path: Path) -> int:
    from whatstk import WhatsAppChat  # type: ignore[import-not-found]

    return len(WhatsAppChat.from_source(filepath=str(path)).df)


def timed(run: Callable[[Path], int], path: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, messages) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    count = run(path)
    return time.perf_counter() - wall, time.process_time() - cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "WhatsApp-chat med Kari.txt"
        generate(path, args.messages)
        size = path.stat().st_size
        print(f"input: {args.messages} messages, {size / 1e6:.1f} MB, best of {args.repeat}")
        runs = {"evidencekit": ours, "regex-split (reference)": regex_split}
        try:
            import whatstk  # type: ignore[import-not-found]  # noqa: F401
            runs["whatstk (reference)"] = whatstk_count
        except ImportError:
            print("whatstk not installed: skipped")
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.repeat):
            for name, run in runs.items():
                wall, cpu, count = timed(run, path)
                old = best.get(name)
                best[name] = (min(wall, old[0]) if old else wall,
                              min(cpu, old[1]) if old else cpu, count)
        for name, (wall, cpu, count) in best.items():
            print(f"{name:26s} {count:9d} messages  wall {wall:7.3f} s  cpu {cpu:7.3f} s"
                  f"  {count / cpu:12,.0f} msg/s (cpu)")
        ours_rate = best["evidencekit"][2] / best["evidencekit"][1]
        for name, (_, cpu, count) in best.items():
            if name != "evidencekit":
                print(f"ratio evidencekit / {name}: {ours_rate / (count / cpu):.2f}")

if __name__ == "__main__":
    main()
