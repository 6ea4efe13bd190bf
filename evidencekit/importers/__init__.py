"""Import chat and e-mail exports into one normalised message model.

Why this shape: the original export is the evidence; what we parse is a derivative. So every
import starts by hashing the original bytes, every message remembers where it sits in them, and
nothing is dropped, merged or normalised — doubts become notices in the transcript.

Adding a format = adding one module in this package that defines ``NAMES`` (the format names it
answers to), ``sniff(source) -> int`` (0 = not mine, higher = surer) and
``open_messages(source, options, transcript) -> Iterator[Message]`` (which does its checks
eagerly and returns a lazy iterator). Modules whose names start with ``_`` are helpers.

Public API::

    detect(path) -> str
    parse(path, *, fmt="auto", tz=None, date_order=None, me=None,
          dns_records=None, resolve_dns=False) -> Transcript
    stream(path, ...same...) -> Stream        # large exports: messages as an iterator
    write_transcript(path, out, ...same...)   # stream the transcript JSON into ``out``
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import IO, Iterator, Mapping

from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import DEFAULT_TZ, Zone
from evidencekit.importers.errors import ImportFailed, NeedsDateOrder, UnknownFormat
from evidencekit.importers.model import (Attachment, Message, Notice, SourceInfo, Transcript,
                                         dump_json, write_json)

__all__ = [
    "Attachment", "DEFAULT_TZ", "ImportFailed", "Message", "NeedsDateOrder", "Notice",
    "SourceInfo", "Stream", "Transcript", "UnknownFormat", "detect", "dump_json", "formats",
    "parse", "stream", "write_transcript",
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
            self.transcript = Transcript(format=name, source=self._src.info(), me=opts.me)
            for code, params in self._src.notices:
                self.transcript.notice(code, None, **params)
            opts = Options(opts.zone, opts.date_order, opts.me, name, opts.dns_records,
                           opts.resolve_dns)
            self._messages = _guard(module.open_messages(self._src, opts, self.transcript),
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


def _options(tz: str | None, date_order: str | None, me: str | None,
             dns_records: Mapping[str, str] | None, resolve_dns: bool) -> Options:
    if date_order is not None and date_order not in ("dmy", "mdy", "ymd"):
        raise ImportFailed("importers.bad_date_order", given=date_order)
    records = {k.rstrip(".").lower(): v for k, v in (dns_records or {}).items()}
    return Options(Zone.resolve(tz), date_order, me, "auto", records, resolve_dns)


def stream(path: str | Path, *, fmt: str = "auto", tz: str | None = None,
           date_order: str | None = None, me: str | None = None,
           dns_records: Mapping[str, str] | None = None, resolve_dns: bool = False) -> Stream:
    """Start an import whose messages arrive one at a time (for very large exports)."""
    return Stream(Path(path), fmt, _options(tz, date_order, me, dns_records, resolve_dns))


def parse(path: str | Path, *, fmt: str = "auto", tz: str | None = None,
          date_order: str | None = None, me: str | None = None,
          dns_records: Mapping[str, str] | None = None, resolve_dns: bool = False) -> Transcript:
    """Read the export at ``path`` (a file, a zip or a folder) into a :class:`Transcript`.

    ``tz``: zone for exports that write bare local times (default Europe/Oslo, recorded as a
    default). ``date_order``: ``dmy``/``mdy``/``ymd`` when the export cannot tell (see
    :class:`NeedsDateOrder`). ``me``: the importing person's name as written in the chat.
    ``dns_records``: DKIM key records by name, for checking e-mail offline.
    """
    with stream(path, fmt=fmt, tz=tz, date_order=date_order, me=me, dns_records=dns_records,
                resolve_dns=resolve_dns) as running:
        running.transcript.messages = list(running.messages)
        return running.transcript


def write_transcript(path: str | Path, out: IO[bytes], **kwargs: object) -> Transcript:
    """Import ``path`` and stream its transcript JSON into ``out`` without holding all messages.

    Returns the transcript header (its ``messages`` list stays empty).
    """
    with stream(path, **kwargs) as running:  # type: ignore[arg-type]
        write_json(running.transcript, running.messages, out)
        return running.transcript
