"""SMS Backup & Restore XML: UTC milliseconds, sent/received, emoji written as surrogate pairs
repaired after hashing with offsets still pointing into the original bytes, MMS parts."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from evidencekit.importers import ImportFailed, detect, parse
from evidencekit.importers.sms import SurrogateRepair

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports" / "sms"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder is absent")


@needs_corpus
def test_corpus_backup() -> None:
    path = CORPUS / "smsxml.txt"
    raw = path.read_bytes()
    assert detect(path) == "sms"
    t = parse(path, me="Meg")
    assert [(m.sender, m.from_me, m.conversation, m.text) for m in t.messages] == [
        ("+436812314123", False, "+436812314123", "did you see the new sms memacs module?"),
        ("Meg", True, "+43612341234", "Memacs FTW!"),
        ("Meg", True, "+43612341238", "i like memacs"),
        ("Meg", True, "+4312341234", "http://google.at"),
    ]
    assert [m.time_utc for m in t.messages] == [
        "2011-08-04T10:05:53.000000Z", "2011-08-04T16:04:55.759000Z",
        "2011-08-04T20:25:50.928000Z", "2011-08-05T18:32:01.554000Z"]
    assert all(m.tz_source == "export-utc" for m in t.messages)
    assert t.messages[0].time_written == "1312452353000"
    for msg in t.messages:
        assert raw[msg.offset:].startswith(b'<sms protocol="0" address="' +
                                           (msg.conversation or "").encode())
    assert t.notices == []


BACKUP = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<smses count="3">
<sms address="+4791234567" date="1700000000000" type="1" body="Hei &#55357;&#56832; og &#x1F44D;" contact_name="Kari" />
<sms address="+4791234567" date="1700000060000" type="2" body="Svar med to &#55357;&#56832;&#55357;&#56832;" contact_name="Kari" />
<mms date="1700000120000" msg_box="1" address="+4791234567" contact_name="Kari"><parts>
<part seq="-1" ct="application/smil" text="&lt;smil/&gt;" />
<part seq="0" ct="image/jpeg" cl="bilde.jpg" data="{data}" />
<part seq="0" ct="text/plain" text="Se her &#55357;&#56832;" />
</parts><addrs><addr address="+4791234567" type="137" /><addr address="+4799999999" type="151" /></addrs></mms>
</smses>
"""


def test_surrogates_repaired_with_original_offsets(tmp_path: Path) -> None:
    photo = b"\xff\xd8 tiny jpeg"
    path = tmp_path / "sms-20240101.xml"
    path.write_bytes(BACKUP.replace("{data}", base64.b64encode(photo).decode()).encode())
    raw = path.read_bytes()
    t = parse(path)
    assert t.source.sha256 == hashlib.sha256(raw).hexdigest()
    first, second, mms = t.messages
    assert first.text == "Hei 😀 og 👍" and first.sender == "+4791234567"
    assert first.text_repair == "surrogate-pairs"
    assert second.text == "Svar med to 😀😀" and second.from_me
    assert raw[first.offset:].startswith(b'<sms address="+4791234567" date="1700000000000"')
    assert raw[second.offset:].startswith(b'<sms address="+4791234567" date="1700000060000"')
    assert raw[mms.offset:].startswith(b'<mms date="1700000120000"')
    assert mms.text == "Se her 😀" and mms.sender == "+4791234567" and not mms.from_me
    assert mms.time_utc == "2023-11-14T22:15:20.000000Z"
    [att] = mms.attachments
    assert (att.name, att.sha256, att.status) == ("bilde.jpg", hashlib.sha256(photo).hexdigest(),
                                                  "present")
    assert t.details["surrogate_pairs_repaired"] == 4
    assert [n.code for n in t.notices] == ["surrogates_repaired"]


def test_repair_across_chunk_boundaries() -> None:
    data = (b"x" * 50 + b"&#55357;&#56832;") * 200
    for size in (7, 13, 64, 1000):
        repair = SurrogateRepair()
        out = b"".join(repair.feed(data[i:i + size]) for i in range(0, len(data), size))
        out += repair.feed(b"", final=True)
        assert out == (b"x" * 50 + b"&#128512;") * 200, size
        assert repair.pairs == 200 and repair.lone == 0
        # every repaired position maps back to the same content in the original
        pos = out.index(b"&#128512;", 3000)
        assert data[repair.original(pos):].startswith(b"&#55357;&#56832;")


def test_lone_surrogate_becomes_replacement_character(tmp_path: Path) -> None:
    path = tmp_path / "sms.xml"
    path.write_bytes(b'<smses count="1"><sms address="1" date="0" type="1" body="a&#55357;b" /></smses>')
    t = parse(path)
    assert t.messages[0].text == "a\ufffdb"
    assert any(n.code == "lone_surrogate" for n in t.notices)


def test_count_mismatch_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "sms.xml"
    path.write_bytes(b'<smses count="5"><sms address="1" date="0" type="1" body="x" /></smses>')
    t = parse(path)
    assert [(n.code, n.params) for n in t.notices] == [("count_differs", {"written": 5, "found": 1})]


@pytest.mark.parametrize("content, words", [
    (b'<smses count="1"><sms address="1" date="0" type="1" body="x" />', "not valid XML"),
    (b'<?xml version="1.0"?><!DOCTYPE smses [<!ENTITY a "aaaa">]><smses>&a;</smses>', "document type"),
    (b'<smses><sms address="1" date="0" type="1" body="\xff" /></smses>', "not valid XML"),
])
def test_hostile_xml(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "sms.xml"
    path.write_bytes(content)
    with pytest.raises(ImportFailed, match=words):
        parse(path, fmt="sms")
