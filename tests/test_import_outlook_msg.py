"""Outlook .msg: every real file of the corpus with its sender, time, subject, body and
attachments; DKIM checked as for .eml (on a real .msg whose transport headers we re-sign); the
attachments stored as files of the item; hostile .msg files refused with one sentence."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import olefile
import pytest
from conftest import CORPUS, run_cli
from importer_fuzz import FULL, SAMPLE, campaign, cli_refuses
from test_import_email import _record, _signed

from evidencekit.importers import detect, parse
from evidencekit.importers.outlook_msg import rtf_text

nacl_signing = pytest.importorskip("nacl.signing")

MSG = CORPUS / "exports" / "msg"
pytestmark = pytest.mark.skipif(not MSG.is_dir(), reason="corpus exports/msg is absent")

#: file: (sender, sender_id, time_utc, tz_source, subject, start of body, attachments (name, size))
EXPECTED = {
    "EmailWith2Attachments.msg": (
        '"Spelde van, CMMA (Kees)" <kees.van.spelde@achmea.nl>', "kees.van.spelde@achmea.nl",
        "2019-12-02T08:44:20.000000Z", "export-offset", "E-mail with 2 attachments",
        "Met vriendelijke groet,", [("Installatie handleiding.docx", 104629),
                                    ("Installatiehandleiding S&I Agro.xlsx", 76951)]),
    "EmailWithReactions.msg": (
        "test1 <test1@readreceipts.onmicrosoft.com>", "test1@readreceipts.onmicrosoft.com",
        "2023-10-05T17:03:07.000000Z", "export-offset", "Test read receipts", "Testing", []),
    "EmailWithSpecialCharsInSubject.msg": (
        "Julie Clarebots <Julie.Clarebots@qbere.com>", "julie.clarebots@qbere.com",
        "2024-03-27T09:14:48.000000Z", "export-offset",
        "Un sujet bien défini Àéroport mañana être ouïe électricité così próxima à Ô",
        "Testing .msg subject encoding", []),
    # no transport headers: a saved draft; the time is Outlook's delivery time
    "RtfWithShortRussianString.msg": (
        None, None, "2023-10-04T13:28:39.000000Z", "msg-delivery", None,
        "ввести  «Имя пользователя» (email) и  «Пароль» (password).", []),
    # nothing but the time the item was created, said as such
    "strangeDate.msg": (
        None, None, "2016-02-23T14:57:50.000000Z", "msg-creation", "MSG Test File",
        "MSG test file\r\nPurpose: Provide example of this file type", []),
}


def test_the_corpus_is_what_this_test_knows() -> None:
    assert sorted(p.name for p in MSG.glob("*.msg")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_msg(name: str) -> None:
    sender, sender_id, utc, origin, subject, body, attachments = EXPECTED[name]
    path = MSG / name
    assert detect(path) == "outlook-msg"
    t = parse(path)
    [m] = t.messages
    assert (m.sender, m.sender_id, m.time_utc, m.tz_source) == (sender, sender_id, utc, origin)
    assert m.extra["subject"] == subject
    assert m.text.strip().replace("\r\n \r\n\r\n", "\r\n").lstrip().startswith(body)
    assert [(a.name, a.size, a.status) for a in m.attachments] == [(n, s, "present") for n, s in attachments]
    assert m.extra["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert t.gaps == ["msg_not_as_received"]
    notices = {n.code for n in t.notices}
    assert ("msg_no_headers" in notices) == (sender is None)
    assert ("msg_time_is_creation" in notices) == (origin == "msg-creation")


def test_rtf_only_body_reads_as_text() -> None:
    """The compressed RTF Outlook keeps beside (or instead of) the plain body gives the same words."""
    ole = olefile.OleFileIO(str(MSG / "RtfWithShortRussianString.msg"))
    rtf = ole.openstream("__substg1.0_10090102").read()
    assert "«Имя пользователя» (email)" in rtf_text(rtf)


def _with_headers(tmp_path: Path, headers: bytes, name: str = "signed.msg") -> Path:
    """A copy of a real .msg whose transport headers (property 007D) are ``headers``."""
    path = tmp_path / name
    shutil.copy(MSG / "EmailWithReactions.msg", path)
    ole = olefile.OleFileIO(str(path), write_mode=True)
    size = ole.get_size("__substg1.0_007D001F")
    pad = size // 2 - len(headers.decode()) - len("X-Pad: \r\n")
    assert pad > 0
    ole.write_stream("__substg1.0_007D001F", (headers.decode() + "X-Pad: " + "x" * pad + "\r\n").encode("utf-16-le"))
    ole.close()
    return path


HEADERS = (b"Authentication-Results: mx.example.org; dkim=pass header.d=example.no;"
           b" spf=pass smtp.mailfrom=example.no\r\n"
           b"Received: from a by mx.example.org; Tue, 2 Jan 2024 10:00:05 +0000\r\n"
           b"From: Ola <ola@example.no>\r\nTo: kari@example.org\r\nSubject: Hei\r\n"
           b"Date: Tue, 2 Jan 2024 10:50:00 +0100\r\nContent-Type: text/plain\r\n")


def _header_block(body: bytes, key: object) -> bytes:
    return _signed(body, HEADERS, key).split(b"\r\n\r\n")[0] + b"\r\n"


def test_dkim_of_a_msg_is_checked_as_for_eml(tmp_path: Path) -> None:
    key = nacl_signing.SigningKey(b"k" * 32)
    records = {"sel._domainkey.example.no": _record(key)}
    # the body Outlook kept is the body signed (plain text mail): the signature holds
    same = parse(_with_headers(tmp_path, _header_block(b"Testing\r\n", key), "same.msg"), dns_records=records)
    [m] = same.messages
    assert (m.sender_id, m.time_utc) == ("ola@example.no", "2024-01-02T09:50:00.000000Z")
    assert [(r["result"], r["reason"]) for r in m.extra["dkim"]] == [("pass", "verified")]
    # the headers changed after signing: as for .eml, the signature does not hold
    forged = _header_block(b"Testing\r\n", key).replace(b"From: Ola", b"From: Per")
    [m] = parse(_with_headers(tmp_path, forged, "forged.msg"), dns_records=records).messages
    assert [(r["result"], r["reason"]) for r in m.extra["dkim"]] == [("fail", "signature_mismatch")]
    # the signed body was MIME that Outlook rewrote: not forgery, and the provider's word is shown
    t = parse(_with_headers(tmp_path, _header_block(b"--b\r\nOriginal MIME\r\n--b--\r\n", key), "mime.msg"),
              dns_records=records)
    [m] = t.messages
    assert [(r["result"], r["reason"]) for r in m.extra["dkim"]] == [("cannot_check", "msg_body_not_kept")]
    [rewritten] = [n.text() for n in t.notices if n.code == "msg_body_rewritten"]
    assert "not a sign of forgery" in rewritten and "dkim=pass, spf=pass" in rewritten
    # without the key: cannot be checked, as for .eml
    [m] = parse(tmp_path / "same.msg").messages
    assert [(r["result"], r["reason"]) for r in m.extra["dkim"]] == [("cannot_check", "key_unavailable")]


def test_attachments_become_files_of_the_item(case_home: Path) -> None:
    path = MSG / "EmailWith2Attachments.msg"
    done = run_cli("import", path, "--no-stamp", "--json")
    assert done.code == 0, done.err
    files = {f["name"]: f for f in done.json()["files"]}
    assert set(files) == {"EmailWith2Attachments.msg", "evidencekit-transcript.json",
                          "EmailWith2Attachments.msg.attachments/01-Installatie handleiding.docx",
                          "EmailWith2Attachments.msg.attachments/02-Installatiehandleiding S_I Agro.xlsx"}
    data = run_cli("transcript", done.json()["id"], "--json").json()
    for attachment in data["messages"][0]["attachments"]:
        assert files[attachment["member"]]["sha256"] == attachment["sha256"]
    assert done.json()["kind"] == "email"


@pytest.mark.slow
def test_hostile_msg_files(request: pytest.FixtureRequest) -> None:
    seeds = [(p.name, p.read_bytes()) for p in sorted(MSG.glob("*.msg")) if p.stat().st_size < 100_000]
    count = FULL if request.config.getoption("--slow") else SAMPLE
    failures = campaign("outlook-msg", seeds, count)
    assert not failures, "\n".join(map(str, failures[:20])) + f"\n({len(failures)} in all)"


def test_cli_refuses_a_damaged_msg(case_home: Path, tmp_path: Path) -> None:
    data = (MSG / "EmailWithReactions.msg").read_bytes()[:8192]  # an OLE header with its streams cut off
    assert cli_refuses(run_cli, tmp_path, "cut.msg", data, "outlook-msg") == []
    result = run_cli("import", tmp_path / "cut.msg", "--no-stamp")
    assert result.err.strip() == "cut.msg cannot be read as an Outlook message: the file is damaged or not a .msg."
