"""Import chat and e-mail exports into one normalised message model.

Why this shape: the original export is the evidence; what we parse is a derivative. So every
import starts by hashing the original bytes, every message remembers where it sits in them, and
nothing is dropped, merged or normalised — doubts become notices in the transcript.

Adding a format = adding one module in this package that defines ``NAMES`` (the format names it
answers to), ``sniff(source) -> int`` (0 = not mine, higher = surer) and
``open_messages(source, options, transcript) -> Iterator[Message]`` (which does its checks
eagerly and returns a lazy iterator). Modules whose names start with ``_`` are helpers.

A module may also say what its export never holds (``GAPS``: names of ``importers.gap_*``
catalog sentences; it may add more to ``transcript.gaps`` from what it reads), shown with the
transcript and in the report's "what this does not prove", and
set ``transcript.me`` with ``transcript.me_origin = "export"`` when the export names its owner.
Who wrote each message (``from_me``) and which conversations are imported are decided here, the
same for every format, from ``Message.sender``/``sender_id``/``conversation``.

Public API::

    detect(path) -> str
    parse(path, *, fmt="auto", tz=None, date_order=None, me=None, conversations=(),
          dns_records=None, resolve_dns=False) -> Transcript
    stream(path, ...same...) -> Stream        # large exports: messages as an iterator
    write_transcript(path, out, ...same...)   # stream the transcript JSON into ``out``
    conversations(path, ...same...) -> list[Conversation]   # what ``--list`` shows
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import IO, Iterator, Mapping

from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import DEFAULT_TZ, Zone
from evidencekit.importers.errors import ImportFailed, NeedsDateOrder, UnknownFormat
from evidencekit.importers.model import (Attachment, Message, Notice, SourceInfo, Transcript,
                                         dump_json, strip_marks, write_json)

__all__ = [
    "Attachment", "Conversation", "DEFAULT_TZ", "ImportFailed", "Message", "NeedsDateOrder",
    "Notice", "SourceInfo", "Stream", "Transcript", "UnknownFormat", "conversations", "detect",
    "dump_json", "embedded_files", "formats", "parse", "stream", "write_transcript",
]

_NOT_FORMATS = {"model", "errors"}
#: Exceptions that mean "the data does not have the shape this format promises".
_SHAPE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, LookupError,
                 OverflowError, RecursionError, UnicodeError)


@cache
def formats() -> dict[str, ModuleType]:
    """Every format name and the module that reads it, found by looking at this package."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in _NOT_FORMATS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if all(hasattr(module, attr) for attr in ("NAMES", "sniff", "open_messages")):
            for name in module.NAMES:
                found[name] = module
    return found


def _detect(src: Source) -> str:
    scores: list[tuple[int, str]] = []
    for module in dict.fromkeys(formats().values()):
        try:
            score = module.sniff(src)
        except ImportFailed:
            raise
        except _SHAPE_ERRORS:
            score = 0
        if score:
            scores.append((score, module.NAMES[0]))
    if not scores:
        raise UnknownFormat("importers.unknown_format", name=src.name,
                            known=", ".join(sorted(formats())))
    scores.sort(reverse=True)
    return scores[0][1]


def detect(path: str | Path) -> str:
    """The format name of the export at ``path``, from its content (not its file name)."""
    with Source(Path(path)) as src:
        return _detect(src)


class Stream:
    """An import in progress: ``transcript`` (without messages yet) and ``messages``.

    Use as a context manager; notices keep arriving in ``transcript.notices`` until
    ``messages`` is exhausted, and the source is checked unchanged at the end.
    """

    def __init__(self, path: Path, fmt: str, opts: Options) -> None:
        self._src = Source(path)
        try:
            name = _detect(self._src) if fmt == "auto" else fmt
            if name not in formats():
                raise ImportFailed("importers.unknown_format_name", name=fmt,
                                   known=", ".join(sorted(formats())))
            module = formats()[name]
            self.transcript = Transcript(format=name, source=self._src.info(), me=opts.me,
                                         me_origin="given" if opts.me else None,
                                         conversations=list(opts.conversations) or None)
            for code, params in self._src.notices:
                self.transcript.notice(code, None, **params)
            self.transcript.gaps.extend(getattr(module, "GAPS", ()))
            opts = dataclasses.replace(opts, fmt=name)
            messages = module.open_messages(self._src, opts, self.transcript)
            self._messages = _guard(_who_and_which(messages, self.transcript, opts.conversations),
                                    name, self._src)
        except ImportFailed:
            self._src.close()
            raise
        except _SHAPE_ERRORS as exc:
            self._src.close()
            raise ImportFailed("importers.malformed", format=fmt, name=path.name) from exc

    @property
    def messages(self) -> Iterator[Message]:
        return self._messages

    def close(self) -> None:
        self._src.close()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _guard(messages: Iterator[Message], fmt: str, src: Source) -> Iterator[Message]:
    """Turn a shape error deep in a parser into one clear sentence; check the source at the end."""
    try:
        yield from messages
    except ImportFailed:
        raise
    except _SHAPE_ERRORS as exc:
        raise ImportFailed("importers.malformed", format=fmt, name=src.name) from exc
    src.verify_unchanged()


def embedded_files(path: str | Path, fmt: str) -> Iterator[tuple[str, bytes]]:
    """Files held inside the export's files (a .msg's attachments), to store beside it.

    A format that packs files inside its own (rather than beside them in a zip or folder)
    defines ``embedded_files(source)``; the names are those its messages' attachments give.
    """
    module = formats().get(fmt)
    if module is None or not hasattr(module, "embedded_files"):
        return
    with Source(Path(path)) as src:
        yield from module.embedded_files(src)


