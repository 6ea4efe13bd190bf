"""The CDXJ index of a WARC: one sorted line per archived resource, so replay finds it by address.

A line is ``<SURT key> <14-digit time> {json}`` with the fields replay tools read (``url``,
``mime``, ``status``, ``digest``, ``length``, ``offset``, ``filename``). The SURT key is the
address canonicalised the way web archives sort it (host reversed, ``www.`` and default ports
dropped, lower case, query arguments sorted). The usual implementation of these rules, the
``surt`` package, is under the AGPL, so the common rules are written out here; the tests compare
the result with ``cdxj-indexer`` on the pages they capture.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from warcio.archiveiterator import ArchiveIterator

INDEXED = ("response", "resource")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WWW = re.compile(r"^www\d*\.")


def _escape(raw: str) -> str:
    """Undo percent-escapes (repeatedly, as archives do), then escape only what must be."""
    data = raw.encode("utf-8")
    while True:
        decoded = unquote_to_bytes(data)
        if decoded == data:
            break
        data = decoded
    return "".join(f"%{b:02X}" if b <= 0x20 or b >= 0x7F or b in b"#%" else chr(b) for b in data)


def _path(path: str) -> str:
    if not path:
        return "/"
    clean = posixpath.normpath(path) if path != "/" else "/"
    clean = clean if clean.startswith("/") else "/" + clean.lstrip("/")
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")
    return clean.rstrip("/") or "/"


def surt(url: str) -> str:
    """The SURT sort key of an address (``http://www.Example.com:80/A?b=2&a=1`` → ``com,example)/a?a=1&b=2``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return url.strip().lower()  # urn:view:… and other non-web names stay as they are
    host = (parts.hostname or "").rstrip(".")
    host = _WWW.sub("", host)
    try:
        port = parts.port
    except ValueError:
        port = None
    key = ",".join(reversed(host.split("."))) if ":" not in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        key += f":{port}"
    path = _escape(_path(parts.path))
    args = sorted(_escape(arg) for arg in parts.query.split("&")) if parts.query else []
    query = "?" + "&".join(args) if args else ""
    return f"{key}){path}{query}".lower()


def index_lines(warc: Path, filename: str) -> list[str]:
    """The sorted CDXJ lines of every response and resource record in ``warc``."""
    lines = []
    with open(warc, "rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            if record.rec_type not in INDEXED:
                continue
            headers = record.rec_headers
            url = headers.get_header("WARC-Target-URI") or ""
            date = headers.get_header("WARC-Date") or ""
            fields: dict[str, str] = {"url": url}
            if record.http_headers is not None and record.rec_type == "response":
                fields["mime"] = _mime(record.http_headers.get_header("Content-Type"))
                fields["status"] = str(record.http_headers.get_statuscode())
            else:
                fields["mime"] = _mime(headers.get_header("Content-Type"))
            fields["digest"] = headers.get_header("WARC-Payload-Digest") or ""
            offset = records.get_record_offset()
            records.read_to_end(record)
            fields["length"] = str(records.get_record_length())
            fields["offset"] = str(offset)
            fields["filename"] = filename
            stamp = re.sub(r"\D", "", date)[:14]
            lines.append(f"{surt(url)} {stamp} {json.dumps(fields)}")
    return sorted(lines)


def _mime(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower() or "unk"
