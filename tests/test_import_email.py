"""E-mail: never re-serialised, DKIM checked with recorded keys (pass, fail on one changed byte,
"cannot be checked" for an unrecorded key), historical t=/x= rule, mbox splitting with original
offsets, Received chain, Authentication-Results, forwarded-message warning."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import dkim
from dkim.canonicalization import CanonicalizationPolicy
import nacl.signing
import pytest

from evidencekit.importers import detect, parse
from evidencekit.importers.email import describe_dkim

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports" / "email"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder is absent")
ED25519_RECORD = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="


def _records() -> dict[str, str]:
    return {"test._domainkey.football.example.com": (CORPUS / "test.txt").read_text(),
            "brisbane._domainkey.football.example.com.": ED25519_RECORD}


def _dkim(path: Path, **kwargs: object) -> list[tuple[str, str, str]]:
    t = parse(path, **kwargs)  # type: ignore[arg-type]
    return [(d["selector"], d["result"], d["reason"]) for d in t.messages[0].extra["dkim"]]


@needs_corpus
def test_rfc6376_example_verifies_with_both_recorded_keys() -> None:
    path = CORPUS / "rfc6376.signed.msg"
    raw = path.read_bytes()
    assert detect(path) == "email"
    t = parse(path, dns_records=_records())
    [msg] = t.messages
    assert msg.sender == "Joe SixPack <joe@football.example.com>"
    assert msg.sender_id == "joe@football.example.com"
    assert msg.time_written == "Fri, 11 Jul 2003 21:00:37 -0700 (PDT)"
    assert (msg.time_utc, msg.tz_source) == ("2003-07-12T04:00:37.000000Z", "export-offset")
    assert msg.text == "Hi.\n\nWe lost the game.  Are you hungry yet?\n\nJoe.\n\n"
    assert msg.id == "<20030712040037.46341.5F8J@football.example.com>"
    assert (msg.offset, msg.length) == (0, len(raw))
    assert msg.extra["sha256"] == hashlib.sha256(raw).hexdigest()
    results = msg.extra["dkim"]
    assert [(d["selector"], d["algorithm"], d["result"], d["key_source"]) for d in results] == [
        ("brisbane", "ed25519-sha256", "pass", "supplied"),
        ("test", "rsa-sha256", "pass", "supplied")]
    assert results[0]["key_record"] == ED25519_RECORD
    assert results[0]["signed_at"] == "2018-02-12T18:27:34.000000Z"
    assert results[0]["time_reference"] == "import"  # no Received header to judge t= against
    assert set(t.details["dns_records"]) == {"brisbane._domainkey.football.example.com",
                                             "test._domainkey.football.example.com"}
    assert describe_dkim(results[0], "en") == "DKIM signature of football.example.com verified."
    assert "bekreftet" in describe_dkim(results[0], "nb")
    assert any(n.code == "email_no_received" for n in t.notices)


@needs_corpus
def test_one_changed_body_byte_fails(tmp_path: Path) -> None:
    raw = (CORPUS / "rfc6376.signed.msg").read_bytes()
    changed = tmp_path / "changed.eml"
    changed.write_bytes(raw.replace(b"hungry", b"hungrY"))
    assert _dkim(changed, dns_records=_records()) == [
        ("brisbane", "fail", "body_changed"), ("test", "fail", "body_changed")]
    header = tmp_path / "header.eml"
    header.write_bytes(raw.replace(b"Subject: Is dinner", b"Subject: Is Dinner"))
    assert _dkim(header, dns_records=_records()) == [
        ("brisbane", "fail", "signature_mismatch"), ("test", "fail", "signature_mismatch")]


@needs_corpus
def test_missing_key_cannot_be_checked_not_invalid() -> None:
    assert _dkim(CORPUS / "rfc6376.signed.msg") == [
        ("brisbane", "cannot_check", "key_unavailable"), ("test", "cannot_check", "key_unavailable")]
    revoked = {"test._domainkey.football.example.com": "v=DKIM1; k=rsa; p="}
    assert _dkim(CORPUS / "rfc6376.signed.msg", dns_records=revoked)[1] == (
        "test", "cannot_check", "key_revoked")


@needs_corpus
def test_real_2011_message() -> None:
    path = CORPUS / "message.mbox"
    raw = path.read_bytes()
    assert detect(path) == "email"
    t = parse(path)
    [msg] = t.messages
    assert msg.sender == "Scott Kitterman <scott@kitterman.com>"
    assert msg.time_utc == "2011-03-07T19:22:57.000000Z"
    assert msg.extra["subject"] == "Comments on PEP 394 draft"
    assert msg.text.startswith("I'm one of the maintainers of the packages that provide /usr/bin/python,")
    assert [a.name for a in msg.attachments] == ["signature.asc"]
    assert msg.attachments[0].sha256 is not None
    received = msg.extra["received"]
    assert len(received) == raw.count(b"\nReceived:") == 6
    assert received[0]["time_utc"] == "2011-03-07T19:23:23.000000Z"
    assert received[-1]["time_utc"] == "2011-03-07T19:23:18.000000Z"
    [result] = msg.extra["dkim"]
    assert (result["domain"], result["selector"], result["result"], result["reason"]) == (
        "kitterman.com", "2007-00", "cannot_check", "key_unavailable")
    assert "cannot be checked" in describe_dkim(result, "en")
    assert any(n.code == "dkim_keys_missing" for n in t.notices)


def _signed(body: bytes, headers: bytes, key: nacl.signing.SigningKey,
            expires: int | None = None) -> bytes:
    """``headers + body`` with an ed25519 DKIM-Signature made at 2024-01-02 09:50 UTC.

    dkimpy's ``sign`` always writes today's ``t=`` and no ``x=``; a signature made "in the
    past" is built with its own header generator instead.
    """
    message = headers + b"\r\n" + body
    signer = dkim.DKIM(message, signature_algorithm=b"ed25519-sha256")
    signer.hasher = hashlib.sha256
    policy = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
    body_hash = base64.b64encode(hashlib.sha256(policy.canonicalize_body(signer.body)).digest())
    fields = [(b"v", b"1"), (b"a", b"ed25519-sha256"), (b"c", b"relaxed/simple"),
              (b"d", b"example.no"), (b"s", b"sel"), (b"t", b"1704189000")]
    if expires is not None:
        fields.append((b"x", str(expires).encode()))
    fields += [(b"h", b"from : subject : date"), (b"bh", body_hash), (b"b", b"")]
    header = signer.gen_header(fields, (b"from", b"subject", b"date"), policy,
                               b"DKIM-Signature", key, standardize=True)
    return b"DKIM-Signature: " + header + message  # the header ends with its own CRLF


def _record(key: nacl.signing.SigningKey) -> str:
    return "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(key.verify_key)).decode()


def test_mbox_with_from_quoting_and_two_messages(tmp_path: Path) -> None:
    key = nacl.signing.SigningKey.generate()
    record = _record(key)
    first = _signed(b"Hei Kari,\r\nFrom now on I will stop.\r\n",
                    b"Received: from mx.example.no by mx.example.org; Tue, 2 Jan 2024 10:00:05 +0000\r\n"
                    b"From: Ola <ola@example.no>\r\nSubject: Fwd: Klage\r\nDate: Tue, 2 Jan 2024 11:00:00 +0100\r\n"
                    b"Authentication-Results: mx.example.org; dkim=pass header.d=example.no\r\n", key)
    second = (b"From: Kari <kari@example.org>\r\nTo: Ola <ola@example.no>\r\nSubject: Re\r\n"
              b"Date: Wed, 3 Jan 2024 09:00:00 +0100\r\nIn-Reply-To: <a@b>\r\n\r\nNei.\r\n")
    quoted = first.replace(b"\r\nFrom now", b"\r\n>From now")
    mbox = (b"From ola@example.no Tue Jan  2 10:00:05 2024\r\n" + quoted + b"\r\n"
            b"From kari@example.org Wed Jan  3 08:00:00 2024\r\n" + second + b"\r\n")
    path = tmp_path / "Innboks.mbox"
    path.write_bytes(mbox)
    assert detect(path) == "email"
    t = parse(path, dns_records={"sel._domainkey.example.no": record}, me="kari@example.org")
    assert len(t.messages) == 2
    a, b = t.messages
    assert mbox[a.offset:a.offset + a.length] == quoted
    assert mbox[b.offset:b.offset + b.length] == second
    assert a.text == "Hei Kari,\r\n>From now on I will stop.\r\n"  # as stored
    [result] = a.extra["dkim"]
    assert (result["result"], result["time_reference"]) == ("pass", "received")
    assert a.extra["mbox_unquoted"] is True
    assert a.extra["authentication_results"][0]["results"][0]["method"] == "dkim"
    assert a.extra["authentication_results"][0]["results"][0]["result"] == "pass"
    assert a.extra["looks_forwarded"] == ["subject"]
    assert any(n.code == "email_forwarded" and n.message_index == 0 for n in t.notices)
    assert (b.from_me, b.reply_to, b.text) == (True, "<a@b>", "Nei.\r\n")
    assert b.extra["dkim"] == []


def test_signature_expired_before_receipt_fails_but_not_just_for_being_old(tmp_path: Path) -> None:
    key = nacl.signing.SigningKey.generate()
    headers = (b"Received: from a by b; Tue, 2 Jan 2024 10:00:05 +0000\r\n"
               b"From: Ola <ola@example.no>\r\nSubject: Hei\r\nDate: Tue, 2 Jan 2024 10:50:00 +0100\r\n")
    # x= before the receipt time: expired on arrival, a real failure
    early = tmp_path / "early.eml"
    early.write_bytes(_signed(b"Hei\r\n", headers, key, expires=1704189500))
    # x= after receipt but long before today: dkimpy alone would reject it for being old
    late = tmp_path / "late.eml"
    late.write_bytes(_signed(b"Hei\r\n", headers, key, expires=1704200000))
    records = {"sel._domainkey.example.no": _record(key)}
    assert dkim.verify(late.read_bytes(), dnsfunc=lambda name, timeout=5: records[
        "sel._domainkey.example.no"].encode()) is False
    t = parse(early, dns_records=records)
    [result] = t.messages[0].extra["dkim"]
    assert (result["result"], result["reason"]) == ("fail", "expired_before_receipt")
    t = parse(late, dns_records=records)
    [result] = t.messages[0].extra["dkim"]
    assert (result["result"], result["reason"], result["expired_since"]) == ("pass", "verified", True)
    assert result["time_checked_against"] == "2024-01-02T10:00:05.000000Z"
    assert any(n.code == "dkim_expired_since" for n in t.notices)


def test_arc_chain_pass_and_cannot_check(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    message = (b"Authentication-Results: mx.example.org; dkim=pass header.d=example.no\r\n"
               b"Received: from a by mx.example.org; Tue, 2 Jan 2024 10:00:05 +0000\r\n"
               b"From: Ola <ola@example.no>\r\nTo: kari@example.org\r\nSubject: Hei\r\n"
               b"Date: Tue, 2 Jan 2024 10:50:00 +0100\r\n\r\nHei\r\n")
    sealed = b"".join(dkim.arc_sign(message, b"arc", b"example.org", pem, b"mx.example.org"))
    path = tmp_path / "arc.eml"
    path.write_bytes(sealed + message)
    record = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    t = parse(path, dns_records={"arc._domainkey.example.org": record})
    assert t.messages[0].extra["arc"]["result"] == "pass"
    assert parse(path).messages[0].extra["arc"]["result"] == "cannot_check"


@needs_corpus
def test_dns_records_from_files(tmp_path: Path) -> None:
    from evidencekit.importers import ImportFailed
    from evidencekit.importers.email import dns_records_from_files

    ed = tmp_path / "brisbane.txt"
    ed.write_text(ED25519_RECORD + "\n")
    records = dns_records_from_files([
        f"test._domainkey.football.example.com={CORPUS / 'test.txt'}",
        f"Brisbane._domainkey.Football.Example.com.={ed}"])
    assert records["brisbane._domainkey.football.example.com"] == ED25519_RECORD
    assert _dkim(CORPUS / "rfc6376.signed.msg", dns_records=records) == [
        ("brisbane", "pass", "verified"), ("test", "pass", "verified")]
    with pytest.raises(ImportFailed, match="SELECTOR._domainkey.DOMAIN=FILE"):
        dns_records_from_files(["football.example.com"])
    with pytest.raises(ImportFailed, match="cannot be read"):
        dns_records_from_files([f"x._domainkey.example.com={tmp_path / 'missing.txt'}"])
