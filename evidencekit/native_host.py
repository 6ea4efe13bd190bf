"""The browser extension's native-messaging host: one browser port, one process, one capture at a time.

A front end like the command line: the protocol's pieces (framing, schema, chunked transfer,
the capture record, installing the host) are in ``_internal/native_host/``; this module wires
them to the public library.

The conversation (all JSON, every message carries the extension's request ``id``)::

    hello  {lang, extension}                      -> hello  {protocol, version}
    cases                                         -> cases  {ready, cases: [{id, title, current, …}]}
    unlock {passphrase, caseId?}                  -> unlocked {case}
    begin  {caseId?, passphrase?, facts, page, files: [{name, size, sha256}]} -> ready
    chunk  {file, seq, data (base64)}             (no reply; in order, file by file)
    end                                           -> stored {item, case, files: [{name, sha256, size}]}
                                                     then stamped {counts, failures}
    abort                                         -> aborted

Anything wrong gets ``{"type": "error", "id", "code", "message"}`` with one sentence in the
browser's language, and the capture it belonged to is dropped whole. The passphrase arrives with
``unlock``/``begin`` (the popup asks for it once per browser session), or comes from
``EVIDENCEKIT_PASSPHRASE``; it is only held in memory, never written or logged.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO

from evidencekit import __version__
from evidencekit import capture as web
from evidencekit._internal.native_host import HOST_NAME, PROTOCOL, framing, record, schema
from evidencekit._internal.native_host.transfer import Transfer, check_files
from evidencekit.errors import EvidencekitError, LockerError, UserError
from evidencekit.i18n import LANGUAGES, detect_language
from evidencekit.locker import Locker, normalise_date
from evidencekit.models import Case, IncidentFacts

METHOD = "web-capture-extension"


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
    """A begun capture: where its files go, and everything needed to store it at the end."""

    def __init__(self, transfer: Transfer, case: Case, passphrase: str, facts: IncidentFacts,
                 page: dict[str, Any]) -> None:
        self.transfer = transfer
        self.case = case
        self.passphrase = passphrase
        self.facts = facts
        self.page = page


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

    def locker(self) -> Locker:
        if self._locker is None:
            self._locker = Locker.open(self._home)  # which removes what killed hosts left (workdir)
        return self._locker

    def close(self) -> None:
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
        try:
            checked = schema.check(message)
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
        locker = self.locker()
        try:
            locker.identity()
            ready = True
        except LockerError:
            ready = False
        cases = [{"id": c.id, "title": c.title, "current": c.current, "anonymous": c.anonymous,
                  "items": c.item_count} for c in locker.cases()]
        self._send({"type": "cases", "id": message["id"], "ready": ready, "cases": cases})

    def _unlocked_case(self, case_ref: str | None, passphrase: str | None) -> tuple[Case, str]:
        secret = passphrase if passphrase is not None else os.environ.get("EVIDENCEKIT_PASSPHRASE")
        if not secret:
            raise UserError("extension.locked")
        locker = self.locker()
        case = locker.case(case_ref)
        locker.case_signer(case.id, secret)
        return case, secret

    def _on_unlock(self, message: dict[str, Any]) -> None:
        case, _ = self._unlocked_case(message.get("caseId"), message["passphrase"])
        self._send({"type": "unlocked", "id": message["id"], "case": {"id": case.id, "title": case.title}})

    def _on_begin(self, message: dict[str, Any]) -> None:
        self._drop_pending()  # one capture at a time; an unfinished earlier one cannot complete now
        self._failed.pop(message["id"], None)
        check_files(message["files"])
        given = message.get("facts") or {}
        facts = IncidentFacts(
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
        record.web_capture(message["page"], (), self._origin)  # its times must parse before bytes move
        case, secret = self._unlocked_case(message.get("caseId"), message.get("passphrase"))
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
        files = pending.transfer.finish()
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


def serve(home: Path | None, origin: str | None = None) -> int:
    """Run the host on this process's stdin and stdout (as the browser starts it)."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the frame stream
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the clean-up on the way out
    host = NativeHost(home, out, origin)
    return host.run(sys.stdin.buffer)
