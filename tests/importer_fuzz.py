"""The hostile-input campaign every importer must pass: mutate a real or faithful export the way
an attacker would and check that each mutation ends in a clean import or one ``ImportFailed``
sentence, quickly, and that nothing is stored when the CLI refuses it.

Why a harness rather than random bytes alone: random noise stops at the first parser check, while
an attacker edits a file that still looks right — a key written twice, a number JSON cannot hold,
a list where a string belongs, nesting a hundred thousand deep, a header in 16,000 parts. Each
mutation is drawn from a seeded generator, so a failure is reproduced by its number.

Use::

    from importer_fuzz import campaign, cli_refuses
    failures = campaign("telegram", [("result.json", data)], count=150)
    assert not failures, failures
"""

from __future__ import annotations

import io
import json
import random
import re
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.importers import ImportFailed, write_transcript

#: Mutations per format in the normal run, and with ``--slow``.
SAMPLE = 150
FULL = 2000
#: CPU seconds one mutated export may take to import (or to be refused), plus ``PER_MB`` for each
#: megabyte it grew beyond its seed (a file repeated ten times is a bigger export, not an attack:
#: ``bench/`` measures throughput). CPU time, so other work on the machine does not count.
TIME_LIMIT = 1.0
PER_MB = 4.0

_NUMBER = re.compile(rb"(?<![\w.\"])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w\"])")
_STRING = re.compile(rb'"(?:[^"\\\n]|\\.){0,200}"')
_KEY = re.compile(rb'"((?:[^"\\\n]|\\.){1,60})"\s*:')
_HEADER = re.compile(rb"^[A-Za-z-]{2,40}:", re.M)

_NUMBERS = [b"1e999", b"-1e999", b"NaN", b"Infinity", b"-Infinity", b"1e308", b"-0", b"0.5",
            b"99999999999999999999999999999", b"1" * 5000, b"-1", b"2e-400", b"1.7976931348623157e309"]
_VALUES = [b"null", b"[]", b"{}", b"0", b"true", b'""', b"[null]", b'{"":null}', b'"\\ud800"',
           b"[[[[[]]]]]", b'"\\u202e\\u0000x"', b"-1", b'"' + b"A" * 100_000 + b'"']
_JUNK = [b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3", b"\xed\xa0\x80", b"\r", b"\n\n", b"}", b"]",
         b",", b'"', b"\\", "\u202e".encode(), b"\x1b[2J", b"<", b"&#55357;",
         b"=?utf-8?b?", b"\nFrom x\n"]


@dataclass(frozen=True)
class Failure:
    """One mutation that broke the promise: its number, what was done and what happened."""

    number: int
    mutation: str
    problem: str

    def __str__(self) -> str:
        return f"#{self.number} [{self.mutation}]: {self.problem}"


# --- mutations: each takes (data, rng) and returns new bytes -------------------------------------

def _at(data: bytes, rng: random.Random) -> int:
    return rng.randrange(len(data) + 1)


def flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:_at(data, rng)]


def insert_junk(data: bytes, rng: random.Random) -> bytes:
    at = _at(data, rng)
    return data[:at] + rng.choice(_JUNK) * rng.choice((1, 1, 3, 1000)) + data[at:]


def delete_stretch(data: bytes, rng: random.Random) -> bytes:
    at = _at(data, rng)
    return data[:at] + data[at + rng.randint(1, 64):]


def duplicate_stretch(data: bytes, rng: random.Random) -> bytes:
    """A piece of the file copied elsewhere (a message pasted twice, a header block repeated)."""
    if not data:
        return data
    start = rng.randrange(len(data))
    piece = data[start:start + rng.randint(1, 4096)]
    at = _at(data, rng)
    return data[:at] + piece * rng.choice((1, 2, 50)) + data[at:]


