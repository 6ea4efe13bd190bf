"""Oversized e-mail headers are read up to a limit, with a notice, never for minutes.

Each message below took minutes to import before the limits: dkimpy joins a folded field one
line at a time (a million continuation lines: 90 s), and Python's address parser slowed down with
a Cc of 200,000 addresses (more than two minutes). Now each is read at once; what was left out is
said in a notice, the message's text is all there, and its signatures are marked as not checked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import run_cli
from evidencekit.importers import parse
from evidencekit.importers import email as mail
from evidencekit.importers.model import Notice

HEAD = (b"From: Per Hansen <per@example.com>\r\nTo: Kari <kari@example.com>\r\nSubject: Hello\r\n"
        b"Date: Mon, 3 Mar 2025 10:00:00 +0100\r\nMessage-ID: <1@example.com>\r\n")
SIGNATURE = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; bh=AAAA; b=AAAA\r\n"
BODY = b"\r\nHello Kari, this is the text.\r\n"


def _message(tmp_path: Path, name: str, extra: bytes, head: bytes = HEAD) -> Path:
    path = tmp_path / name
    path.write_bytes(head + extra + BODY)
    return path


def _cut(path: Path) -> tuple[dict, dict]:
    transcript = parse(path)
    [message] = transcript.messages
    [notice] = [n for n in transcript.notices if n.code == "email_header_cut"]
    assert message.text.strip() == "Hello Kari, this is the text."
    assert message.extra["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()  # of the whole message
    return message.extra, notice.params


def test_one_field_folded_over_a_million_lines(tmp_path: Path) -> None:
    path = _message(tmp_path, "folded.eml", SIGNATURE + b"X-Long: start" + b"\r\n w" * 1_000_000 + b"\r\n")
    extra, said = _cut(path)
    assert said == {"size_kb": (path.stat().st_size - len(BODY)) >> 10, "lines": 1_000_007, "kept": 6,
                    "fields": 1000, "field_kb": 64, "limit_kb": 256}
    assert extra["subject"] == "Hello" and extra["to"] == "Kari <kari@example.com>"
    assert [(d["domain"], d["result"], d["reason"]) for d in extra["dkim"]] == [
        ("example.com", "cannot_check", "header_too_large")]
    assert mail.describe_dkim(extra["dkim"][0], "en") == (
        "DKIM signature of example.com cannot be checked: the message's header is too large to be read whole, "
        "and the signature covers all of it.")


def test_a_cc_of_200000_addresses(tmp_path: Path) -> None:
    cc = b"Cc: " + b", ".join(b"p%d@example.com" % i for i in range(200_000)) + b"\r\n"
    extra, said = _cut(_message(tmp_path, "cc.eml", cc))
    assert extra["cc"] is None and extra["subject"] == "Hello"  # the field too long is left out, the rest read
    assert said["kept"] == 5


def test_a_hundred_thousand_fields(tmp_path: Path) -> None:
    """Only the first fields are read: a header's own order decides, not a guess at what matters."""
    fields = b"".join(b"Received: from relay%d by mx; Mon, 3 Mar 2025 10:00:00 +0100\r\n" % i for i in range(100_000))
    extra, said = _cut(_message(tmp_path, "fields.eml", fields))
    assert said["kept"] == mail.MAX_HEADER_FIELDS and len(extra["received"]) == mail.MAX_HEADER_FIELDS - 5
    assert extra["arc"] == {"result": "none"}


def test_a_header_with_no_end(tmp_path: Path) -> None:
    """All header, no blank line, no body: read up to the limit, never past it."""
    path = tmp_path / "endless.eml"
    path.write_bytes(HEAD + b"X-Junk: " + b"j" * (5 << 20) + b"\r\n" + b"X-More: m\r\n" * 300_000)
    transcript = parse(path)
    assert [n.code for n in transcript.notices if n.code == "email_header_cut"] == ["email_header_cut"]
    assert transcript.messages[0].extra["subject"] == "Hello"


def test_a_header_within_the_limits_is_read_whole(tmp_path: Path) -> None:
    big = b"Cc: " + b",\r\n ".join(b'"Name %d" <p%d@example.com>' % (i, i) for i in range(1900)) + b"\r\n"
    assert len(big) < mail.MAX_FIELD_BYTES
    transcript = parse(_message(tmp_path, "fine.eml", big))
    assert not [n for n in transcript.notices if n.code == "email_header_cut"]
    assert transcript.messages[0].extra["cc"].count("@example.com") == 1900


