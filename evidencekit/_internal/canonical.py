"""Canonical JSON and times: what gets hashed and signed must have exactly one byte form.

Records are serialised once with RFC 8785 (JCS) and the stored bytes are what is hashed, signed
and stamped; they are never re-serialised for checking. Times are RFC 3339 UTC strings, never
floats.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

import rfc8785


def dumps(value: Any) -> bytes:
    return rfc8785.dumps(value)


def loads(data: bytes) -> Any:
    return json.loads(data)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now() -> str:
    return format_time(datetime.now(timezone.utc))


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, to the microsecond: sortable and unambiguous."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def as_bytes(value: bytes | str) -> bytes:
    """Stored records are BLOBs; one edited by hand may come back as TEXT and must still be checked."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)
