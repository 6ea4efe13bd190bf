"""The browser extension's native-messaging host: one browser port, one process, one capture at a time.

A front end like the command line: the protocol's pieces (framing, schema, chunked transfer,
the capture record, installing the host) are in ``_internal/native_host/``; this module wires
them to the public library.

The conversation (all JSON, every message carries the extension's request ``id``)::

    hello  {lang, extension}                      -> hello  {protocol, version}
    cases                                         -> cases  {locker, locked, cases: [{id, title, current, …}]}
    unlock {passphrase, caseId?}                  -> unlocked {case}
    begin  {caseId?, passphrase?, facts, page, files: [{name, size, sha256}]} -> ready
    chunk  {file, seq, data (base64)}             (no reply; in order, file by file)
    end                                           -> stored {item, case, files: [{name, sha256, size}]}
                                                     then stamped {counts, failures}
    abort                                         -> aborted

The case page ("My case") adds requests that each make the same library call as a command
(every one may carry ``caseId`` and ``passphrase``; ``unlock`` keeps the passphrase in this
process's memory until ``lock`` or the port closes)::

    lock                                          -> locked
    case_create {title, anonymous?}               -> case {case}
    items                                         -> items {case, items: [{id, kind, date, who, summary, …}]}
    thumbs {items}                                -> thumbs {thumbs: {E-001: data URL}}
    item {item}                                   -> item {item, files, text?, transcript?}
    timeline                                      -> timeline {moments, more}
    note {text, facts?}                           -> stored {item} then stamped
    add {files: [{name, size, sha256}], facts?, together?} then chunk…, end -> stored {items} then stamped
    import {files: [one], facts?, dateOrder?} then chunk…, end -> stored {item, format, messages}
                                                     or question {ask: "dateOrder", candidates, example}
                                                     or question {ask: "conversations", candidates:
                                                        [{name, messages, first, last}]}
    import_answer {dateOrder? conversations?}     -> stored … or the next question (the same upload,
                                                     read again; no conversations named = all)
    capture {url, facts?}                         -> stored {item, title, url} then stamped (as ``capture URL``)
    report {lang, items?}                         -> written {name, folder}  (a PDF in Downloads)
    recipients / recipient_add {name, key}        -> recipients {recipients} / recipient {name, fingerprint}
    seal {items, recipients, plain?}              -> written {name, folder, encrypted, recipients}
    stamps / stamp                                -> stamps {queued, pending, complete} / stamped {…}
    key                                           -> key {publicKey, fingerprint}

Anything wrong gets ``{"type": "error", "id", "code", "message"}`` with one sentence in the
browser's language, and the capture it belonged to is dropped whole.

The locker is encrypted at rest: the host opens it only with a passphrase it has, in this order
the one the request carries, the one ``unlock`` kept, ``EVIDENCEKIT_PASSPHRASE``, and the login
session's ``evidencekit unlock``. Without one, ``cases`` answers ``locked: true`` with no cases
(their titles are encrypted) and every other request that reads the locker answers the error
``extension.locked``, so the pages show the unlock form. ``locker`` in the ``cases`` reply is
``encrypted``, ``plain`` (made by an earlier version: ``evidencekit upgrade``) or ``none`` (no
locker yet). Once no passphrase is known any more (``lock``, or ``evidencekit lock`` in a
terminal), the next request closes the locker. The passphrase is only held in memory, never
written or logged.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import traceback
from collections import OrderedDict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from evidencekit import __version__, unlocking
from evidencekit._internal import keys
from evidencekit._internal.native_host import HOST_NAME, PROTOCOL, downloads, framing, schema
from evidencekit._internal.native_host.install import EXTENSION_ID, GECKO_ID
from evidencekit.errors import EvidencekitError, Locked, UserError
from evidencekit.i18n import LANGUAGES, detect_language
from evidencekit.locker import Locker, normalise_date
from evidencekit.models import Case, IncidentFacts, Item
from evidencekit.notices import notice_of

if TYPE_CHECKING:
    from evidencekit._internal.native_host.transfer import Transfer

METHOD = "web-capture-extension"
ORIGINS = (f"chrome-extension://{EXTENSION_ID}/", f"moz-extension:{GECKO_ID}")
REPLY_BUDGET = 700_000  # characters of a list reply; the browser takes at most 1 MiB
TRANSCRIPT = "evidencekit-transcript.json"
CONVERSATIONS_ASKED = 500  # the choice the page shows; an export with more is imported whole or by name
# Messages that never close the locker: they need none, or belong to a transfer begun while it was open.
KEEP_OPEN = frozenset({"hello", "chunk", "end", "abort", "import_answer", "lock"})


class _Stop(Exception):
    """The browser is gone (closed the pipe); end quietly."""


def language(tag: str | None) -> str:
    """The browser's UI language as one of ours: Norwegian in any form reads bokmål."""
    if not tag:
        return detect_language()
    tag = tag.lower()
    if tag.startswith(("nb", "no", "nn")):
        return "nb"
    return tag[:2] if tag[:2] in LANGUAGES else "en"


