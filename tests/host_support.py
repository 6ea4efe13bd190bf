"""Speaking to the native host as the browser does: length-prefixed JSON frames on its stdin."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from typing import Any

PINNED_ORIGIN = "chrome-extension://eopfhibapmcgopbnjjnmgppnjhbicfmc/"
# A WhatsApp export whose dates read as day/month or month/day alike: the import must ask.
AMBIGUOUS_CHAT = "\n".join([
    "03/04/2024, 10:15 - Kari: Du er ubrukelig",
    "05/04/2024, 11:00 - Kari: Ingen vil ha deg her",
    "07/04/2024, 09:30 - Meg: Slutt med dette",
]) + "\n"


def frame(message: dict[str, Any] | bytes) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return struct.pack("=I", len(body)) + body


def talk(*frames: bytes, env: dict[str, str], args: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], int, str]:
    """Run the host on these bytes; return its replies, exit code and stderr."""
    proc = subprocess.run([sys.executable, "-m", "evidencekit", "native-host", *args], input=b"".join(frames),
                          capture_output=True, env=env, timeout=120)
    replies, out = [], proc.stdout
    while out:
        (length,) = struct.unpack("=I", out[:4])
        replies.append(json.loads(out[4:4 + length]))
        out = out[4 + length:]
    return replies, proc.returncode, proc.stderr.decode()


def refused(replies: list[dict[str, Any]], code: str) -> dict[str, Any]:
    errors = [r for r in replies if r["type"] == "error"]
    assert errors, replies
    assert errors[0]["code"] == code, errors
    assert "Traceback" not in errors[0]["message"] and "\n" not in errors[0]["message"], errors[0]
    return errors[0]