def test_mbox_only_the_oversized_message_is_cut(tmp_path: Path) -> None:
    normal = HEAD.replace(b"\r\n", b"\n") + BODY.replace(b"\r\n", b"\n")
    huge = HEAD.replace(b"\r\n", b"\n") + b"X-Long: s" + b"\n w" * 200_000 + b"\n" + BODY.replace(b"\r\n", b"\n")
    path = tmp_path / "box.mbox"
    path.write_bytes(b"".join(b"From per@example.com Mon Mar  3 10:00:00 2025\n" + m + b"\n" for m in (normal, huge, normal)))
    transcript = parse(path)
    assert len(transcript.messages) == 3
    assert [n.message_index for n in transcript.notices if n.code == "email_header_cut"] == [1]


@pytest.mark.parametrize("lang, words", [("en", "The header of this message is"),
                                         ("nb", "Hodet til denne meldingen er")])
def test_import_command_keeps_the_whole_message_and_says_what_was_cut(case_home: Path, tmp_path: Path,
                                                                       lang: str, words: str) -> None:
    path = _message(tmp_path, "folded.eml", b"X-Long: start" + b"\r\n w" * 1_000_000 + b"\r\n")
    done = run_cli("--lang", lang, "import", path, "--no-stamp", "--json")
    assert done.code == 0, done.err
    exported = tmp_path / "out"
    assert run_cli("export", "E-001", "-o", exported).code == 0
    assert (exported / "folded.eml").read_bytes() == path.read_bytes()  # the evidence is whole
    stored = json.loads((exported / "evidencekit-transcript.json").read_text(encoding="utf-8"))
    [said] = [n for n in stored["notices"] if n["code"] == "email_header_cut"]
    assert Notice(said["code"], said["params"], said["message_index"]).text(lang).startswith(words)


@pytest.mark.parametrize("where", ["part", "message"])
def test_a_content_type_of_16000_parameters(tmp_path: Path, where: str) -> None:
    """Python's MIME parser parses a field's parameters again each time the type is asked for:
    16,000 of them took ten seconds (found by tests/importer_fuzz.py). Such a message is not
    taken apart; its body is its text."""
    import time

    count = 16000 if where == "part" else 6000  # the message's own header: within its 64 kB a field
    many = b"; ".join(b"p%d=v" % i for i in range(count))
    if where == "part":
        head = HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n"
        body = (b"\r\n--b\r\nContent-Type: text/plain; " + many + b"\r\n\r\nHello Kari\r\n--b--\r\n")
    else:  # folded over lines so it stays within the header limits
        head = HEAD + b"Content-Type: text/plain; " + many.replace(b"; ", b";\r\n ") + b"\r\n"
        body = b"\r\nHello Kari\r\n"
    path = tmp_path / "many.eml"
    path.write_bytes(head + body)
    started = time.process_time()
    transcript = parse(path)
    assert time.process_time() - started < 1.0
    [message] = transcript.messages
    assert "Hello Kari" in message.text and message.sender_id == "per@example.com"
    [notice] = [n for n in transcript.notices if n.code == "email_mime_too_complex"]
    assert notice.params["count"] == count and notice.params["limit"] == mail.MAX_MIME_PARAMETERS


def test_a_mime_field_of_malformed_junk(tmp_path: Path) -> None:
    """A part's Content-Type value of 200 kB of junk took Python's parser eleven seconds."""
    import time

    head = HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n"
    body = b'\r\n--b\r\nContent-Type: text/plain; name=' + b'{"a":' * 40000 + b"\r\n\r\nHello Kari\r\n--b--\r\n"
    path = tmp_path / "junk.eml"
    path.write_bytes(head + body)
    started = time.process_time()
    transcript = parse(path)
    assert time.process_time() - started < 1.0
    [notice] = [n for n in transcript.notices if n.code == "email_mime_too_complex"]
    assert notice.params["size"] > mail.MAX_MIME_FIELD and "Hello Kari" in transcript.messages[0].text