class _Pending:
    """A begun transfer: where its files go, and everything needed to store it at the end.

    ``kind`` is ``capture`` (the popup's), ``add`` (files the worker picked) or ``import`` (a
    chat or email export, kept after ``end`` while the page answers a question about it).
    """

    def __init__(self, transfer: Transfer, case: Case, passphrase: str, facts: IncidentFacts,
                 page: dict[str, Any] | None, kind: str = "capture", options: dict[str, Any] | None = None) -> None:
        self.transfer = transfer
        self.case = case
        self.passphrase = passphrase
        self.facts = facts
        self.page = page
        self.kind = kind
        self.options = options or {}
        self.paths: list[Path] | None = None  # the files, once all arrived whole


class NativeHost:
    """Answers one browser port: reads frames from ``stdin``, writes replies to ``stdout``."""

    def __init__(self, home: Path | None, out: BinaryIO, origin: str | None = None) -> None:
        self._home = home
        self._out = out
        self._origin = origin
        self._locker: Locker | None = None
        self._lang: str | None = None
        self._pending: _Pending | None = None
        self._failed: OrderedDict[str, EvidencekitError] = OrderedDict()
        self._secret: str | None = None  # from unlock, in memory only, until lock
        self._asked: str | None = None  # the passphrase the request being answered carries

    # plumbing -----------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        try:
            framing.write_message(self._out, message)
        except ValueError:  # too large for the browser: say so instead
            framing.write_message(self._out, self._error_reply(message.get("id"),
                                                               UserError("extension.reply_too_large")))
        except (BrokenPipeError, OSError) as exc:
            raise _Stop() from exc

    def _error_reply(self, request: str | None, error: EvidencekitError) -> dict[str, Any]:
        return {"type": "error", "id": request, "code": error.key, "message": error.message(self._lang)}

    def _known(self) -> str | None:
        """The passphrase the request carries, else the one ``unlock`` kept, else
        ``EVIDENCEKIT_PASSPHRASE``, else this login session's ``evidencekit unlock``; None: locked."""
        return (self._asked or self._secret or os.environ.get("EVIDENCEKIT_PASSPHRASE")
                or unlocking.passphrase(self._home))

    def locker(self) -> Locker:
        """The locker, opened with a passphrase the host has (opening removes what killed hosts left)."""
        if self._locker is None:
            try:
                self._locker = Locker.open(self._home, self._known())
            except Locked:
                raise Locked("extension.locked") from None
        return self._locker

    def close(self) -> None:
        """Drop an unfinished transfer and close the locker: its keys leave this process's memory."""
        self._drop_pending()
        if self._locker is not None:
            self._locker.close()
            self._locker = None

    def run(self, stdin: BinaryIO) -> int:
        """Serve until the browser closes the port (0) or sends bytes that are not frames (2)."""
        try:
            while True:
                try:
                    message = framing.read_message(stdin)
                except framing.FrameError as error:
                    self._send(self._error_reply(None, error))
                    return 2
                except framing.BadJson as error:
                    self._send(self._error_reply(None, error))
                    continue
                if message is None:
                    return 0
                self.handle(message)
        except _Stop:
            return 0
        finally:
            self.close()

    def handle(self, message: dict[str, Any]) -> None:
        """Act on one message and answer it; errors become error replies, never an exit."""
        request = schema.request_id(message)
        self._asked = None
        try:
            if self._origin is not None and self._origin not in ORIGINS:
                raise UserError("extension.wrong_origin")  # the browser's allowed_origins, checked again
            checked = schema.check(message)
            self._asked = checked.get("passphrase")
            if checked["type"] not in KEEP_OPEN and self._locker is not None and self._known() is None:
                self.close()  # locked elsewhere (``evidencekit lock``): the keys go too
            getattr(self, f"_on_{checked['type']}")(checked)
        except EvidencekitError as error:
            self._fail(request, error)
        except _Stop:
            raise
        except Exception as exc:  # a bug: answer it, drop the capture, keep serving
            # Only the kind and place go to the browser's log: a message could quote what was sent.
            where = traceback.extract_tb(exc.__traceback__)[-1]
            print(f"evidencekit native host: {type(exc).__name__} at {Path(where.filename).name}:{where.lineno}",
                  file=sys.stderr)
            self._fail(request, UserError("extension.internal", error=type(exc).__name__))

    def _fail(self, request: str | None, error: EvidencekitError) -> None:
        if self._pending is not None and self._pending.transfer.request_id == request:
            self._drop_pending()
        if request is not None:
            self._failed[request] = error
            while len(self._failed) > 64:
                self._failed.popitem(last=False)
        self._send(self._error_reply(request, error))

    def _drop_pending(self) -> None:
        if self._pending is not None:
            self._pending.transfer.discard()
            self._pending = None

    # messages -----------------------------------------------------------------------------

    def _on_hello(self, message: dict[str, Any]) -> None:
        self._lang = language(message.get("lang"))
        self._send({"type": "hello", "id": message["id"], "host": HOST_NAME, "protocol": PROTOCOL,
                    "version": __version__, "lang": self._lang})

    def _on_cases(self, message: dict[str, Any]) -> None:
        """What the locker holds, as far as the host may tell: a locked locker shows no titles."""
        state = Locker.state(self._home)
        cases: list[dict[str, Any]] | None = []
        if state == "encrypted":
            try:
                cases = [_case_json(c) for c in self.locker().cases()]
            except Locked:
                cases = None
        self._send({"type": "cases", "id": message["id"], "locker": state, "locked": cases is None,
                    "cases": cases or []})

    def _passphrase(self) -> str:
        """The passphrase to sign with (see :meth:`_known`); without one the locker is locked."""
        secret = self._known()
        if not secret:
            raise Locked("extension.locked")
        return secret

    def _unlocked_case(self, case_ref: str | None) -> tuple[Case, str]:
        secret = self._passphrase()
        locker = self.locker()
        case = locker.case(case_ref)
        locker.case_signer(case.id, secret)
        return case, secret

    def _on_unlock(self, message: dict[str, Any]) -> None:
        if message.get("caseId") is None and not self.locker().cases():  # her first case is made on the page
            self.locker().identity_signer(message["passphrase"])
            self._secret = message["passphrase"]
            self._send({"type": "unlocked", "id": message["id"], "case": None})
            return
        case, self._secret = self._unlocked_case(message.get("caseId"))
        self._send({"type": "unlocked", "id": message["id"], "case": {"id": case.id, "title": case.title}})

    def _on_begin(self, message: dict[str, Any]) -> None:
        # The capture machinery loads with the first transfer, so the page's lists start quickly.
        from evidencekit._internal.native_host import record
        from evidencekit._internal.native_host.transfer import Transfer, check_files

        self._drop_pending()  # one capture at a time; an unfinished earlier one cannot complete now
        self._failed.pop(message["id"], None)
        check_files(message["files"])
        facts = _facts(message.get("facts"))
        record.web_capture(message["page"], (), self._origin)  # its times must parse before bytes move
        case, secret = self._unlocked_case(message.get("caseId"))
        workdir = self.locker().scratch()
        transfer = Transfer(message["id"], message["files"], workdir)
        self._pending = _Pending(transfer, case, secret, facts, message["page"])
        self._send({"type": "ready", "id": message["id"], "bytes": transfer.size})

    def _current(self, request: str) -> _Pending | None:
        """The capture this message belongs to; None when it already failed (answered then)."""
        if request in self._failed:
            return None
        if self._pending is None or self._pending.transfer.request_id != request:
            raise UserError("extension.no_transfer")
        return self._pending

    def _on_chunk(self, message: dict[str, Any]) -> None:
        pending = self._current(message["id"])
        if pending is not None:  # chunks of a failed capture still in flight are dropped quietly
            pending.transfer.chunk(message["file"], message["seq"], message["data"])

    def _on_end(self, message: dict[str, Any]) -> None:
        request = message["id"]
        pending = self._current(request)
        if pending is None:
            self._send(self._error_reply(request, self._failed[request]))
            return
        if pending.kind == "import":
            pending.paths = pending.transfer.received()
            self._import(request, pending)
            return
        if pending.kind == "add":
            self._add(request, pending)
            return
        from evidencekit import capture as web  # the capture machinery loads for captures only
        from evidencekit._internal.native_host import record

        files = pending.transfer.finish()
        assert pending.page is not None
        capture = record.web_capture(pending.page, files, self._origin)
        locker = self.locker()
        try:
            item = web.store(locker, capture, pending.passphrase, pending.facts, pending.case.id, method=METHOD)
        finally:
            self._drop_pending()
        self._send({
            "type": "stored", "id": request, "item": item.label,
            "case": {"id": pending.case.id, "title": pending.case.title},
            "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in item.files],
        })
        self._stamp(request)

    def _stamp(self, request: str) -> None:
        """Stamp right after the capture, as the CLI does; a failure leaves the request queued."""
        try:
            summary = self.locker().stamp()
        except Exception as exc:  # noqa: BLE001 - the evidence is stored; stamping retries later
            print(f"evidencekit native host: stamping deferred: {type(exc).__name__}", file=sys.stderr)
            self._send({"type": "stamped", "id": request, "counts": {}, "failures": 1})
            return
        self._send({"type": "stamped", "id": request, "counts": summary.counts,
                    "failures": len(summary.failures)})

    def _on_abort(self, message: dict[str, Any]) -> None:
        if self._pending is not None and self._pending.transfer.request_id == message["id"]:
            self._drop_pending()
        self._send({"type": "aborted", "id": message["id"]})


    # the case page -------------------------------------------------------------------------

    def _case(self, message: dict[str, Any]) -> Case:
        return self.locker().case(message.get("caseId"))

    def _on_lock(self, message: dict[str, Any]) -> None:
        """Forget the passphrase, here and in this login session's ``evidencekit unlock``, and close
        the locker. Only ``EVIDENCEKIT_PASSPHRASE`` stays: the browser's environment is not ours."""
        self._secret = None
        unlocking.lock(self._home)
        self.close()
        self._send({"type": "locked", "id": message["id"]})

    def _on_case_create(self, message: dict[str, Any]) -> None:
        case = self.locker().create_case(message["title"], self._passphrase(),
                                         bool(message.get("anonymous")))
        self._send({"type": "case", "id": message["id"], "case": _case_json(case)})

    def _on_items(self, message: dict[str, Any]) -> None:
        locker = self.locker()
        case = self._case(message)
        stamped = _stamped_up_to(locker, case.id)
        logged = {e.subject: e.seq for e in locker.log(case.id) if e.action == "item.add"}
        listed = [_item_line(locker, item, logged.get(item.label, stamped + 1) <= stamped)
                  for item in locker.items(case.id)]
        self._send({"type": "items", "id": message["id"], "case": _case_json(case), "items": listed})

    def _on_thumbs(self, message: dict[str, Any]) -> None:
        from evidencekit._internal.native_host import thumbnail  # Pillow loads after the list is drawn

        locker = self.locker()
        case = self._case(message)
        found: dict[str, str] = {}
        for ref in message["items"]:
            item = locker.item(ref, case.id)
            picture = next((f for f in item.files if f.media_type.startswith("image/")
                            and f.name != "page-full.png"), None)  # the viewport shows more at this size
            picture = picture or next((f for f in item.files if f.media_type.startswith("image/")), None)
            if picture is not None and locker.blobs.state(picture.sha256) == "ok":
                with locker.blobs.open(picture.sha256) as blob:
                    url = thumbnail.data_url(blob)
                if url:
                    found[item.label] = url
        self._send({"type": "thumbs", "id": message["id"], "thumbs": found})

    def _on_item(self, message: dict[str, Any]) -> None:
        from evidencekit import imports

        locker = self.locker()
        case = self._case(message)
        item = locker.item(message["item"], case.id)
        reply: dict[str, Any] = {"type": "item", "id": message["id"], "item": _item_line(locker, item, None),
                                 "facts": item.incident.given(), "created": item.created, "acquired": item.acquired,
                                 "files": [f.to_json() for f in item.files]}
        notice = notice_of(item)
        if notice is not None:
            reply["notice"] = [list(pair) for pair in notice.lines(self._lang)]
        if item.kind == "diary":
            reply["text"] = locker.note_text(item)
        if any(f.name == TRANSCRIPT for f in item.files):
            messages = imports.transcript(locker, item.label, case.id).get("messages", [])
            shown, more = _within_budget([_message_json(m) for m in messages])
            reply["transcript"], reply["more"] = shown, more
        self._send(reply)

    def _on_timeline(self, message: dict[str, Any]) -> None:
        from evidencekit import timeline  # the same lines as the report's and ``evidencekit timeline``

        line = timeline.build(self.locker(), self._case(message).id, limit=500)
        shown, more = _within_budget([timeline.to_json(event, line.clock) for event in line.events])
        self._send({"type": "timeline", "id": message["id"], "moments": shown, "more": more})

    def _on_note(self, message: dict[str, Any]) -> None:
        case, secret = self._unlocked_case(message.get("caseId"))
        item = self.locker().add_note(message["text"], secret, _facts(message.get("facts")), case.id)
        self._send({"type": "stored", "id": message["id"], "item": item.label, "items": [item.label]})
        self._stamp(message["id"])

    def _begin_upload(self, message: dict[str, Any], kind: str, options: dict[str, Any]) -> None:
        """Like ``begin``, for files the worker picked: any name, kept in numbered folders."""
        from evidencekit._internal.native_host.transfer import Transfer, check_files

        self._drop_pending()
        self._failed.pop(message["id"], None)
        check_files(message["files"], uploads=True)
        facts = _facts(message.get("facts"))
        case, secret = self._unlocked_case(message.get("caseId"))
        transfer = Transfer(message["id"], message["files"], self.locker().scratch(), uploads=True)
        self._pending = _Pending(transfer, case, secret, facts, None, kind, options)
        self._send({"type": "ready", "id": message["id"], "bytes": transfer.size})

    def _on_add(self, message: dict[str, Any]) -> None:
        self._begin_upload(message, "add", {"together": bool(message.get("together"))})

    def _add(self, request: str, pending: _Pending) -> None:
        try:
            paths = pending.transfer.received()
            items = self.locker().add_files(paths, pending.passphrase, pending.facts, pending.case.id,
                                            together=pending.options["together"])
        finally:
            self._drop_pending()
        self._send({"type": "stored", "id": request, "items": [i.label for i in items],
                    "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for i in items for f in i.files]})
        self._stamp(request)

    def _on_import(self, message: dict[str, Any]) -> None:
        self._begin_upload(message, "import", {"dateOrder": message.get("dateOrder")})

    def _on_import_answer(self, message: dict[str, Any]) -> None:
        pending = self._pending
        if pending is None or pending.transfer.request_id != message["id"] or pending.paths is None:
            raise UserError("extension.no_transfer")
        if "dateOrder" in message:
            pending.options["dateOrder"] = message["dateOrder"]
        if "conversations" in message:
            pending.options["conversations"] = [f"={name}" for name in message["conversations"]]  # exact names
        self._import(message["id"], pending)

    def _import(self, request: str, pending: _Pending) -> None:
        """Read the export as ``import`` does; an open question keeps the upload for the answer."""
        from evidencekit import imports
        from evidencekit.importers.errors import NeedsDateOrder

        assert pending.paths is not None
        order = pending.options.get("dateOrder")
        try:
            if "conversations" not in pending.options:  # asked once, after the dates are settled
                found = [c for c in imports.list_conversations(pending.paths[0], date_order=order) if c.name]
                if len(found) > 1:
                    self._send({"type": "question", "id": request, "ask": "conversations", "candidates": [
                        {"name": c.name, "messages": c.messages, "first": c.first_utc, "last": c.last_utc}
                        for c in found[:CONVERSATIONS_ASKED]]})
                    return
                pending.options["conversations"] = []
            item = imports.import_export(self.locker(), pending.paths[0], pending.passphrase, date_order=order,
                                         conversations=pending.options["conversations"], facts=pending.facts,
                                         case=pending.case.id)
        except NeedsDateOrder as question:
            self._send({"type": "question", "id": request, "ask": "dateOrder", "candidates": question.candidates,
                        "example": str(question.params.get("example", ""))})
            return
        self._drop_pending()
        self._send({"type": "stored", "id": request, "item": item.label, "items": [item.label],
                    "format": item.acquired.get("format"), "summary": _summary(self.locker(), item)})
        self._stamp(request)

    def _on_capture(self, message: dict[str, Any]) -> None:
        """Capture an address in the capture browser, as ``evidencekit capture URL`` does.

        Only pages anyone may see: a page behind her login is captured with the toolbar button on
        that page, since the extension does not ask for the ``tabs`` permission to reach it.
        """
        from evidencekit import capture as web
        from evidencekit._internal.capture import check_url

        url = check_url(message["url"])  # http(s) only, before any browser starts
        facts = _facts(message.get("facts"))
        case = self._case(message)
        item = web.capture(self.locker(), url, self._passphrase(), facts=facts, case=case.id)
        self._send({"type": "stored", "id": message["id"], "item": item.label, "items": [item.label],
                    "title": item.acquired.get("title") or "", "url": item.acquired.get("final_url") or url})
        self._stamp(message["id"])

    def _on_report(self, message: dict[str, Any]) -> None:
        from evidencekit import report

        locker = self.locker()
        case = self._case(message)
        output = downloads.free_name(f"report-{case.id}-{date.today().isoformat()}", ".pdf")
        options = report.Options(lang=message["lang"], items=tuple(message.get("items") or ()))
        written = report.write(locker, output, case.id, options)
        self._send({"type": "written", "id": message["id"], "name": written.name, "folder": str(written.parent)})

    def _on_recipients(self, message: dict[str, Any]) -> None:
        book = [{"name": name, "fingerprint": info.fingerprint} for name, info in self.locker().recipients()]
        self._send({"type": "recipients", "id": message["id"], "recipients": book})

    def _on_recipient_add(self, message: dict[str, Any]) -> None:
        info = self.locker().add_recipient(message["name"], _pasted_key(message["key"]))
        self._send({"type": "recipient", "id": message["id"], "name": message["name"].strip(),
                    "fingerprint": info.fingerprint})

    def _on_seal(self, message: dict[str, Any]) -> None:
        from evidencekit import bundle

        case, secret = self._unlocked_case(message.get("caseId"))
        suffix = bundle.SEALED_SUFFIX if message["recipients"] else bundle.PLAIN_SUFFIX
        output = downloads.free_name(f"evidencekit-{case.id}-{date.today().isoformat()}", suffix)
        sealed = bundle.seal(self.locker(), secret, items=message["items"], recipients=message["recipients"],
                             output=output, case=case.id, plain=bool(message.get("plain")))
        self._send({"type": "written", "id": message["id"], "name": sealed.path.name,
                    "folder": str(sealed.path.parent), **sealed.to_json()})
        self._stamp(message["id"])

    def _on_stamps(self, message: dict[str, Any]) -> None:
        counts = {"queued": 0, "pending": 0, "complete": 0}
        for stamp in self.locker().stamps(self._case(message).id):
            key = stamp.status if stamp.status in counts else "complete"
            counts[key] += 1
        self._send({"type": "stamps", "id": message["id"], **counts})

    def _on_stamp(self, message: dict[str, Any]) -> None:
        summary = self.locker().stamp()
        self._send({"type": "stamped", "id": message["id"], **summary.to_json(),
                    "failures": len(summary.failures)})

    def _on_key(self, message: dict[str, Any]) -> None:
        info = self.locker().identity()
        self._send({"type": "key", "id": message["id"], "publicKey": info.public_key,
                    "fingerprint": info.fingerprint})


def _facts(given: dict[str, Any] | None) -> IncidentFacts:
    """The incident record from the page's fields (the popup and the case page use the same names)."""
    given = given or {}
    return IncidentFacts(
        date=normalise_date(given["incidentDate"]) if given.get("incidentDate") else None,
        who=given.get("who"),
        channel=given.get("channel") or None,
        description=given.get("note") or None,
        where=given.get("where") or None,
        person=given.get("person") or None,
        witnesses=tuple(given.get("witnesses", ())),
        reaction=given.get("reaction") or None,
        consequences=given.get("consequences") or None,
    )


def _case_json(case: Case) -> dict[str, Any]:
    return {"id": case.id, "title": case.title, "current": case.current, "anonymous": case.anonymous,
            "items": case.item_count}


def _stamped_up_to(locker: Locker, case_id: str) -> int:
    """The highest log entry a server has answered for: every item logged up to it is stamped."""
    return max((s.seq for s in locker.stamps(case_id) if s.status != "queued"), default=0)


def _summary(locker: Locker, item: Item) -> dict[str, Any]:
    """What the list's one line says: the note's words, the page, or the chat and its period."""
    if item.kind == "diary":
        return {"text": locker.note_text(item)[:300]}
    if any(f.name == TRANSCRIPT for f in item.files):
        from evidencekit import imports

        data = imports.transcript(locker, item.label, item.case_id)
        times = [m["time_utc"] for m in data.get("messages", []) if m.get("time_utc")]
        details = data.get("details") or {}
        name = details.get("chat_name") or details.get("subject") or ", ".join(details.get("conversations_shown") or []) \
            or (data.get("source") or {}).get("name")
        return {"chat": name, "messages": data.get("message_count", len(data.get("messages", []))),
                "from": min(times, default=None), "to": max(times, default=None)}
    if item.acquired.get("final_url"):
        return {"title": item.acquired.get("title") or "", "url": item.acquired["final_url"]}
    return {"text": item.incident.description or "", "files": [f.name for f in item.files][:5]}


def _item_line(locker: Locker, item: Item, stamped: bool | None) -> dict[str, Any]:
    notice = notice_of(item)
    facts = item.incident
    return {"id": item.label, "kind": item.kind, "date": notice.date if notice else facts.date,
            "created": item.created, "who": facts.who, "channel": facts.channel, "person": facts.person,
            "where": facts.where, "description": facts.description, "sensitive": item.sensitive,
            "stamped": stamped, "picture": any(f.media_type.startswith("image/") for f in item.files),
            "notice": notice.headline() if notice else None, "summary": _summary(locker, item)}


def _message_json(message: dict[str, Any]) -> dict[str, Any]:
    """A transcript message with what the page shows, as the report lays it out."""
    return {"time": message.get("time_utc"), "written": message.get("time_written"),
            "sender": message.get("sender"), "text": (message.get("text") or "")[:4000],
            "system": bool(message.get("system")), "edited": bool(message.get("edited")),
            "deleted": bool(message.get("deleted")),
            "attachments": [a.get("name") for a in message.get("attachments") or [] if a.get("name")]}


def _within_budget(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """As many rows as fit one reply, and how many were left out."""
    used = 0
    for count, row in enumerate(rows):
        used += len(json.dumps(row, ensure_ascii=False))
        if used > REPLY_BUDGET:
            return rows[:count], len(rows) - count
    return rows, 0


def _pasted_key(text: str) -> str:
    """The public key in what was pasted: the key alone, or the whole line ``keys show`` printed."""
    for word in reversed(re.split(r"[\s:]+", text.strip())):
        try:
            keys.parse_public_key(word)
        except UserError:
            continue
        return word
    raise UserError("keys.bad_public_key")


def serve(home: Path | None, origin: str | None = None) -> int:
    """Run the host on this process's stdin and stdout (as the browser starts it)."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the frame stream
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the clean-up on the way out
    host = NativeHost(home, out, origin)
    return host.run(sys.stdin.buffer)
