"""E-mail as ``.eml`` (one message) or ``.mbox`` (many), with DKIM and ARC checked at import.

Why here: an e-mail signed by the sending domain (DKIM) is the strongest chat-like evidence
there is — but only if it is checked on the bytes exactly as received (never re-serialised), with
the domain's key recorded so the check can be repeated offline after the key has rotated.

Three honest outcomes per signature: ``pass``, ``fail`` (with the reason), ``cannot_check`` (the
key is not available — not the same as invalid). dkimpy compares the signature's ``t=``/``x=``
with today's clock; an old message would then fail only because it is old. We run dkimpy's
cryptographic check without those two tags and judge them against the time the message was
received (its newest ``Received`` header, else its ``Date``), and say so in the result.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import re
from datetime import datetime, timezone
from email.message import EmailMessage, Message as StdMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

import authres
import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from evidencekit.i18n import t
from evidencekit.importers._options import Options
from evidencekit.importers._source import MAX_DOCUMENT, Source
from evidencekit.importers._time import EXPORT_OFFSET, format_utc
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("email",)

_HEADER = re.compile(rb"[!-9;-~]+:")
_KNOWN = (b"received", b"from", b"to", b"subject", b"date", b"message-id", b"dkim-signature",
          b"return-path", b"mime-version", b"delivered-to", b"content-type", b"x-")
_FROM_LINE = re.compile(rb"From \S")
_MBOXRD = re.compile(rb"^>(>*From )", re.M)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|vs|wg|tr|rv|doorst)\s*:", re.I)
_FORWARD_BODY = ("---------- Forwarded message", "Begin forwarded message",
                 "-----Original Message-----", "Videresendt melding", "Opprinnelig melding",
                 "Weitergeleitete Nachricht", "Doorgestuurd bericht")
#: dkimpy allows signatures 10 hours into the future for skewed clocks; we do the same.
CLOCK_SLOP = 36000
#: How much of one message's header is read. Parsing a header is not linear everywhere: dkimpy
#: joins a field's continuation lines one at a time (one field folded over a million lines took
#: minutes), and the address parser of Python's email package slows down with the length of a
#: list (10,000 named recipients in one Cc: 9 s). Real headers are far smaller: a message that
#: crossed a dozen relays with ARC sets has some 20 kB, a Cc of 2,000 recipients some 64 kB. A
#: larger header is read up to these limits (whole fields only), the rest is named in a notice,
#: and its signatures are not checked, as each covers fields that were not read. The message
#: itself stays whole in the stored export. Within the limits the worst header (256 kB folded
#: into lines of three bytes, which Python's parser reads one at a time) takes under a second.
MAX_HEADER_FIELDS = 1000
MAX_FIELD_BYTES = 64 << 10
MAX_HEADER_BYTES = 256 << 10
_HEADER_END = re.compile(rb"\n\r?\n")
_FIELD_END = re.compile(rb"\n(?![ \t])")
_ARC_SEAL = re.compile(rb"^ARC-Seal:", re.M | re.I)
#: MIME fields (the message's and its parts') are parsed again each time the structure is asked
#: for, and Python's parameter parser is slow: some 70 µs a parameter (a Content-Type of 16,000
#: parameters cost ten seconds) and quadratic in a malformed value (8 kB: 1.4 s). Real ones have
#: a handful of parameters (type, charset, boundary, name) in well under a kilobyte; a long file
#: name split into RFC 2231 pieces stays under 4 kB. A message with a MIME field beyond either
#: limit is not taken apart: its text is the body as written, and a notice says so.
MAX_MIME_PARAMETERS = 100
MAX_MIME_FIELD = 4 << 10
_MIME_FIELD = re.compile(rb"^content-[a-z-]+:[^\n]*(?:\n[ \t][^\n]*)*", re.M | re.I)
_EXTENSIONS = (".eml", ".mbox", ".msg")


# -- detection ------------------------------------------------------------------------------
def looks_mail(head: bytes) -> bool:
    head = head.lstrip(b"\xef\xbb\xbf")
    lines = head.split(b"\n", 40)
    if lines and _FROM_LINE.match(lines[0]):
        lines = lines[1:]
    names = []
    for line in lines[:40]:
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue
        if not _HEADER.match(line):
            return False
        names.append(line.split(b":", 1)[0].lower())
    return sum(1 for n in names if n.startswith(_KNOWN)) >= 2


def _members(src: Source) -> list[str | None]:
    if src.kind == "file":
        return [None]
    return sorted(p for p in src.members if p.lower().endswith(_EXTENSIONS)
                  and looks_mail(src.head(p, 8192)))


def sniff(src: Source) -> int:
    if src.kind == "file":
        return 85 if looks_mail(src.head(None, 8192)) else 0
    return 70 if _members(src) else 0


# -- splitting an mbox without rewriting it -------------------------------------------------
def split(handle: IO[bytes], name: str) -> Iterator[tuple[int, bytes, bool]]:
    """(offset, bytes, from_mbox) of every message: an mbox is cut at its ``From `` lines
    (each message's trailing separator line left out); any other file is one message."""
    first = handle.readline(1 << 16)
    if not _FROM_LINE.match(first):
        rest = handle.read(MAX_DOCUMENT + 1 - len(first))
        data = first + rest
        if len(data) > MAX_DOCUMENT:
            raise ImportFailed("importers.too_large", name=name, limit_mb=MAX_DOCUMENT >> 20)
        yield 0, data, False
        return
    offset = len(first)
    start = offset
    parts: list[bytes] = []
    size = 0
    previous_blank = False
    at_line_start = True
    while True:
        line = handle.readline(1 << 20)
        if not line:
            break
        is_sep = at_line_start and previous_blank and _FROM_LINE.match(line) is not None
        if is_sep:
            yield start, _trim(b"".join(parts)), True
            parts, size = [], 0
            offset += len(line)
            start = offset
            previous_blank = False
            at_line_start = line.endswith(b"\n")
            continue
        parts.append(line)
        size += len(line)
        if size > MAX_DOCUMENT:
            raise ImportFailed("importers.too_large", name=name, limit_mb=MAX_DOCUMENT >> 20)
        offset += len(line)
        if at_line_start:
            previous_blank = line in (b"\n", b"\r\n")
        at_line_start = line.endswith(b"\n")
    yield start, _trim(b"".join(parts)), True


def _trim(data: bytes) -> bytes:
    """An mbox message without the blank separator line that follows it."""
    if data.endswith(b"\r\n\r\n"):
        return data[:-2]
    if data.endswith(b"\n\n"):
        return data[:-1]
    return data


# -- DKIM -----------------------------------------------------------------------------------
class KeyBook:
    """DKIM keys: supplied records first, then (if allowed) the live DNS; every key used is
    recorded so the check can be repeated offline."""

    def __init__(self, supplied: dict[str, str], resolve: bool) -> None:
        self.supplied = supplied
        self.resolve = resolve
        self.used: dict[str, dict[str, str]] = {}
        self.missing: set[str] = set()

    def lookup(self, name: str) -> tuple[str | None, str | None]:
        key = name.rstrip(".").lower()
        if key in self.supplied:
            record, source = self.supplied[key].strip(), "supplied"
        elif self.resolve:
            try:
                from dkim.dnsplug import get_txt
                found = get_txt((key + ".").encode("ascii"), timeout=5)
            except Exception:  # any DNS failure means: we could not get the key
                found = None
            if isinstance(found, bytes):
                found = found.decode("ascii", "replace")
            record, source = found, "dns"
        else:
            record, source = None, None
        if record:
            self.used[key] = {"record": record, "source": source or ""}
            return record, source
        self.missing.add(key)
        return None, None

    def dnsfunc(self) -> Callable[..., bytes | None]:
        def get(name: bytes | str, timeout: int = 5) -> bytes | None:
            text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
            record, _ = self.lookup(text)
            return record.encode("ascii", "replace") if record else None
        return get


def _when(value: bytes | None) -> str | None:
    if value is None or not value.strip().isdigit():
        return None
    return format_utc(datetime.fromtimestamp(int(value), timezone.utc))


def check_dkim(raw: bytes, keys: KeyBook, received: datetime | None) -> list[dict[str, Any]]:
    """Every DKIM signature of ``raw``: pass / fail / cannot_check, with reason and key."""
    try:
        signer = dkim.DKIM(raw, minkey=1024)
    except dkim.DKIMException as exc:  # headers dkimpy cannot split: nothing to verify
        return [{"index": 0, "result": "fail", "reason": "malformed_signature",
                 "detail": str(exc)}] if re.search(rb"(?im)^dkim-signature:", raw) else []
    sig_headers = [(k, v) for k, v in signer.headers if k.lower() == b"dkim-signature"]
    results = []
    for index, header in enumerate(sig_headers):
        result: dict[str, Any] = {"index": index, "result": "fail", "reason": None,
                                  "detail": None, "domain": None, "selector": None,
                                  "algorithm": None, "signed_at": None, "expires": None,
                                  "key_name": None, "key_record": None, "key_source": None,
                                  "time_checked_against": None, "time_reference": None}
        results.append(result)
        try:
            sig = parse_tag_value(header[1])
        except InvalidTagValueList as exc:
            result.update(reason="malformed_signature", detail=str(exc))
            continue
        domain = sig.get(b"d", b"").decode("ascii", "replace")
        selector = sig.get(b"s", b"").decode("ascii", "replace")
        result.update(domain=domain, selector=selector,
                      algorithm=sig.get(b"a", b"").decode("ascii", "replace"),
                      signed_at=_when(sig.get(b"t")), expires=_when(sig.get(b"x")))
        untimed = {k: v for k, v in sig.items() if k not in (b"t", b"x")}
        try:
            dkim.validate_signature_fields(untimed)
        except dkim.DKIMException as exc:
            result.update(reason="malformed_signature", detail=str(exc))
            continue
        name = f"{selector}._domainkey.{domain}"
        result["key_name"] = name
        record, source = keys.lookup(name)
        if record is None:
            result.update(result="cannot_check", reason="key_unavailable")
            continue
        result.update(key_record=record, key_source=source)
        try:
            dkim.evaluate_pk(name.encode(), record)
        except dkim.KeyFormatError as exc:
            empty = re.search(r"(?:^|;)\s*p\s*=\s*(?:;|$)", record) is not None
            result.update(result="cannot_check" if empty else "fail",
                          reason="key_revoked" if empty else "key_malformed", detail=str(exc))
            continue
        timing = _timing(sig, received)
        result.update(timing)
        include = [h.lower() for h in re.split(rb"\s*:\s*", sig[b"h"])]
        try:
            ok = signer.verify_sig(sig, include, header, keys.dnsfunc())
        except dkim.ValidationError as exc:
            body = "body hash" in str(exc)
            result.update(reason="body_changed" if body else "invalid", detail=str(exc))
            continue
        except Exception as exc:  # dkimpy on hostile input: this signature is invalid, no more
            result.update(reason="invalid", detail=f"{type(exc).__name__}: {exc}")
            continue
        if not ok:
            result.update(reason="signature_mismatch")
        elif timing.get("time_problem"):
            result.update(reason=timing["time_problem"])
        else:
            result.update(result="pass", reason="verified")
    return results


def _timing(sig: dict[bytes, bytes], received: datetime | None) -> dict[str, Any]:
    """Judge ``t=``/``x=`` against the receipt time instead of today (historical check).

    Without a ``Received`` header there is no receipt time we can trust (``Date`` is written by
    the sender), so the import time is used, as dkimpy itself would.
    """
    now = datetime.now(timezone.utc)
    reference = received or now
    out: dict[str, Any] = {"time_checked_against": format_utc(reference),
                           "time_reference": "received" if received else "import"}
    t_value, x_value = sig.get(b"t"), sig.get(b"x")
    moment = reference.timestamp()
    if t_value is not None and t_value.isdigit() and int(t_value) > moment + CLOCK_SLOP:
        out["time_problem"] = "signed_after_receipt"
    if x_value is not None and x_value.isdigit():
        if int(x_value) < moment:
            out["time_problem"] = "expired_before_receipt"
        elif int(x_value) < now.timestamp():
            out["expired_since"] = True  # dkimpy alone would call this signature invalid now
    return out


def check_arc(raw: bytes, keys: KeyBook) -> dict[str, Any]:
    if not _ARC_SEAL.search(raw):
        return {"result": "none"}
    before = set(keys.missing)
    try:
        cv, details, reason = dkim.arc_verify(raw, dnsfunc=keys.dnsfunc())
    except Exception as exc:  # dkimpy on hostile input: the chain does not hold
        return {"result": "fail", "reason": f"{type(exc).__name__}: {exc}"}
    verdict = (cv or b"none").decode() if isinstance(cv, bytes) else str(cv or "none")
    if verdict != "pass" and keys.missing - before:
        verdict = "cannot_check"
    return {"result": verdict, "reason": reason, "sets": len(details),
            "note": "ARC t= is checked by dkimpy against today's clock"}


# -- one message ----------------------------------------------------------------------------
def _within_limits(raw: bytes) -> tuple[bytes, dict[str, int] | None]:
    """``raw`` as it is parsed, with its header held to the limits above, and what was cut
    (``None``: nothing). Each field ends at a line break not followed by a space or tab, found
    by one regular-expression search, so even a header of a gigabyte costs one pass in C."""
    end = _HEADER_END.search(raw)
    header_end = end.start() + 1 if end else len(raw)
    kept: list[bytes] = []
    size = start = seen = 0
    while start < header_end and seen < MAX_HEADER_FIELDS:
        found = _FIELD_END.search(raw, start, header_end)
        stop = found.start() + 1 if found else header_end
        if stop - start <= MAX_FIELD_BYTES and size + stop - start <= MAX_HEADER_BYTES:
            kept.append(raw[start:stop])
            size += stop - start
        start, seen = stop, seen + 1
    if start >= header_end and len(kept) == seen:
        return raw, None
    return b"".join(kept) + raw[header_end:], {"size": header_end, "lines": raw.count(b"\n", 0, header_end),
                                              "kept": len(kept)}


def _unchecked(headers: StdMessage, why: str) -> list[dict[str, Any]]:
    """The DKIM signatures among the fields read, each marked as not checked, and why."""
    results = []
    for index, value in enumerate(headers.get_all("DKIM-Signature") or []):
        try:
            domain = parse_tag_value(str(value).encode("utf-8", "replace")).get(b"d", b"").decode("ascii", "replace")
        except InvalidTagValueList:
            domain = None
        results.append({"index": index, "result": "cannot_check", "reason": why, "domain": domain})
    return results


def _raw_headers(raw: bytes) -> StdMessage:
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]", " ", value)


