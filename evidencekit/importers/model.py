"""The one message model every importer produces, and its one JSON form.

Why one model: the locker, the transcript view, the timeline and the reports all read the same
shape whatever app the export came from. Why the JSON lives here: the transcript is stored as a
derivative file next to the original export, so its bytes must be produced in exactly one place.

What is *kept* (exact, from the export) and what is *derived* (our reading of it) is marked on
each field below; ``docs/importers.md`` says the same in plain words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator

from evidencekit.i18n import t

#: Version of the transcript JSON layout; bump when a field changes meaning.
SCHEMA = "evidencekit.transcript/1"
#: Formats whose messages are e-mails (headers, DKIM) rather than chat lines.
MAIL_FORMATS = ("email", "outlook-msg")

#: Invisible characters apps put around names and media lines (direction marks, embeddings,
#: byte-order mark, zero-width no-break space). Kept in ``text``/``sender``; removed only in
#: derived keys such as ``sender_id``.
INVISIBLE = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_INVISIBLE_TABLE = {ord(c): None for c in INVISIBLE}


def strip_marks(text: str) -> str:
    """``text`` without invisible direction marks: for matching names, never for display."""
    return text.translate(_INVISIBLE_TABLE)


@dataclass(slots=True)
class Attachment:
    """A file a message refers to.

    ``status``: ``present`` (the file is in the export, ``sha256`` is its digest),
    ``missing`` (named, but not in the export), ``omitted`` (the app left media out and did not
    even give a name).
    """

    name: str | None
    sha256: str | None = None
    status: str = "missing"
    member: str | None = None  # where the file is inside a zip/folder export
    size: int | None = None
    ref: str | None = None  # the path or URL exactly as the export wrote it, if any

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "status": self.status,
                "member": self.member, "size": self.size, "ref": self.ref}


@dataclass(slots=True)
class Message:
    """One message (or service/system event) of a conversation.

    Kept: ``sender``, ``time_written``, ``text``, ``id``, ``reply_to``.
    Derived: ``time_utc``, ``tz_source``, ``sender_id``, ``system``, ``deleted``, ``edited``,
    ``attachments``, ``from_me``, ``display``.
    Located: ``source_file`` (member of a zip/folder, ``None`` for a single file) and ``offset``
    (byte offset in that file where the message starts: the first byte of its line for text
    formats, of its ``{`` / ``<`` for JSON/XML formats, of its header block for email), with
    ``length`` bytes up to its end (line break after it excluded; ``None`` where not
    computed) and ``pointer`` (a JSON pointer
    for JSON formats).
    """

    index: int
    sender: str | None
    time_written: str | None
    time_utc: str | None
    tz_source: str | None
    text: str
    system: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    edited: bool = False
    edited_utc: str | None = None
    deleted: bool = False
    reply_to: str | None = None
    offset: int = 0
    length: int | None = None
    source_file: str | None = None
    pointer: str | None = None
    id: str | None = None
    sender_id: str | None = None
    from_me: bool | None = None
    conversation: str | None = None
    display: str | None = None
    text_repair: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.id,
            "conversation": self.conversation,
            "sender": self.sender,
            "sender_id": self.sender_id,
            "from_me": self.from_me,
            "time_written": self.time_written,
            "time_utc": self.time_utc,
            "tz_source": self.tz_source,
            "text": self.text,
            "display": self.display,
            "text_repair": self.text_repair,
            "system": self.system,
            "attachments": [a.to_dict() for a in self.attachments],
            "edited": self.edited,
            "edited_utc": self.edited_utc,
            "deleted": self.deleted,
            "reply_to": self.reply_to,
            "source_file": self.source_file,
            "offset": self.offset,
            "length": self.length,
            "pointer": self.pointer,
            "extra": self.extra,
        }


@dataclass(slots=True)
class Notice:
    """Something a reader of the transcript must know: a doubt, an inconsistency, a repair.

    Stored as a catalog code and parameters so it reads in bokmål or English; ``message_index``
    points at the message concerned (``None`` for the whole export).
    """

    code: str
    params: dict[str, Any] = field(default_factory=dict)
    message_index: int | None = None

    def text(self, lang: str | None = None) -> str:
        return t(f"importers.notice_{self.code}", lang, **self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message_index": self.message_index, "params": self.params,
                "text_en": self.text("en")}


@dataclass(slots=True)
class SourceFile:
    """One file of the original export (the file itself, or a member of its zip/folder)."""

    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(slots=True)
class SourceInfo:
    """What was imported: its kind, name, size and digest (taken before parsing)."""

    kind: str  # "file" | "zip" | "folder"
    name: str  # the file or folder name, never a full path of the importing machine
    size: int
    sha256: str  # of the file bytes; for a folder, of its manifest (see docs/importers.md)
    files: list[SourceFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "size": self.size, "sha256": self.sha256,
                "files": [f.to_dict() for f in self.files]}


@dataclass(slots=True)
class Transcript:
    """A parsed export: where it came from, how times were decided, notices and messages."""

    format: str
    source: SourceInfo
    tz: str | None = None
    tz_origin: str | None = None  # "given" | "default" | None when the export carries UTC
    date_order: str | None = None
    date_order_source: str | None = None  # "values" | "media-names" | "given" | None
    me: str | None = None
    me_origin: str | None = None  # "given" (--me) | "export" (the export names its owner) | None
    #: The texts the conversations were chosen by (``None``: the whole export is shown).
    conversations: list[str] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: What this kind of export does not hold (names of ``importers.gap_*`` sentences).
    gaps: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    def notice(self, code: str, message_index: int | None = None, **params: Any) -> None:
        self.notices.append(Notice(code, params, message_index))

    def header(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "format": self.format,
            "source": self.source.to_dict(),
            "tz": self.tz,
            "tz_origin": self.tz_origin,
            "date_order": self.date_order,
            "date_order_source": self.date_order_source,
            "me": self.me,
            "me_origin": self.me_origin,
            "conversations": self.conversations,
            "details": self.details,
            "gaps": self.gaps,
        }

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json())

    def to_json(self) -> bytes:
        """The transcript as the bytes stored beside the original export."""
        return dump_json(self)


def _encode(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from the export: keep it, escaped
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"),
                          allow_nan=False).encode("ascii")


def dump_json(transcript: Transcript) -> bytes:
    """One UTF-8 JSON document; compact, key order fixed by the model, ends with a newline."""
    return b"".join(iter_json(transcript, transcript.messages))


def iter_json(transcript: Transcript, messages: Iterable[Message]) -> Iterator[bytes]:
    """The same bytes as :func:`dump_json`, a piece at a time, so a large transcript can be
    written without holding it whole. ``messages`` come first and everything parsers learn
    while reading (details, notices, counts) after them, so the header is complete."""
    yield b'{"schema":' + _encode(SCHEMA) + b',"messages":['
    count = 0
    for message in messages:
        if count:
            yield b","
        yield _encode(message.to_dict())
        count += 1
    header = transcript.header()
    del header["schema"]
    yield b"]," + _encode(header)[1:-1]
    yield b',"message_count":' + str(count).encode()
    yield b',"notices":' + _encode([n.to_dict() for n in transcript.notices]) + b"}\n"


def write_json(transcript: Transcript, messages: Iterable[Message], out: IO[bytes]) -> int:
    """Stream the transcript JSON to ``out``; returns the number of bytes written."""
    written = 0
    for chunk in iter_json(transcript, messages):
        out.write(chunk)
        written += len(chunk)
    return written


def describe_gap(name: str, lang: str | None = None) -> str:
    """The sentence saying what an export does not hold (see ``Transcript.gaps``)."""
    return t(f"importers.gap_{name}", lang)


def describe_tz_source(tz_source: str | None, lang: str | None = None) -> str | None:
    """A sentence saying where a message's UTC time came from (``None`` when it has none)."""
    if not tz_source:
        return None
    origin, _, zone = tz_source.partition(":")
    if origin in ("given", "default"):
        return t(f"importers.tz_{origin}", lang, zone=zone)
    return t("importers.tz_" + origin.replace("-", "_"), lang)
