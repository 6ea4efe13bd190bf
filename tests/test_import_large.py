"""A 200 MB WhatsApp export is streamed: memory stays small and flat while every message is read
and written out, in a separate process so the measurement is honest."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SIZE = 200 << 20
LIMIT_MB = 160  # the interpreter and libraries take ~30 MB; the file alone would be 200


def _write_export(path: Path) -> int:
    """About 200 MB: ~1 KB messages, every 20th multi-line, one 60 KB message per 1000."""
    line = "Dette er en lang melding med æøå som gjentas for å fylle eksporten. " * 14
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        written = 0
        while written < SIZE:
            minute = count % 1440
            day = 1 + (count // 1440) % 28
            body = line if count % 20 else line + "\nandre linje\ntredje linje"
            if count % 1000 == 999:
                body = "x" * 60_000
            chunk = f"{day:02d}.03.2022, {minute // 60:02d}:{minute % 60:02d} - Kari: {body}\n"
            out.write(chunk)
            written += len(chunk.encode("utf-8"))
            count += 1
    return count


def test_large_export_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat with Kari.txt"
    count = _write_export(path)
    script = textwrap.dedent(f"""
        import json, os
        from evidencekit.importers import stream
        from evidencekit.importers.model import write_json
        seen = []
        def counted(messages):
            for message in messages:
                seen.append(len(message.text))
                yield message
        with stream({str(path)!r}, date_order="dmy") as running, open(os.devnull, "wb") as sink:
            written = write_json(running.transcript, counted(running.messages), sink)
        # VmHWM belongs to this program's own memory; ru_maxrss would carry the forking pytest's peak
        peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
        print(json.dumps({{"peak_mb": peak, "size": running.transcript.source.size,
                          "messages": len(seen), "longest": max(seen), "written": written}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=900, check=True)
    result = json.loads(done.stdout)
    assert result["size"] >= SIZE
    assert result["peak_mb"] < LIMIT_MB, result
    assert result["messages"] == count > 150_000
    assert result["longest"] == 60_000
    assert result["written"] > SIZE  # the transcript really holds every message