def _received_time(value: str) -> datetime | None:
    _, _, when = _unfold(value).rpartition(";")
    try:
        moment = parsedate_to_datetime(when.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _auth_results(values: list[str]) -> list[dict[str, Any]]:
    parsed = []
    for value in values:
        text = _unfold(value).strip()
        try:
            header = authres.AuthenticationResultsHeader.parse(
                "Authentication-Results: " + text)
            parsed.append({"authserv_id": header.authserv_id, "raw": text, "results": [
                {"method": r.method, "result": r.result, "reason": r.reason,
                 "properties": {f"{p.type}.{p.name}": p.value for p in r.properties}}
                for r in header.results]})
        except Exception as exc:  # authres raises its own SyntaxError family on bad input
            parsed.append({"raw": text, "parse_error": str(exc)})
    return parsed


def _body(message: EmailMessage) -> tuple[str, Any]:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", None
    try:
        return part.get_content(), part
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace"), part


def _attachments(message: EmailMessage, body: Any) -> list[Attachment]:
    found = []
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        name = part.get_filename()
        disposition = part.get_content_disposition()
        if name is None and disposition != "attachment" and part.get_content_maintype() == "text":
            continue  # an alternative text/html body, not a file
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        found.append(Attachment(name, hashlib.sha256(payload).hexdigest(), "present",
                                size=len(payload)))
    return found


def _mime_too_complex(raw: bytes) -> tuple[int, int] | None:
    """Size and parameter count of the first MIME field beyond the limits above, if any."""
    for found in _MIME_FIELD.finditer(raw):
        size, count = len(found.group()), found.group().count(b";")
        if count > MAX_MIME_PARAMETERS or size > MAX_MIME_FIELD:
            return size, count
    return None


def _decoded(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError, AttributeError):
        return None
    return str(value) if value is not None else None


def read_message(index: int, offset: int, raw: bytes, from_mbox: bool, member: str | None,
                 keys: KeyBook, opts: Options, transcript: Transcript) -> Message:
    parsed, cut = _within_limits(raw)
    if cut is not None:
        transcript.notice("email_header_cut", index, size_kb=cut["size"] >> 10, lines=cut["lines"],
                          kept=cut["kept"], fields=MAX_HEADER_FIELDS, field_kb=MAX_FIELD_BYTES >> 10,
                          limit_kb=MAX_HEADER_BYTES >> 10)
    headers = _raw_headers(parsed)
    too_many = _mime_too_complex(parsed)  # before parsing: the parser itself asks for the types
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        parsed, headersonly=too_many is not None)
    date_raw = headers.get("Date")
    date_text = _unfold(date_raw).strip() if date_raw is not None else None
    sender = _decoded(message, "From")
    msg = Message(index=index, sender=sender, time_written=date_text, time_utc=None,
                  tz_source=None, text="", offset=offset, length=len(raw), source_file=member)
    addresses = getaddresses([str(sender or "")])
    msg.sender_id = addresses[0][1].lower() if addresses and addresses[0][1] else None
    if date_text:
        try:
            moment = parsedate_to_datetime(date_text)
        except (TypeError, ValueError, IndexError):
            transcript.notice("unreadable_time", index, written=date_text)
        else:
            if moment.tzinfo is None:
                transcript.notice("date_without_zone", index, written=date_text)
                moment = moment.replace(tzinfo=timezone.utc)
            msg.time_utc, msg.tz_source = format_utc(moment), EXPORT_OFFSET
    msg.id = (headers.get("Message-ID") or "").strip() or None
    msg.reply_to = (headers.get("In-Reply-To") or "").strip() or None
    if too_many is None:
        text, body = _body(message)
        msg.attachments = _attachments(message, body)
    else:
        end = _HEADER_END.search(parsed)
        text = parsed[end.end() if end else len(parsed):].decode("utf-8", "replace")
        transcript.notice("email_mime_too_complex", index, size=too_many[0], count=too_many[1],
                          limit=MAX_MIME_PARAMETERS, limit_kb=MAX_MIME_FIELD >> 10)
    msg.text = text
    received = [_unfold(v) for v in headers.get_all("Received") or []]
    hop_times = [_received_time(v) for v in received]
    receipt = next((t for t in hop_times if t is not None), None)
    signed = _MBOXRD.sub(rb"\1", raw) if from_mbox and cut is None else raw
    subject = _decoded(message, "Subject")
    msg.extra = {
        "subject": subject, "to": _decoded(message, "To"), "cc": _decoded(message, "Cc"),
        "message_id": msg.id, "date": date_text,
        "received": [{"raw": v, "time_utc": format_utc(t) if t else None}
                     for v, t in zip(received, hop_times)],
        "authentication_results": _auth_results(headers.get_all("Authentication-Results") or []),
        "dkim": check_dkim(signed, keys, receipt) if cut is None else _unchecked(headers, "header_too_large"),
        "arc": check_arc(signed, keys) if cut is None or not _ARC_SEAL.search(raw)
        else {"result": "cannot_check", "reason": "header_too_large"},
        "sha256": hashlib.sha256(raw).hexdigest(),
        "mbox_unquoted": signed != raw,
    }
    if message.defects:
        msg.extra["defects"] = sorted({type(d).__name__ for d in message.defects})
    reasons = []
    if subject and _FORWARD_SUBJECT.match(subject):
        reasons.append("subject")
    if any(marker in text for marker in _FORWARD_BODY):
        reasons.append("body")
    if reasons:
        msg.extra["looks_forwarded"] = reasons
        transcript.notice("email_forwarded", index, subject=subject or "")
    if not received:
        transcript.notice("email_no_received", index)
    for result in msg.extra["dkim"]:
        if result.get("expired_since"):
            transcript.notice("dkim_expired_since", index, domain=result["domain"],
                              expires=result["expires"])
    return msg


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    members = _members(src)
    if not members:
        raise ImportFailed("importers.email_none", name=src.name)
    keys = KeyBook(dict(opts.dns_records), opts.resolve_dns)
    transcript.details.update({"files": [m or src.name for m in members], "dns_records": keys.used,
                               "dkim_time_rule": "t= and x= judged at receipt time"})

    def generate() -> Iterator[Message]:
        index = 0
        for member in members:
            name = member or src.name
            with src.open(member) as handle:
                for offset, raw, from_mbox in split(handle, name):
                    if not raw.strip():
                        transcript.notice("email_empty", None, file=name, offset=offset)
                        continue
                    yield read_message(index, offset, raw, from_mbox, member, keys, opts,
                                       transcript)
                    index += 1
        missing = sorted(keys.missing - set(keys.used))
        if missing:
            transcript.notice("dkim_keys_missing", None, names=", ".join(missing))

    return generate()



def dns_records_from_files(pairs: Iterable[str]) -> dict[str, str]:
    """``SELECTOR._domainkey.DOMAIN=FILE`` arguments (the CLI's ``--dns-record``) as records.

    Why files: a key recorded once (from DNS, from the sender's IT department, from an earlier
    import) lets the same DKIM check be repeated offline years later.
    """
    records: dict[str, str] = {}
    for pair in pairs:
        name, sep, file_name = pair.partition("=")
        if not sep or "._domainkey." not in name or not file_name:
            raise ImportFailed("importers.bad_dns_record_arg", given=pair)
        try:
            text = Path(file_name).read_text("ascii").strip()
        except (OSError, UnicodeError) as exc:
            raise ImportFailed("importers.dns_record_unreadable", path=Path(file_name).name) from exc
        records[name.rstrip(".").lower()] = text
    return records


def describe_dkim(result: dict[str, Any], lang: str | None = None) -> str:
    """One sentence for a DKIM result, in bokmål or English."""
    reason = t(f"importers.dkim_{result.get('reason') or 'invalid'}", lang)
    return t(f"importers.dkim_{result['result']}", lang, domain=result.get("domain") or "?",
             reason=reason)