def _is_me(msg: Message, me: str) -> bool:
    wanted = strip_marks(me).strip().casefold()
    return any(value is not None and strip_marks(value).strip().casefold() == wanted
               for value in (msg.sender, msg.sender_id))


def _chosen(conversation: str | None, wanted: Sequence[str]) -> bool:
    name = strip_marks(conversation or "").casefold()
    return any(strip_marks(w).strip().casefold() in name for w in wanted)


def _who_and_which(messages: Iterator[Message], transcript: Transcript,
                   wanted: Sequence[str]) -> Iterator[Message]:
    """Mark the worker's own messages and keep only the chosen conversations.

    Why here: every format sets ``sender``/``sender_id``/``conversation``; deciding from them in
    one place means a new format needs no code for ``--me`` or ``--conversation``. A message the
    format already marked (an SMS's box, a WhatsApp name) keeps its mark. Kept messages keep
    their index in the whole export, so a gap in the numbers shows where others were left out.
    """
    me = transcript.me
    shown: set[str] = set()
    left_out = 0
    mine = 0
    for msg in messages:
        if not all(isinstance(v, (str, type(None))) for v in (msg.conversation, msg.sender, msg.sender_id)):
            raise TypeError("a name in the export is not text")  # a list where a name belongs
        if wanted and not _chosen(msg.conversation, wanted):
            left_out += 1
            continue
        if me and msg.from_me is None and (msg.sender is not None or msg.sender_id is not None):
            msg.from_me = _is_me(msg, me)
        mine += bool(msg.from_me)
        shown.add(msg.conversation or "")
        yield msg
    if wanted:
        if not shown:
            raise ImportFailed("importers.no_such_conversation", wanted=" | ".join(wanted),
                               name=transcript.source.name)
        transcript.details["conversations_shown"] = sorted(shown)
        transcript.notice("conversations_chosen", None, shown=", ".join(sorted(shown)) or "-",
                          left_out=left_out)
    if me and not mine and transcript.me_origin == "given":
        transcript.notice("me_not_found", None, me=me)


@dataclasses.dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation of an export, as ``import --list`` shows it (times in UTC)."""

    name: str | None
    messages: int
    first_utc: str | None
    last_utc: str | None

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def conversations(path: str | Path, **options: object) -> list[Conversation]:
    """The conversations an export holds, with message counts and periods, in name order.

    Reads the whole export (nothing is stored); takes the same options as :func:`parse`.
    """
    found: dict[str | None, list] = {}
    with stream(path, **options) as running:  # type: ignore[arg-type]
        for msg in running.messages:
            entry = found.setdefault(msg.conversation, [0, None, None])
            entry[0] += 1
            if msg.time_utc:
                entry[1] = min(entry[1] or msg.time_utc, msg.time_utc)
                entry[2] = max(entry[2] or msg.time_utc, msg.time_utc)
    return [Conversation(name, *entry) for name, entry in
            sorted(found.items(), key=lambda item: (item[0] is None, (item[0] or "").casefold()))]


def _options(tz: str | None, date_order: str | None, me: str | None,
             conversations: Sequence[str], dns_records: Mapping[str, str] | None,
             resolve_dns: bool) -> Options:
    if date_order is not None and date_order not in ("dmy", "mdy", "ymd"):
        raise ImportFailed("importers.bad_date_order", given=date_order)
    wanted = tuple(w for w in conversations if w.strip())
    if len(wanted) != len(conversations):
        raise ImportFailed("importers.empty_conversation_name")
    records = {k.rstrip(".").lower(): v for k, v in (dns_records or {}).items()}
    return Options(Zone.resolve(tz), date_order, me or None, "auto", records, resolve_dns, wanted)


def stream(path: str | Path, *, fmt: str = "auto", tz: str | None = None,
           date_order: str | None = None, me: str | None = None,
           conversations: Sequence[str] = (),
           dns_records: Mapping[str, str] | None = None, resolve_dns: bool = False) -> Stream:
    """Start an import whose messages arrive one at a time (for very large exports)."""
    return Stream(Path(path), fmt, _options(tz, date_order, me, conversations, dns_records,
                                            resolve_dns))


def parse(path: str | Path, *, fmt: str = "auto", tz: str | None = None,
          date_order: str | None = None, me: str | None = None,
          conversations: Sequence[str] = (),
          dns_records: Mapping[str, str] | None = None, resolve_dns: bool = False) -> Transcript:
    """Read the export at ``path`` (a file, a zip or a folder) into a :class:`Transcript`.

    ``tz``: zone for exports that write bare local times (default Europe/Oslo, recorded as a
    default). ``date_order``: ``dmy``/``mdy``/``ymd`` when the export cannot tell (see
    :class:`NeedsDateOrder`). ``me``: the importing person's name, phone, address or user id as
    the export writes it (else the owner the export names, if any). ``conversations``: import only
    the conversations whose names contain one of these texts (upper or lower case alike).
    ``dns_records``: DKIM key records by name, for checking e-mail offline.
    """
    with stream(path, fmt=fmt, tz=tz, date_order=date_order, me=me, conversations=conversations,
                dns_records=dns_records, resolve_dns=resolve_dns) as running:
        running.transcript.messages = list(running.messages)
        return running.transcript


def write_transcript(path: str | Path, out: IO[bytes], **kwargs: object) -> Transcript:
    """Import ``path`` and stream its transcript JSON into ``out`` without holding all messages.

    Returns the transcript header (its ``messages`` list stays empty).
    """
    with stream(path, **kwargs) as running:  # type: ignore[arg-type]
        write_json(running.transcript, running.messages, out)
        return running.transcript
