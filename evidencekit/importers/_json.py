"""JSON exports read with the byte position of every message object.

Why not plain ``json.loads``: evidence needs to point at where each message sits in the original
bytes, and must notice what ``json.loads`` hides (a key written twice keeps only the last value).
The walker decodes with the standard library's C decoder and only steps through the containers on
the way to the message arrays by hand, so it stays fast.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from evidencekit.importers._source import Source
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Transcript

Path = tuple[str | int, ...]
_WS = re.compile(r"[ \t\r\n]*")
Pattern = tuple[str | int, ...]  # "*" matches any key or index


@dataclass(slots=True)
class Located:
    pointer: str
    path: Path
    start: int  # byte offset of the value's first character
    end: int  # byte offset just after it
    value: Any


@dataclass(slots=True)
class JsonDoc:
    value: Any
    located: list[Located] = field(default_factory=list)
    duplicate_keys: list[str] = field(default_factory=list)
    had_bom: bool = False
    odd_numbers: list[str] = field(default_factory=list)


def pointer(path: Path) -> str:
    """RFC 6901 JSON pointer for ``path``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def decode_text(data: bytes, name: str) -> tuple[str, int]:
    """UTF-8 text without a leading byte-order mark, and the mark's length in bytes."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        raise ImportFailed("importers.not_utf8", name=name, offset=exc.start + bom) from exc


def _matches(path: Path, pattern: Pattern) -> bool:
    return all(p == "*" or p == q for p, q in zip(pattern, path))


def _numbers(odd: list[str]) -> dict[str, Any]:
    """Number readers for what no export writes and the transcript's JSON cannot carry —
    ``NaN``/``Infinity``, floats beyond range (``1e999``), integers of thousands of digits: each
    is kept as the text written (a string), and noted in ``odd``, so one such value neither
    sinks the import nor breaks writing the transcript."""

    def constant(written: str) -> str:
        odd.append(written)
        return written

    def real(written: str) -> float | str:
        value = float(written)
        return value if math.isfinite(value) else constant(written)

    def integer(written: str) -> int | str:
        try:
            return int(written)
        except ValueError:  # longer than Python converts (sys.get_int_max_str_digits)
            return constant(written)

    return {"parse_constant": constant, "parse_float": real, "parse_int": integer}


class _Walker:
    def __init__(self, text: str, patterns: list[Pattern]) -> None:
        self.text = text
        self.patterns = patterns
        self.duplicates: list[str] = []
        self.odd_numbers: list[str] = []
        self.located: list[Located] = []
        self._path: list[str | int] = []
        self.decoder = json.JSONDecoder(object_pairs_hook=self._pairs,
                                       **_numbers(self.odd_numbers))

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.duplicates.append(key)
                seen.add(key)
        return result

    def _ws(self, i: int) -> int:
        return _WS.match(self.text, i).end()  # type: ignore[union-attr]  # matches empty

    def _deeper(self, path: Path) -> bool:
        n = len(path)
        return any(len(p) > n and _matches(path, p[:n]) for p in self.patterns)

    def _target(self, path: Path) -> bool:
        return any(len(p) == len(path) and _matches(path, p) for p in self.patterns)

    def _leaf_items(self, path: Path) -> bool:
        """Whether every item of the array at ``path`` is a wanted value with nothing wanted
        inside it (the message arrays): those are read in one tight loop."""
        n = len(path)
        if any(len(p) > n and p[n] != "*" for p in self.patterns):
            return False
        child = path + (0,)
        return self._target(child) and not self._deeper(child)

    def _leaf_array(self, i: int, path: Path) -> tuple[list[Any], int]:
        """The items of the array whose first item starts at or after ``i``, each located."""
        text, scan, located, ws = self.text, self.decoder.scan_once, self.located, _WS.match
        base = pointer(path) + "/"
        items: list[Any] = []
        while True:
            start = ws(text, i).end()  # type: ignore[union-attr]
            try:
                item, i = scan(text, start)
            except StopIteration as err:
                raise json.JSONDecodeError("Expecting value", text, err.value) from None
            located.append(Located(base + str(len(items)), path + (len(items),), start, i, item))
            items.append(item)
            i = ws(text, i).end()  # type: ignore[union-attr]
            if i < len(text) and text[i] == ",":
                i += 1
                continue
            if i < len(text) and text[i] == "]":
                return items, i + 1
            raise json.JSONDecodeError("Expecting ',' delimiter", text, i)

    def value(self, i: int, path: Path) -> tuple[Any, int]:
        i = self._ws(i)
        text = self.text
        if i >= len(text):
            raise json.JSONDecodeError("Expecting value", text, i)
        start = i
        ch = text[i]
        if self._deeper(path) and ch in "{[":
            if ch == "{":
                pairs: list[tuple[str, Any]] = []
                i = self._ws(i + 1)
                if i < len(text) and text[i] == "}":
                    i += 1
                else:
                    while True:
                        i = self._ws(i)
                        if i >= len(text) or text[i] != '"':
                            raise json.JSONDecodeError("Expecting property name", text, i)
                        key, i = self.decoder.raw_decode(text, i)
                        i = self._ws(i)
                        if i >= len(text) or text[i] != ":":
                            raise json.JSONDecodeError("Expecting ':' delimiter", text, i)
                        item, i = self.value(i + 1, path + (key,))
                        pairs.append((key, item))
                        i = self._ws(i)
                        if i < len(text) and text[i] == ",":
                            i += 1
                            continue
                        if i < len(text) and text[i] == "}":
                            i += 1
                            break
                        raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
                result: Any = self._pairs(pairs)
            else:
                items: list[Any] = []
                i = self._ws(i + 1)
                if i < len(text) and text[i] == "]":
                    i += 1
                elif self._leaf_items(path):
                    items, i = self._leaf_array(i, path)
                else:
                    while True:
                        item, i = self.value(i, path + (len(items),))
                        items.append(item)
                        i = self._ws(i)
                        if i < len(text) and text[i] == ",":
                            i += 1
                            continue
                        if i < len(text) and text[i] == "]":
                            i += 1
                            break
                        raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
                result = items
        else:
            result, i = self.decoder.raw_decode(text, i)
        if self._target(path):
            self.located.append(Located(pointer(path), path, start, i, result))
        return result, i


def load(data: bytes, name: str, patterns: list[Pattern]) -> JsonDoc:
    """Decode ``data`` and locate every value whose path matches one of ``patterns``.

    Byte offsets are exact in the original bytes (a leading byte-order mark counted).
    """
    text, bom = decode_text(data, name)
    walker = _Walker(text, patterns)
    try:
        value, end = walker.value(0, ())
        if walker._ws(end) != len(text):
            raise json.JSONDecodeError("Extra data", text, walker._ws(end))
    except json.JSONDecodeError as exc:
        raise ImportFailed("importers.bad_json", name=name, line=exc.lineno,
                           column=exc.colno) from exc
    except RecursionError as exc:
        raise ImportFailed("importers.json_too_deep", name=name) from exc
    located = walker.located
    located.sort(key=lambda loc: loc.start)
    if len(text) != len(data) - bom:  # not pure ASCII: turn character positions into bytes
        chars = 0
        byte = bom
        marks = sorted({p for loc in located for p in (loc.start, loc.end)})
        table: dict[int, int] = {}
        for mark in marks:
            byte += len(text[chars:mark].encode("utf-8", "surrogatepass"))
            chars = mark
            table[mark] = byte
        for loc in located:
            loc.start, loc.end = table[loc.start], table[loc.end]
    elif bom:
        for loc in located:
            loc.start += bom
            loc.end += bom
    return JsonDoc(value, located, walker.duplicates, bool(bom), walker.odd_numbers)


def leftover(obj: dict[str, Any], used: set[str] | frozenset[str]) -> dict[str, Any]:
    """The keys of a message object the model has no field for: kept, never dropped."""
    return {k: v for k, v in obj.items() if k not in used}


def text_of(value: Any) -> str:
    """A JSON string value, or ``""`` for a missing one; anything else is a shape error."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("text is not a string")
    return value


