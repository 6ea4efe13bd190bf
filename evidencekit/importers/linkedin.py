"""LinkedIn "Get a copy of your data": ``messages.csv`` (alone, or in the zip).

Why care: the column set changed (2020 without profile URLs, 2021 with the sender's URL, 2023
with the recipients' URLs too, later with draft flags), so columns are found by their header
name, never by position. Names contain commas (quoted in the CSV) and InMail CONTENT is raw HTML:
the stored text is kept as written, and a readable ``display`` is derived with a real HTML parser.
The sender's profile URL is the stable identity; the name is only what the profile said then.
"""

from __future__ import annotations

import re
from typing import Iterator

from lxml import html as lxml_html
from lxml.etree import ParserError

from evidencekit.importers import _csv, _json
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import EXPORT_UTC, format_utc, parse_utc_text, readable
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Message, Transcript

NAMES = ("linkedin",)
FILE = "messages.csv"
_NEEDED = ("FROM", "DATE", "CONTENT")
_USED = frozenset({"FROM", "SENDER PROFILE URL", "DATE", "CONTENT", "CONVERSATION TITLE"})
_TAG = re.compile(r"<(?:[a-zA-Z][\w-]*)(?:\s[^<>]*)?/?>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


def _member(src: Source) -> str | None:
    return None if src.kind == "file" else src.find(FILE)


def sniff(src: Source) -> int:
    if src.kind != "file" and _member(src) is None:
        return 0
    first = _json.sniff_text(src, _member(src), 4096).split("\n", 1)[0]
    columns = _csv.header_of(first)
    if all(c in columns for c in _NEEDED) and "CONVERSATION ID" in columns:
        return 90
    return 0


def html_text(content: str) -> str | None:
    """The words of an HTML message as a reader sees them, or ``None`` when it is not HTML."""
    if not _TAG.search(content):
        return None
    try:
        tree = lxml_html.fragment_fromstring(content, create_parent="div")
    except (ParserError, ValueError):
        return None
    for br in tree.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in tree.iter("p", "div", "li", "tr"):
        block.tail = "\n" + (block.tail or "")
    shown = "\n".join(line.strip() for line in tree.text_content().splitlines())
    return re.sub(r"\n{3,}", "\n\n", shown).strip()


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    member = _member(src)
    if src.kind != "file" and member is None:
        raise ImportFailed("importers.linkedin_no_file", name=src.name)
    header, rows = _csv.read(src, member)
    if not all(c in header for c in _NEEDED):
        raise ImportFailed("importers.linkedin_no_header", name=member or src.name)
    transcript.details.update({"file": member or src.name, "columns": header})
    if "SENDER PROFILE URL" not in header:  # the 2020 layout
        transcript.gaps.append("names_only")
    return _messages(rows, len(header), member, transcript)


def _messages(rows: Iterator[_csv.Row], width: int, member: str | None,
              transcript: Transcript) -> Iterator[Message]:
    for index, row in enumerate(rows):
        if row.width != width:
            transcript.notice("csv_columns_differ", index, line=row.line, found=row.width,
                              expected=width)
        yield _message(index, row, member, transcript)


def _message(index: int, row: _csv.Row, member: str | None, transcript: Transcript) -> Message:
    cells = row.cells
    written = cells.get("DATE", "").strip() or None
    moment = readable(parse_utc_text, written) if written else None
    if written and moment is None:
        transcript.notice("unreadable_time", index, written=written)
    text = cells.get("CONTENT", "")
    sender = cells.get("FROM") or None
    url = cells.get("SENDER PROFILE URL", "").strip() or None
    conversation = (cells.get("CONVERSATION TITLE") or "").strip() or \
        cells.get("CONVERSATION ID") or None
    msg = Message(index=index, sender=sender, time_written=written,
                  time_utc=format_utc(moment) if moment else None,
                  tz_source=EXPORT_UTC if moment else None, text=text, offset=row.start,
                  length=row.end - row.start, source_file=member, conversation=conversation,
                  sender_id=url, display=html_text(text))
    msg.extra = {k.lower(): v for k, v in cells.items() if k not in _USED and v}
    return msg
