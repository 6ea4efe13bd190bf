"""Speaking to the native host as the browser does: length-prefixed JSON frames on its stdin."""

from __future__ import annotations

import json
import shlex
import struct
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import evidencekit

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


@cache
def _installed_root() -> Path:
    """The folder the launcher's ``python -I -m evidencekit`` imports evidencekit from."""
    found = subprocess.run([sys.executable, "-I", "-c", "import evidencekit; print(evidencekit.__file__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return Path(found).resolve().parents[1]


def host_from_this_tree(launcher: Path) -> None:
    """Make an installed launcher run the evidencekit these tests import.

    The launcher runs ``python -I``, which ignores ``PYTHONPATH``: a checkout tested on
    ``PYTHONPATH`` would otherwise have the browser start the installed copy. Where both are the
    same (an editable install of this checkout) the launcher is left exactly as installed.
    """
    root = Path(evidencekit.__file__).resolve().parents[1]
    if root == _installed_root():
        return
    start = f"import runpy, sys; sys.path.insert(0, {str(root)!r}); runpy.run_module('evidencekit', run_name='__main__', alter_sys=True)"
    script = launcher.read_text()
    assert " -I -m evidencekit " in script, script
    launcher.write_text(script.replace(" -I -m evidencekit ", f" -I -c {shlex.quote(start)} "))


class Conversation:
    """A host kept running between messages, so a test can act on the locker from outside in between."""

    def __init__(self, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self._proc = subprocess.Popen([sys.executable, "-m", "evidencekit", "native-host", *args],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one message and read the next reply."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(frame(message))
        self._proc.stdin.flush()
        (length,) = struct.unpack("=I", self._proc.stdout.read(4))
        return json.loads(self._proc.stdout.read(length))

    def close(self) -> tuple[int, str]:
        """Close the port as the browser does; the exit code and stderr."""
        _, err = self._proc.communicate(timeout=60)
        return self._proc.returncode, err.decode()
