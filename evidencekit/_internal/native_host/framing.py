"""Chrome's native-messaging frames: a 4-byte length in native byte order, then UTF-8 JSON.

The browser may send up to 64 MiB in one message and accepts at most 1 MiB back; a length beyond
either is refused here, before any byte of the body is read or written.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

from evidencekit.errors import UserError

HEADER = struct.Struct("=I")
MAX_INCOMING = 64 * 1024 * 1024  # what Chrome allows the extension to send in one message
MAX_OUTGOING = 1024 * 1024  # what Chrome accepts from a host in one message


class FrameError(UserError):
    """The byte stream is not a sequence of well-formed frames (it cannot be resynchronised)."""


class BadJson(UserError):
    """A frame arrived whole but its body is not a JSON object (the stream is still usable)."""


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    parts, wanted = [], size
    while wanted:
        part = stream.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def read_message(stream: BinaryIO, limit: int = MAX_INCOMING) -> dict[str, Any] | None:
    """The next message, or None at a clean end of input (the browser closed the port)."""
    header = _read_exactly(stream, HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise FrameError("extension.frame_truncated", got=len(header), size=HEADER.size)
    (length,) = HEADER.unpack(header)
    if length > limit:
        raise FrameError("extension.frame_too_large", size=length, limit=limit)
    body = _read_exactly(stream, length)
    if len(body) < length:
        raise FrameError("extension.frame_truncated", got=len(body), size=length)
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadJson("extension.bad_json") from None
    if not isinstance(message, dict):
        raise BadJson("extension.not_an_object")
    return message


def encode(message: dict[str, Any]) -> bytes:
    """One frame; a reply too large for the browser becomes a short error instead."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_OUTGOING:
        raise ValueError(f"reply of {len(body)} bytes exceeds {MAX_OUTGOING}")
    return HEADER.pack(len(body)) + body


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    stream.write(encode(message))
    stream.flush()
