"""CSV exports read row by row, each row with its place in the original bytes.

Why not ``csv.DictReader`` alone: evidence needs to point at the bytes of each row (a quoted
field may span lines), columns are found by header name because exports add and drop columns
over the years, and a damaged file must end in one sentence, not a ``csv.Error``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from io import BytesIO
from typing import Iterator

from evidencekit.importers import _json
from evidencekit.importers._source import Source
from evidencekit.importers.errors import ImportFailed

#: A field longer than this is not a message (csv's own default is 128 KiB).
FIELD_LIMIT = 16 << 20
csv.field_size_limit(FIELD_LIMIT)


@dataclass(slots=True)
class Row:
    cells: dict[str, str]  # by upper-case header name
    start: int  # byte offset of the row's first character
    end: int  # byte offset just after it (line break excluded)
    line: int  # the row's first line, counting from 1
    width: int  # how many fields the row has (the header may have another count)


def header_of(line: str) -> list[str]:
    """The column names of a header line, upper-cased, for sniffing."""
    try:
        return [c.strip().upper() for c in next(csv.reader([line.splitlines()[0] if line else ""]), [])]
    except csv.Error:  # not CSV at all
        return []


def _lines(data: bytes, start: int, spans: list[tuple[int, int]]) -> Iterator[str]:
    position = start
    for raw in BytesIO(data[start:]):
        spans.append((position, position + len(raw.rstrip(b"\r\n"))))
        position += len(raw)
        yield raw.decode("utf-8")


def read(src: Source, member: str | None) -> tuple[list[str], Iterator[Row]]:
    """The header of a CSV file of the export and a lazy iterator over its non-empty rows."""
    name = member or src.name
    data = src.read(member)
    _, bom = _json.decode_text(data, name)  # one sentence for bytes that are not UTF-8
    spans: list[tuple[int, int]] = []
    reader = csv.reader(_lines(data, bom, spans), strict=True)
    try:
        header = [c.strip().upper() for c in next(reader, [])]
    except csv.Error as exc:
        raise ImportFailed("importers.bad_csv", name=name, line=len(spans)) from exc
    return header, _rows(reader, header, spans, name)


def _rows(reader: Iterator[list[str]], header: list[str], spans: list[tuple[int, int]],
          name: str) -> Iterator[Row]:
    while True:
        first = len(spans)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFailed("importers.bad_csv", name=name, line=len(spans)) from exc
        if any(cell.strip() for cell in row):
            yield Row(dict(zip(header, row)), spans[first][0], spans[-1][1], first + 1, len(row))