def as_dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


def as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def read(src: Source, member: str | None, patterns: list[Pattern],
         transcript: Transcript) -> JsonDoc:
    """Read one JSON file of the export, noting keys written twice (JSON keeps only the last)."""
    name = member or src.name
    doc = load(src.read(member), name, patterns)
    for key in sorted(set(doc.duplicate_keys)):
        transcript.notice("duplicate_json_key", None, key=key, file=name)
    if doc.odd_numbers:
        shown = [n if len(n) <= 40 else n[:20] + "…" + n[-8:] for n in dict.fromkeys(doc.odd_numbers)]
        transcript.notice("json_number_as_text", None, file=name, count=len(doc.odd_numbers),
                          numbers=", ".join(shown[:5]))
    return doc


def sniff_text(src: Source, member: str | None = None, n: int = 65536) -> str:
    """The first bytes of a file as text, for cheap format guesses."""
    head = src.head(member, n)
    return head.decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")


def object_head(src: Source, member: str | None, n: int = 65536) -> str:
    """The start of a JSON object export (a single file, or ``member`` of a zip or folder), or ""
    when there is no such member or it does not start an object: the first question of every sniff."""
    if src.kind != "file" and member is None:
        return ""
    head = sniff_text(src, member, n)
    return head if head.startswith("{") else ""
