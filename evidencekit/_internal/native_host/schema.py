"""Every message from the browser is checked here before the host acts on it.

The schema is strict: unknown fields, wrong types, oversized strings and out-of-range numbers are
refused with one sentence naming the field, because what the browser reports ends up in a signed
record and must be exactly what the extension meant to send. No request names a path: the host
decides where anything is written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from evidencekit.errors import UserError
from evidencekit.models import WHO

Check = Callable[[Any, str], Any]

REQUEST_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MODES = ("visible", "full", "selection")


class BadMessage(UserError):
    """A message that does not follow the protocol; the host answers it with an error reply."""


def _bad(where: str) -> BadMessage:
    return BadMessage("extension.bad_field", field=where)


def text(longest: int, shortest: int = 0, pattern: re.Pattern[str] | None = None) -> Check:
    def check(value: Any, where: str) -> str:
        if not isinstance(value, str) or not shortest <= len(value) <= longest:
            raise _bad(where)
        if pattern is not None and not pattern.fullmatch(value):
            raise _bad(where)
        return value
    return check


def integer(low: int, high: int) -> Check:
    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad(where)
        return value
    return check


def number(low: float, high: float) -> Check:
    """A JSON number (the browser's pixel ratio may be 1.25); never NaN or infinite."""
    def check(value: Any, where: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not low <= value <= high:
            raise _bad(where)
        return value
    return check


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _bad(where)
    return value


def choice(*allowed: str) -> Check:
    def check(value: Any, where: str) -> str:
        if value not in allowed:
            raise _bad(where)
        return str(value)
    return check


def array(item: Check, longest: int, shortest: int = 0) -> Check:
    def check(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list) or not shortest <= len(value) <= longest:
            raise _bad(where)
        return [item(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return check


def obj(fields: dict[str, Check], required: tuple[str, ...] = (), nullable: bool = False) -> Check:
    """A JSON object with exactly these fields (``required`` must be present, others may be)."""
    def check(value: Any, where: str) -> dict[str, Any] | None:
        if value is None and nullable:
            return None
        if not isinstance(value, dict):
            raise _bad(where)
        for name in value:
            if name not in fields:
                raise _bad(f"{where}.{name}" if where else name)
        for name in required:
            if name not in value:
                raise _bad(f"{where}.{name}" if where else name)
        return {name: fields[name](v, f"{where}.{name}" if where else name) for name, v in value.items()}
    return check


PIXELS = integer(0, 1_000_000)
CASE_REF = text(200, 1)
PASSPHRASE = text(4096, 1)

FACTS = obj({
    "incidentDate": text(80, 1),  # an instant, or a period FROM..TO
    "where": text(200),
    "who": choice(*WHO),
    "person": text(200),
    "channel": text(200),
    "witnesses": array(text(200, 1), 50),
    "reaction": text(10_000),
    "consequences": text(10_000),
    "note": text(10_000),
})

PAGE = obj({
    "url": text(16_384, 1),
    "title": text(4096),
    "mode": choice(*MODES),
    "startedAt": text(40, 1),
    "finishedAt": text(40, 1),
    "userAgent": text(1024),
    "language": text(64),
    "browser": obj({"name": text(64), "version": text(64)}),
    "extension": obj({"id": text(128), "version": text(32)}),
    "viewport": obj({"width": PIXELS, "height": PIXELS, "devicePixelRatio": number(0.01, 16),
                     "scrollX": PIXELS, "scrollY": PIXELS},
                    required=("width", "height", "devicePixelRatio")),
    "document": obj({"width": PIXELS, "height": PIXELS}, required=("width", "height")),
    "fullPage": obj({"width": PIXELS, "height": PIXELS, "capturedHeight": PIXELS,
                     "truncated": boolean, "method": text(64)},
                    required=("width", "height", "capturedHeight", "truncated", "method"), nullable=True),
    "mhtml": obj({"method": text(64), "attempts": integer(0, 100)}, required=("method",), nullable=True),
    "selection": obj({"characters": integer(0, 100_000_000)}, required=("characters",), nullable=True),
    "notes": array(text(500), 20),
}, required=("url", "title", "mode", "startedAt", "finishedAt", "viewport", "document"))

FILE = obj({"name": text(64, 1), "size": integer(0, 2**53), "sha256": text(64, 64, SHA256)},
           required=("name", "size", "sha256"))
UPLOAD = obj({"name": text(255, 1), "size": integer(0, 2**53), "sha256": text(64, 64, SHA256)},
             required=("name", "size", "sha256"))
ITEM_REF = text(16, 1, re.compile(r"(?:E-)?[0-9]{1,9}"))
ITEM_REFS = array(ITEM_REF, 10_000)
DATE_ORDERS = ("dmy", "mdy", "ymd")


def request(fields: dict[str, Check] | None = None, required: tuple[str, ...] = ()) -> Check:
    """One of the case page's requests: its own fields plus type, id and the optional case and
    passphrase every request may carry."""
    return obj({"type": text(16), "id": text(64, 1, REQUEST_ID), "caseId": CASE_REF, "passphrase": PASSPHRASE,
                **(fields or {})}, required=("type", "id", *required))

MESSAGES: dict[str, Check] = {
    "hello": obj({"type": text(16), "id": text(64, 1, REQUEST_ID), "lang": text(35),
                  "extension": obj({"id": text(128), "version": text(32)})},
                 required=("type", "id")),
    "cases": obj({"type": text(16), "id": text(64, 1, REQUEST_ID)}, required=("type", "id")),
    "unlock": obj({"type": text(16), "id": text(64, 1, REQUEST_ID), "caseId": CASE_REF,
                   "passphrase": PASSPHRASE}, required=("type", "id", "passphrase")),
    "begin": obj({"type": text(16), "id": text(64, 1, REQUEST_ID), "caseId": CASE_REF,
                  "passphrase": PASSPHRASE, "facts": FACTS, "page": PAGE,
                  "files": array(FILE, 8, 1)},
                 required=("type", "id", "page", "files")),
    "chunk": obj({"type": text(16), "id": text(64, 1, REQUEST_ID), "file": text(64, 1),
                  "seq": integer(0, 2**31), "data": text(64 * 1024 * 1024)},
                 required=("type", "id", "file", "seq", "data")),
    "end": obj({"type": text(16), "id": text(64, 1, REQUEST_ID)}, required=("type", "id")),
    "abort": obj({"type": text(16), "id": text(64, 1, REQUEST_ID)}, required=("type", "id")),
    # the case page ("My case")
    "lock": request(),
    "case_create": request({"title": text(200, 1), "anonymous": boolean}, ("title",)),
    "items": request(),
    "thumbs": request({"items": array(ITEM_REF, 50, 1)}, ("items",)),
    "item": request({"item": ITEM_REF}, ("item",)),
    "timeline": request(),
    "note": request({"text": text(100_000, 1), "facts": FACTS}, ("text",)),
    "add": request({"facts": FACTS, "together": boolean, "files": array(UPLOAD, 100, 1)}, ("files",)),
    "import": request({"facts": FACTS, "dateOrder": choice(*DATE_ORDERS), "files": array(UPLOAD, 1, 1)},
                      ("files",)),
    "import_answer": request({"dateOrder": choice(*DATE_ORDERS), "conversations": array(text(2000, 1), 500)}),
    "capture": request({"url": text(8192, 1), "facts": FACTS}, ("url",)),
    "report": request({"lang": choice("nb", "en"), "items": ITEM_REFS}, ("lang",)),
    "recipients": request(),
    "recipient_add": request({"name": text(200, 1), "key": text(2000, 1)}, ("name", "key")),
    "seal": request({"items": ITEM_REFS, "recipients": array(text(200, 1), 50), "plain": boolean},
                    ("items", "recipients")),
    "stamps": request(),
    "stamp": request(),
    "key": request(),
}


def request_id(message: dict[str, Any]) -> str | None:
    """The id to answer under, if the message carries a usable one (even when invalid otherwise)."""
    value = message.get("id")
    return value if isinstance(value, str) and REQUEST_ID.fullmatch(value) else None


def check(message: dict[str, Any]) -> dict[str, Any]:
    """The message, checked against the schema of its ``type``; raises :class:`BadMessage`."""
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in MESSAGES:
        raise BadMessage("extension.unknown_type", type=str(kind)[:40])
    checked = MESSAGES[kind](message, "")
    assert checked is not None
    return checked