def _pick(pattern: re.Pattern[bytes], data: bytes, rng: random.Random) -> re.Match[bytes] | None:
    """A random match of ``pattern`` near a random place (cheap even for large files)."""
    if not data:
        return None
    start = rng.randrange(len(data))
    found = pattern.search(data, start) or pattern.search(data)
    return found


def bad_number(data: bytes, rng: random.Random) -> bytes:
    """A number replaced by one JSON or the model cannot carry: 1e999, NaN, 5,000 digits…"""
    found = _pick(_NUMBER, data, rng)
    if found is None:
        return insert_junk(data, rng)
    return data[:found.start()] + rng.choice(_NUMBERS) + data[found.end():]


def wrong_type(data: bytes, rng: random.Random) -> bytes:
    """A string or number replaced by a value of another type (null, a list, an object…)."""
    found = _pick(rng.choice((_STRING, _NUMBER)), data, rng)
    if found is None:
        return insert_junk(data, rng)
    return data[:found.start()] + rng.choice(_VALUES) + data[found.end():]


def duplicate_key(data: bytes, rng: random.Random) -> bytes:
    """A key written twice in one object, the second time with another value."""
    found = _pick(_KEY, data, rng)
    if found is None:
        return insert_junk(data, rng)
    return data[:found.start()] + found.group(0) + rng.choice(_VALUES[:9]) + b"," + data[found.start():]


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    """A value replaced by lists or objects nested tens of thousands deep."""
    depth = rng.choice((1000, 100_000))
    opener, closer = rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
    found = _pick(rng.choice((_STRING, _NUMBER)), data, rng)
    if found is None:
        return opener * depth + closer * depth
    return data[:found.start()] + opener * depth + b"0" + closer * depth + data[found.end():]


def huge_header(data: bytes, rng: random.Random) -> bytes:
    """An e-mail header in 16,000 parts, or a header line of a megabyte, or 20,000 headers."""
    kind = rng.randrange(3)
    if kind == 0:
        line = b"Content-Type: multipart/mixed; " + b"; ".join(b"p%d=v" % i for i in range(16000))
    elif kind == 1:
        line = b"Subject: " + b"=?utf-8?q?a?= " * 70_000
    else:
        line = b"\r\n".join(b"X-H%d: v" % i for i in range(20_000))
    found = _pick(_HEADER, data, rng)
    at = found.start() if found else 0
    return data[:at] + line + b"\r\n" + data[at:]


def repeat_file(data: bytes, rng: random.Random) -> bytes:
    """The whole file written several times over (a mailbox of copies, a JSON with trailing data)."""
    return data * rng.choice((2, 3, 10))


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    f.__name__: f for f in (flip, truncate, insert_junk, delete_stretch, duplicate_stretch,
                            bad_number, wrong_type, duplicate_key, deep_nesting, huge_header,
                            repeat_file)
}


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One to three mutations in a row; returns the bytes and their names."""
    names = [rng.choice(list(MUTATIONS)) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    for name in names:
        data = MUTATIONS[name](data, rng)
    return data, "+".join(names)


def mutate_zip(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """A zip export: usually one member mutated and the zip rewritten, sometimes the zip's bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [(info, z.read(info)) for info in z.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return mutate(data, rng)
    files = [i for i, (info, _) in enumerate(members) if not info.is_dir()]
    if not files or rng.random() < 0.15:
        return mutate(data, rng)
    chosen = rng.choice(files)
    info, content = members[chosen]
    content, names = mutate(content, rng)
    members[chosen] = (info, content)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, content in members:
            z.writestr(info.filename, content)
    return out.getvalue(), f"{info.filename}:{names}"


# --- the runner ---------------------------------------------------------------------------------

