"""Outlook ``.msg`` files: one e-mail each (a zip or folder of them is read as many).

Why care: Outlook saves mail as an OLE2 compound file of MAPI properties, not as the bytes that
arrived. What was received survives only in part: the transport headers (property 007D, with any
DKIM-Signature and Authentication-Results) when the mail came from outside, and Outlook's own
rewrite of the body (plain text, HTML, or compressed RTF only). So the headers are read and checked
exactly as an ``.eml``'s are (``email.read_message``), the sender, time and subject fall back to
MAPI properties when there are no headers, and a DKIM body check that cannot hold because Outlook
rewrote the body is said to be that — with the provider's own verdict at receipt
(Authentication-Results, ARC) beside it — never shown as forgery.

The parser is python-oxmsg (MIT) over olefile (BSD); compressed RTF is unpacked by compressed_rtf
(MIT) and read as text by striprtf (BSD). Attached files become files of the imported item.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any, Iterator

from evidencekit.importers import email as mail
from evidencekit.importers._options import Options
from evidencekit.importers._source import Source
from evidencekit.importers._time import format_utc
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("outlook-msg",)
GAPS = ("msg_not_as_received",)

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: A .msg is read whole into memory by the parser; real ones are far smaller (Outlook's own
#: attachment limit is 20–150 MB).
MAX_MSG = 256 << 20

# MAPI property ids (MS-OXPROPS)
_TRANSPORT_HEADERS = 0x007D
_SUBJECT = 0x0037
_CLIENT_SUBMIT_TIME = 0x0039
_DELIVERY_TIME = 0x0E06
_CREATION_TIME = 0x3007
_SENDER_NAME = 0x0C1A
_SENDER_EMAIL = 0x0C1F
_SENDER_ADDRESS_TYPE = 0x0C1E
_SENDER_SMTP = 0x5D01
_DISPLAY_TO = 0x0E04
_DISPLAY_CC = 0x0E03
_MESSAGE_ID = 0x1035
_IN_REPLY_TO = 0x1042
_BODY = 0x1000
_HTML = 0x1013
_RTF_COMPRESSED = 0x1009
_ATTACH_LONG_NAME = 0x3707
_ATTACH_NAME = 0x3704
_DISPLAY_NAME = 0x3001
_ATTACH_METHOD = 0x3705
_ATTACH_DATA = 0x3701
_ATTACH_BY_VALUE = 1
#: Where a message's time comes from when it has no transport headers, best first.
_TIMES = ((_CLIENT_SUBMIT_TIME, "msg-submit"), (_DELIVERY_TIME, "msg-delivery"),
          (_CREATION_TIME, "msg-creation"))


def _is_ole(head: bytes) -> bool:
    return head.startswith(_OLE)


def _members(src: Source) -> list[str | None]:
    if src.kind == "file":
        return [None] if _is_ole(src.head(None, 8)) else []
    return sorted(p for p in src.members if p.lower().endswith(".msg") and _is_ole(src.head(p, 8)))


def sniff(src: Source) -> int:
    if src.kind == "file":
        if not _is_ole(src.head(None, 8)):
            return 0
        return 95 if src.name.lower().endswith(".msg") else 40  # other Office files are OLE too
    return 75 if _members(src) else 0


def _load(data: bytes, name: str) -> Any:
    from oxmsg import Message as OxMessage  # imported on use: only .msg imports pay for it

    try:
        loaded = OxMessage.load(data)
        loaded.properties.str_prop_value(_SUBJECT)  # the properties are read lazily: read them now
    except ImportFailed:
        raise
    except Exception as exc:  # olefile/oxmsg on a damaged or hostile file: it cannot be read
        raise ImportFailed("importers.msg_unreadable", name=name) from exc
    return loaded


class _Text(HTMLParser):
    """The visible text of an HTML body (scripts and styles left out, blocks on their own lines)."""

    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


def rtf_text(compressed: bytes) -> str:
    """The text of a compressed-RTF body (MS-OXRTFCP), the only body many .msg files have."""
    import compressed_rtf
    from striprtf.striprtf import rtf_to_text

    rtf = compressed_rtf.decompress(compressed)
    return rtf_to_text(rtf.decode("latin-1"), errors="ignore").strip()


def _body(props: Any) -> tuple[str, str | None]:
    """The body as text and which form it came from (``plain``, ``html``, ``rtf`` or ``None``)."""
    text = props.str_prop_value(_BODY)
    if text:
        return text, "plain"
    html = props.binary_prop_value(_HTML)
    if html:
        return html_text(html.decode(props.body_encoding, "replace")), "html"
    html_string = props.str_prop_value(_HTML)
    if html_string:
        return html_text(html_string), "html"
    rtf = props.binary_prop_value(_RTF_COMPRESSED)
    if rtf:
        return rtf_text(rtf), "rtf"
    return "", None


def _attachment_parts(loaded: Any) -> Iterator[tuple[str | None, bytes | None]]:
    for part in loaded.attachments:
        props = part.properties
        name = (props.str_prop_value(_ATTACH_LONG_NAME) or props.str_prop_value(_ATTACH_NAME)
                or props.str_prop_value(_DISPLAY_NAME))
        by_value = (props.int_prop_value(_ATTACH_METHOD) or 0) & _ATTACH_BY_VALUE
        yield name, props.binary_prop_value(_ATTACH_DATA) if by_value else None


def stored_name(member: str | None, src_name: str, number: int, name: str | None) -> str:
    """The item file an attachment is stored as: beside its .msg, numbered, its name made safe."""
    msg_name = member or src_name  # the member's whole path: two folders may hold a.msg each
    safe = re.sub(r"[^\w.\- ()]+", "_", name or "attachment").strip(". ")[:80] or "attachment"
    return f"{msg_name}.attachments/{number:02d}-{safe}"


def _time(props: Any) -> tuple[str | None, str | None]:
    for pid, origin in _TIMES:
        moment = props.date_prop_value(pid)
        if isinstance(moment, datetime):
            return format_utc(moment), origin
    return None, None


def _from_headers(index: int, headers: str, body: str, member: str | None, keys: mail.KeyBook,
                  opts: Options, transcript: Transcript) -> Message:
    """Read the transport headers as an .eml is read, with Outlook's plain body after them.

    For a plain-text mail Outlook's body can still be the signed one, and DKIM then holds; for
    any other the body check fails only because Outlook rewrote it, which is said as such.
    """
    block = headers.replace("\r\n", "\n").rstrip("\n").replace("\n", "\r\n").encode("utf-8")
    raw = block + b"\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    msg = mail.read_message(index, 0, raw, False, member, keys, opts, transcript)
    msg.extra.pop("defects", None)  # about the body put together here, not the mail received
    rewritten = [r for r in msg.extra["dkim"] if r.get("reason") == "body_changed"]
    for result in rewritten:  # Outlook keeps no received body: this check cannot be made
        result.update(result="cannot_check", reason="msg_body_not_kept")
    if rewritten:
        transcript.notice("msg_body_rewritten", index, provider=_provider_verdict(msg.extra))
    return msg


def _provider_verdict(extra: dict[str, Any]) -> str:
    """What the receiving provider recorded about DKIM/SPF/DMARC/ARC when the mail arrived."""
    said = []
    for header in extra.get("authentication_results") or []:
        for result in header.get("results") or []:
            said.append(f"{result.get('method')}={result.get('result')}")
        if header.get("parse_error"):
            said.append(header.get("raw", "")[:200])
    return ", ".join(dict.fromkeys(said)) or "-"


def _from_properties(index: int, loaded: Any, member: str | None, transcript: Transcript) -> Message:
    """A .msg without transport headers (a draft, a sent copy, a mail from inside Exchange)."""
    props = loaded.properties
    utc, origin = _time(props)
    msg = Message(index=index, sender=None, time_written=utc, time_utc=utc, tz_source=origin,
                  text="", source_file=member)
    msg.id = props.str_prop_value(_MESSAGE_ID) or None
    msg.reply_to = props.str_prop_value(_IN_REPLY_TO) or None
    msg.extra = {"subject": None, "to": props.str_prop_value(_DISPLAY_TO) or None,
                 "cc": props.str_prop_value(_DISPLAY_CC) or None, "message_id": msg.id, "date": None,
                 "received": [], "authentication_results": [], "dkim": [], "arc": {"result": "none"}}
    if origin == "msg-creation":
        transcript.notice("msg_time_is_creation", index, time=utc)
    elif utc is None:
        transcript.notice("msg_no_time", index)
    transcript.notice("msg_no_headers", index)
    return msg


def _sender(props: Any) -> tuple[str | None, str | None]:
    name = (props.str_prop_value(_SENDER_NAME) or "").strip() or None
    address = props.str_prop_value(_SENDER_SMTP)
    if not address and (props.str_prop_value(_SENDER_ADDRESS_TYPE) or "").upper() == "SMTP":
        address = props.str_prop_value(_SENDER_EMAIL)
    address = (address or "").strip().lower() or None
    if name and address:
        return f"{name} <{address}>", address
    return name or address, address


def read_msg(index: int, data: bytes, member: str | None, name: str, keys: mail.KeyBook,
             opts: Options, transcript: Transcript) -> Message:
    loaded = _load(data, name)
    props = loaded.properties
    headers = props.str_prop_value(_TRANSPORT_HEADERS) or ""
    text, form = _body(props)
    if mail.looks_mail(headers.encode("utf-8", "replace")):
        msg = _from_headers(index, headers, text if form == "plain" else "", member, keys, opts,
                            transcript)
        msg.extra["transport_headers"] = True
    else:
        msg = _from_properties(index, loaded, member, transcript)
        msg.extra["transport_headers"] = False
    if msg.sender is None:
        msg.sender, address = _sender(props)
        msg.sender_id = msg.sender_id or address
    if not msg.sender_id and msg.sender:
        found = getaddresses([msg.sender])
        msg.sender_id = found[0][1].lower() if found and "@" in found[0][1] else None
    if msg.time_utc is None and msg.time_written is None:
        msg.time_utc, msg.tz_source = _time(props)
        msg.time_written = msg.time_utc
    msg.extra["subject"] = (msg.extra.get("subject") or "").strip() or props.str_prop_value(_SUBJECT) or None
    msg.extra["message_class"] = loaded.message_class or None
    msg.text, msg.extra["body_form"] = text, form
    msg.offset, msg.length = 0, len(data)
    msg.extra["sha256"] = hashlib.sha256(data).hexdigest()
    msg.attachments = []
    for number, (file_name, content) in enumerate(_attachment_parts(loaded), 1):
        if content is None:
            msg.attachments.append(Attachment(file_name, None, "missing"))
        else:
            msg.attachments.append(Attachment(file_name, hashlib.sha256(content).hexdigest(), "present",
                                              member=stored_name(member, name, number, file_name),
                                              size=len(content)))
    return msg


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    members = _members(src)
    if not members:
        raise ImportFailed("importers.msg_none", name=src.name)
    keys = mail.KeyBook(dict(opts.dns_records), opts.resolve_dns)
    transcript.details.update({"files": [m or src.name for m in members], "dns_records": keys.used})

    def generate() -> Iterator[Message]:
        for index, member in enumerate(members):
            yield read_msg(index, src.read(member, MAX_MSG), member, member or src.name, keys,
                           opts, transcript)
        missing = sorted(keys.missing - set(keys.used))
        if missing:
            transcript.notice("dkim_keys_missing", None, names=", ".join(missing))

    return generate()


def embedded_files(src: Source) -> Iterator[tuple[str, bytes]]:
    """The attached files of every message, under the names ``read_msg`` gives them."""
    for member in _members(src):
        name = member or src.name
        loaded = _load(src.read(member, MAX_MSG), name)
        for number, (file_name, content) in enumerate(_attachment_parts(loaded), 1):
            if content is not None:
                yield stored_name(member, name, number, file_name), content
