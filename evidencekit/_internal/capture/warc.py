"""The capture's traffic as WARC: what the browser fetched, byte for byte, in the archivists' format.

The source is the HAR the capture already records (Playwright's own network record, with every
body embedded: as text only when it is valid UTF-8, otherwise base64, so nothing is re-encoded),
after the worker's secrets were blanked in it. Reading it again rather than listening to the
browser a second time keeps one record of the traffic and costs no time while the page loads.

Each HAR entry becomes a ``response`` record followed by its ``request`` record; the screenshots
become ``resource`` records (``urn:view:`` and ``urn:fullPage:``, the names Webrecorder's crawler
uses) and the capture's facts one ``metadata`` record. Record IDs and dates come from the inputs,
so the same capture always gives the same WARC.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

WARC_VERSION = "WARC/1.1"
# The body in the HAR is what the browser decoded; these headers described the wire form. They
# are kept under the prefix web-archive replay tools use for headers they had to take out.
WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
ORIGINAL_PREFIX = "X-Archive-Orig-"
_CHARSET = re.compile(r"charset\s*=\s*([^;\s]+)", re.IGNORECASE)
_META_CHARSET = re.compile(r"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_WINDOWS_1252 = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
                           "windows-1252", "cp1252", "iso_8859-1", "cp819", "ibm819"})
_IDS = uuid.UUID("6f3c2a5e-5b1d-4e8e-9a57-1d0b7e9c4a21")  # namespace of evidencekit's record IDs


@dataclass(frozen=True)
class Resource:
    """A file of the capture kept as a WARC ``resource`` record (a screenshot)."""

    uri: str
    media_type: str
    path: Path


class _Writer(WARCWriter):
    """warcio's writer with SHA-256 record digests (the hash the rest of evidencekit uses)."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def warc_date(text: str | None, fallback: datetime) -> str:
    """An RFC 3339 UTC date with milliseconds, as WARC 1.1 allows (``2025-03-12T22:14:05.123Z``)."""
    moment = fallback
    if text:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _charset(content: dict[str, Any], text: str) -> str | None:
    """The character set the server's bytes were in: from Content-Type, else an HTML <meta>."""
    found = _CHARSET.search(str(content.get("mimeType", "")))
    if found is None and "html" in str(content.get("mimeType", "")).lower():
        found = _META_CHARSET.search(text[:1024])
    if found is None:
        return None
    label = found.group(1).strip("\"'").lower()
    return "cp1252" if label in _WINDOWS_1252 else label  # what browsers decode these labels as


def _as_sent(text: str, content: dict[str, Any]) -> bytes:
    """Text in the bytes the server sent: Chromium hands text bodies over decoded, and the HAR
    holds them as UTF-8; a body in another character set is encoded back into it when that
    gives the same text again (for a few unmappable characters it stays UTF-8)."""
    charset = _charset(content, text)
    if charset is not None:
        try:
            if codecs.lookup(charset).name != "utf-8":
                data = text.encode(charset)
                if data.decode(charset) == text:
                    return data
        except (LookupError, UnicodeError):
            pass
    return text.encode("utf-8")


def body_of(content: dict[str, Any]) -> tuple[bytes, bool]:
    """The bytes of a HAR body and whether the HAR said there were more than it holds."""
    text = content.get("text")
    size = content.get("size")
    if not isinstance(text, str):
        return b"", isinstance(size, int) and size > 0
    if content.get("encoding") == "base64":
        data = base64.b64decode(text)
        return data, isinstance(size, int) and size > len(data)
    cut = isinstance(size, int) and size > len(text.encode("utf-8"))
    return _as_sent(text, content), cut