def try_import(path: Path, fmt: str, **options: Any) -> tuple[str, float]:
    """Import ``path`` as the CLI does (transcript JSON streamed out); ``ok``, ``refused`` or a
    description of the unexpected exception, and the CPU seconds it took."""
    started = time.process_time()
    try:
        write_transcript(path, io.BytesIO(), fmt=fmt, **options)
        outcome = "ok"
    except ImportFailed as exc:
        sentence = str(exc)
        outcome = "refused"
        if not sentence or sentence.startswith("importers.") or "\n" in sentence.strip():
            outcome = f"not one sentence: {sentence!r}"
    except Exception:  # noqa: BLE001 - this is what the campaign looks for
        outcome = "".join(traceback.format_exc(limit=-3).splitlines(keepends=True)[-6:]).strip()
    return outcome, time.process_time() - started


def mutations(seeds: list[tuple[str, bytes]], count: int, *, seed: int = 15
              ) -> Iterable[tuple[int, str, bytes, str, int]]:
    """``count`` mutated exports: (number, file name, bytes, what was done, the seed's size),
    reproducible from ``seed`` and the number."""
    for number in range(count):
        rng = random.Random(f"{seed}:{number}")
        name, data = seeds[number % len(seeds)]
        mutated, what = (mutate_zip if name.endswith(".zip") else mutate)(data, rng)
        yield number, name, mutated, f"{name}:{what}", len(data)


def campaign(fmt: str, seeds: list[tuple[str, bytes]], count: int = SAMPLE, *,
             time_limit: float = TIME_LIMIT, **options: Any) -> list[Failure]:
    """Run ``count`` mutations of ``seeds`` through the importer ``fmt`` (and detection).

    Every tenth mutation is also imported with ``fmt="auto"`` so detection meets it too.
    Returns the mutations that raised anything but ``ImportFailed`` or took longer than
    ``time_limit`` CPU seconds (plus ``PER_MB`` for each megabyte grown beyond the seed).
    """
    failures: list[Failure] = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / seeds[0][0]  # the first import pays for loading the parser's modules
        warm.write_bytes(seeds[0][1])
        try_import(warm, fmt, **options)
        warm.unlink()
        for number, name, data, what, seed_size in mutations(seeds, count):
            allowed = time_limit + PER_MB * max(0, len(data) - seed_size) / 1e6
            path = Path(tmp) / f"{number}" / name
            path.parent.mkdir()
            path.write_bytes(data)
            for wanted in (fmt, "auto") if number % 10 == 0 else (fmt,):
                outcome, seconds = try_import(path, wanted, **options)
                if outcome not in ("ok", "refused"):
                    failures.append(Failure(number, what, outcome))
                elif seconds > allowed:
                    failures.append(Failure(number, what, f"took {seconds:.1f} s ({outcome})"))
            path.unlink()
            path.parent.rmdir()
    return failures


def first_refused(fmt: str, seeds: list[tuple[str, bytes]], count: int = 60, **options: Any
                  ) -> tuple[str, bytes] | None:
    """The first mutation the importer refuses: what the CLI check below feeds in."""
    with tempfile.TemporaryDirectory() as tmp:
        for _, name, data, _, _ in mutations(seeds, count, seed=99):
            path = Path(tmp) / name
            path.write_bytes(data)
            if try_import(path, fmt, **options)[0] == "refused":
                return name, data
    return None


def cli_refuses(run_cli: Callable[..., Any], folder: Path, name: str, data: bytes, fmt: str,
                *extra: str) -> list[str]:
    """Import a refused export through the real CLI into a case; what is wrong, if anything.

    The promise: exit 2, one sentence on stderr, no traceback, and the case holds exactly the
    items it held before.
    """
    problems = []
    before = run_cli("list", "--json")
    path = folder / name
    path.write_bytes(data)
    result = run_cli("import", path, "--format", fmt, "--no-stamp", *extra)
    if result.code != 2:
        problems.append(f"exit {result.code}")
    if "Traceback" in result.err or len(result.err.strip().splitlines()) != 1:
        problems.append(f"stderr is not one sentence: {result.err!r}")
    after = run_cli("list", "--json")
    if json.loads(after.out) != json.loads(before.out):
        problems.append("the case changed")
    return problems
