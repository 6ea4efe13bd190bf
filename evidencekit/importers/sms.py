""""SMS Backup & Restore" XML (Android): ``<sms>``, ``<mms>`` and ``<call>`` records.

Why care: the app writes emoji as two surrogate character references (``&#55357;&#56832;``), which
every XML parser rejects. We hash the original first, then repair the references on the fly while
streaming (a pair becomes one character reference; a lone half becomes U+FFFD and is reported),
and map every position back to the original bytes. ``date`` is milliseconds since 1970 in UTC;
``type`` 1 is received, 2 sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from bisect import bisect_left, bisect_right
from typing import Any, Iterator
from xml.parsers import expat

from evidencekit.importers._options import Options
from evidencekit.importers._source import CHUNK, Source
from evidencekit.importers._time import EXPORT_UTC, epoch_utc, readable
from evidencekit.importers.errors import ImportFailed
from evidencekit.importers.model import Attachment, Message, Transcript

NAMES = ("sms",)
_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
_SENT_TYPES = {"2", "4", "5", "6"}  # sent, outbox, failed, queued
_MMS_SENT_BOX = {"2", "4"}
_MMS_FROM = "137"  # addr type of the sender in an MMS


def _member(src: Source) -> str | None:
    if src.kind == "file":
        return None
    hits = [p for p in src.members if p.lower().endswith(".xml")
            and (b"<smses" in src.head(p, 4096) or b"<calls" in src.head(p, 4096))]
    return hits[0] if len(hits) == 1 else None


def sniff(src: Source) -> int:
    if src.kind != "file" and _member(src) is None:
        return 0
    head = src.head(_member(src), 4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and (b"<smses" in head or b"<calls" in head):
        return 90
    return 0


class SurrogateRepair:
    """Rewrites surrogate character references chunk by chunk and maps positions back.

    ``original(pos)`` turns a byte position in the repaired stream into one in the original.
    """

    def __init__(self) -> None:
        self._carry = b""
        self._consumed = 0  # original bytes fully processed
        self._emitted = 0  # repaired bytes emitted
        self.starts: list[int] = []  # repaired position just after each replacement
        self.deltas: list[int] = []  # cumulative (original - repaired) length after it
        self.lone = 0
        self.pairs = 0
        self.lone_at: list[int] = []  # original positions of lone halves

    @staticmethod
    def _value(match: re.Match[bytes]) -> int:
        hexa, dec = match.group(1), match.group(2)
        return int(hexa, 16) if hexa is not None else int(dec)

    def feed(self, chunk: bytes, final: bool = False) -> bytes:
        data = self._carry + chunk
        cut = len(data)
        if not final:
            amp = data.rfind(b"&", max(0, len(data) - 64))
            if amp != -1:
                cut = amp
                # never split a pair: step back over a reference ending right at the cut
                previous = _REF.search(data, max(0, cut - 24), cut)
                while previous is not None and previous.end() == cut:
                    cut = previous.start()
                    previous = _REF.search(data, max(0, cut - 24), cut)
        work, self._carry = data[:cut], data[cut:]
        out = bytearray()
        pos = 0
        refs = list(_REF.finditer(work))
        i = 0
        delta = self.deltas[-1] if self.deltas else 0
        while i < len(refs):
            ref = refs[i]
            value = self._value(ref)
            if not 0xD800 <= value <= 0xDFFF:
                i += 1
                continue
            nxt = refs[i + 1] if i + 1 < len(refs) else None
            end = ref.end()
            if (0xD800 <= value <= 0xDBFF and nxt is not None and nxt.start() == ref.end()
                    and 0xDC00 <= self._value(nxt) <= 0xDFFF):
                code = 0x10000 + ((value - 0xD800) << 10) + (self._value(nxt) - 0xDC00)
                end = nxt.end()
                self.pairs += 1
                i += 2
            else:
                code = 0xFFFD
                self.lone += 1
                self.lone_at.append(self._consumed + ref.start())
                i += 1
            out += work[pos:ref.start()]
            replacement = b"&#%d;" % code
            out += replacement
            delta += (end - ref.start()) - len(replacement)
            self.starts.append(self._emitted + len(out))
            self.deltas.append(delta)
            pos = end
        out += work[pos:]
        self._consumed += len(work)
        self._emitted += len(out)
        return bytes(out)

    def original(self, repaired_pos: int) -> int:
        i = bisect_right(self.starts, repaired_pos)
        return repaired_pos + (self.deltas[i - 1] if i else 0)

    def replaced_between(self, start: int, end: int) -> bool:
        """Whether a replacement happened in repaired positions [start, end)."""
        i = bisect_left(self.starts, start + 1)
        return i < len(self.starts) and self.starts[i] <= end


class _Reader:
    def __init__(self, src: Source, opts: Options, transcript: Transcript,
                 member: str | None) -> None:
        self.src, self.opts, self.t, self.member = src, opts, transcript, member
        self.repair = SurrogateRepair()
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.StartDoctypeDeclHandler = self.refuse_doctype
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.ready: list[Message] = []
        self.index = 0
        self.root: dict[str, str] | None = None
        self.mms: dict[str, Any] | None = None
        self.open_msg: tuple[Message, int] | None = None  # waiting for its repaired end

    # positions --------------------------------------------------------------------------
    def _here(self) -> int:
        return self.parser.CurrentByteIndex

    def _settle(self) -> None:
        """Finish the previous record once the parser has moved past its tag."""
        if self.open_msg is None:
            return
        msg, start = self.open_msg
        if self.repair.replaced_between(start, self._here()):
            msg.text_repair = "surrogate-pairs"
        self.open_msg = None
        self.ready.append(msg)

    def _new(self, attrs: dict[str, str], kind: str) -> Message:
        here = self._here()
        date = attrs.get("date")
        utc = readable(epoch_utc, date, 1000) if date else None
        if date and utc is None:
            self.t.notice("unreadable_time", self.index, written=date)
        msg = Message(index=self.index, sender=None, time_written=date, time_utc=utc,
                      tz_source=EXPORT_UTC if utc else None, text="",
                      offset=self.repair.original(here), source_file=self.member)
        self.index += 1
        msg.extra = {"element": kind, **{k: v for k, v in attrs.items() if k not in ("body",)}}
        self.open_msg = (msg, here)
        return msg

    def _party(self, msg: Message, address: str | None, name: str | None, sent: bool) -> None:
        msg.conversation = name if name and name != "(Unknown)" else address
        msg.from_me = sent
        if sent:
            msg.sender = self.opts.me
        else:
            msg.sender = address
            msg.sender_id = address

    # handlers ---------------------------------------------------------------------------
    def refuse_doctype(self, *args: object) -> None:
        """A backup never declares a DTD; one that does may hide entity bombs."""
        raise ImportFailed("importers.xml_doctype", name=self.member or self.src.name)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self._settle()
        if self.root is None:
            if name not in ("smses", "calls"):
                raise ImportFailed("importers.sms_not_backup", name=self.member or self.src.name)
            self.root = {"element": name, **attrs}
            return
        if name == "sms":
            msg = self._new(attrs, "sms")
            msg.text = attrs.get("body", "")
            self._party(msg, attrs.get("address"), attrs.get("contact_name"),
                        attrs.get("type") in _SENT_TYPES)
        elif name == "call":
            msg = self._new(attrs, "call")
            msg.system = True
            self._party(msg, attrs.get("number"), attrs.get("contact_name"),
                        attrs.get("type") == "2")
        elif name == "mms":
            msg = self._new(attrs, "mms")
            self.open_msg = None  # settled at </mms>, after its parts
            self.mms = {"msg": msg, "start": self._here(), "parts": [], "addrs": []}
        elif name == "part" and self.mms is not None:
            self.mms["parts"].append(attrs)
        elif name == "addr" and self.mms is not None:
            self.mms["addrs"].append(attrs)

    def end(self, name: str) -> None:
        self._settle()
        if name == "mms" and self.mms is not None:
            self._finish_mms()

    def _finish_mms(self) -> None:
        assert self.mms is not None
        msg: Message = self.mms["msg"]
        attrs = msg.extra
        sent = attrs.get("msg_box") in _MMS_SENT_BOX
        sender = next((a.get("address") for a in self.mms["addrs"]
                       if a.get("type") == _MMS_FROM), attrs.get("address"))
        self._party(msg, sender, attrs.get("contact_name"), sent)
        texts = []
        for part in self.mms["parts"]:
            kind = part.get("ct", "")
            if kind == "application/smil":
                continue
            if kind.startswith("text/plain") and "data" not in part:
                texts.append(part.get("text", ""))
                continue
            name = part.get("cl") or part.get("name") or part.get("fn")
            data = part.get("data")
            if data:
                try:
                    blob = base64.b64decode(data, validate=False)
                except (binascii.Error, ValueError):
                    self.t.notice("bad_attachment_data", msg.index, name=name)
                    msg.attachments.append(Attachment(name, None, "missing"))
                    continue
                msg.attachments.append(Attachment(name, hashlib.sha256(blob).hexdigest(),
                                                  "present", size=len(blob)))
            else:
                msg.attachments.append(Attachment(name, None, "missing"))
        msg.text = "\n".join(texts)
        msg.extra["addrs"] = self.mms["addrs"]
        if self.repair.replaced_between(self.mms["start"], self._here()):
            msg.text_repair = "surrogate-pairs"
        self.ready.append(msg)
        self.mms = None

    # driving ----------------------------------------------------------------------------
    def run(self) -> Iterator[Message]:
        name = self.member or self.src.name
        with self.src.open(self.member) as handle:
            while True:
                chunk = handle.read(CHUNK)
                final = not chunk
                data = self.repair.feed(chunk, final)
                try:
                    self.parser.Parse(data, final)
                except expat.ExpatError as exc:
                    raise ImportFailed("importers.bad_xml", name=name, line=exc.lineno,
                                       column=exc.offset) from exc
                if final:
                    self._settle()
                yield from self.ready
                self.ready.clear()
                if final:
                    break
        if self.root is None:
            raise ImportFailed("importers.sms_not_backup", name=name)
        declared = self.root.get("count")
        self.t.details.update({"root": self.root, "file": name,
                               "surrogate_pairs_repaired": self.repair.pairs,
                               "lone_surrogates": self.repair.lone})
        if declared is not None and declared.isdigit() and int(declared) != self.index:
            self.t.notice("count_differs", None, written=int(declared), found=self.index)
        if self.repair.pairs:
            self.t.notice("surrogates_repaired", None, count=self.repair.pairs)
        for position in self.repair.lone_at:
            self.t.notice("lone_surrogate", None, offset=position)


def open_messages(src: Source, opts: Options, transcript: Transcript) -> Iterator[Message]:
    member = _member(src)
    if src.kind != "file" and member is None:
        raise ImportFailed("importers.sms_not_backup", name=src.name)
    return _Reader(src, opts, transcript, member).run()