def _pairs(headers: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    # HTTP/2 pseudo-headers (":status", ":path" …) are not headers of an HTTP/1 message.
    return [(str(h.get("name", "")), str(h.get("value", ""))) for h in headers
            if str(h.get("name", "")) and not str(h.get("name", "")).startswith(":")]


def _protocol(version: Any) -> str:
    text = str(version or "").upper()
    return text if text in ("HTTP/1.0", "HTTP/1.1") else "HTTP/1.1"  # h2/h3 kept as HTTP/1.1


def response_headers(response: dict[str, Any], body: bytes) -> StatusAndHeaders:
    """The response's status line and headers, made true to the decoded body it now carries."""
    pairs = []
    for name, value in _pairs(response.get("headers", [])):
        lower = name.lower()
        if lower in WIRE_HEADERS:
            if lower != "content-length" or value.strip() != str(len(body)):
                pairs.append((ORIGINAL_PREFIX + name, value))
            continue
        pairs.append((name, value))
    pairs.append(("Content-Length", str(len(body))))
    status = f"{int(response.get('status') or 0)} {response.get('statusText') or ''}".rstrip()
    return StatusAndHeaders(status, pairs, protocol=_protocol(response.get("httpVersion")))


def request_headers(request: dict[str, Any]) -> StatusAndHeaders:
    """The request line (method, path and query) and headers, secrets already blanked."""
    parts = urlsplit(str(request.get("url", "")))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    line = f"{request.get('method') or 'GET'} {target}"
    return StatusAndHeaders(line, _pairs(request.get("headers", [])),
                            protocol=_protocol(request.get("httpVersion")), is_http_request=True)


class _Ids:
    """Record IDs derived from what the WARC is made of: same inputs, same IDs, and no clashes."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"<urn:uuid:{uuid.uuid5(_IDS, f'{self.seed}/{self.count}')}>"


def _web(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


def traffic_records(writer: WARCWriter, entries: Iterable[dict[str, Any]], ids: _Ids,
                    fallback: datetime) -> Iterator[tuple[str, str]]:
    """Write a response and a request record per HAR entry; yield (URL, response record ID)."""
    for entry in entries:
        request, response = entry.get("request", {}), entry.get("response", {})
        url = str(request.get("url", ""))
        if not _web(url):
            continue  # data: and blob: addresses are not fetched from anywhere
        date = warc_date(entry.get("startedDateTime"), fallback)
        response_id = None
        if int(response.get("status") or 0) > 0:  # 0 / -1: no answer came (failed, aborted)
            body, cut = body_of(response.get("content", {}))
            headers = {"WARC-Record-ID": ids(), "WARC-Date": date}
            if cut:
                headers["WARC-Truncated"] = "unspecified"
            record = writer.create_warc_record(url, "response", payload=BytesIO(body),
                                               length=len(body),
                                               http_headers=response_headers(response, body),
                                               warc_headers_dict=headers)
            writer.write_record(record)
            response_id = headers["WARC-Record-ID"]
            yield url, response_id
        post = request.get("postData") or {}
        sent = str(post.get("text", "")).encode("utf-8") if isinstance(post, dict) else b""
        headers = {"WARC-Record-ID": ids(), "WARC-Date": date}
        if response_id:
            headers["WARC-Concurrent-To"] = response_id
        writer.write_record(writer.create_warc_record(
            url, "request", payload=BytesIO(sent), length=len(sent),
            http_headers=request_headers(request), warc_headers_dict=headers))


def write_warc(out: BinaryIO, *, har: Path, page_url: str, started: datetime,
               resources: Iterable[Resource], facts: dict[str, Any], software: str) -> None:
    """Write the capture as a gzipped WARC 1.1 to ``out`` (one gzip member per record)."""
    writer = _Writer(out, gzip=True, warc_version=WARC_VERSION)
    facts_bytes = json.dumps(facts, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    har_bytes = har.read_bytes()
    ids = _Ids(hashlib.sha256(har_bytes + facts_bytes).hexdigest())
    entries = json.loads(har_bytes).get("log", {}).get("entries", [])
    date = warc_date(None, started)
    info = (f"software: {software}\r\nformat: WARC File Format 1.1\r\n"
            "description: web capture: the page's traffic as the browser fetched it\r\n").encode()
    writer.write_record(writer.create_warc_record(
        "", "warcinfo", payload=BytesIO(info), length=len(info),
        warc_content_type="application/warc-fields",
        warc_headers_dict={"WARC-Record-ID": ids(), "WARC-Date": date,
                           "WARC-Filename": "data.warc.gz"}))
    first = of_page = None
    for url, record_id in traffic_records(writer, entries, ids, started):
        first = first or record_id
        if url == page_url and of_page is None:
            of_page = record_id
    main = of_page or first
    for resource in resources:
        data = resource.path.read_bytes()
        writer.write_record(writer.create_warc_record(
            resource.uri, "resource", payload=BytesIO(data), length=len(data),
            warc_content_type=resource.media_type,
            warc_headers_dict={"WARC-Record-ID": ids(), "WARC-Date": date}))
    headers = {"WARC-Record-ID": ids(), "WARC-Date": date}
    if main:
        headers["WARC-Refers-To"] = main
    writer.write_record(writer.create_warc_record(
        page_url, "metadata", payload=BytesIO(facts_bytes), length=len(facts_bytes),
        warc_content_type="application/json", warc_headers_dict=headers))
