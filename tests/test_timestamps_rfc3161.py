"""RFC 3161 tokens from a local TSA (openssl ts): request, verify, and every way to fail."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time

import pytest
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder
from rfc3161_client import _rust as rfc3161_rust
from servers.fixtures import chained_tsa, misbehaving, other_tsa, tsa  # noqa: F401

from evidencekit.errors import UserError
from evidencekit.timestamps import (ServerError, TsaRootError, default_roots, load_root_file,
                                    load_roots, proof_kind, request_token, stamp, verify_proof_file,
                                    verify_rfc3161)
from evidencekit._internal.timestamps.rfc3161 import build_request

DIGEST = hashlib.sha256(b"a screenshot of the message").digest()


@pytest.fixture(scope="module")
def token(tsa) -> bytes:
    return request_token(tsa.url, DIGEST, timeout=10)


def test_our_request_is_what_the_library_would_build():
    ours, nonce = build_request(hashlib.sha256(b"hello").digest(), nonce=0xD3B86CAD4BCEE9F4)
    parsed = rfc3161_rust.parse_timestamp_request(ours)
    assert parsed.nonce == 0xD3B86CAD4BCEE9F4 and parsed.cert_req
    assert parsed.message_imprint.message == hashlib.sha256(b"hello").digest()
    theirs = TimestampRequestBuilder().data(b"hello").hash_algorithm(HashAlgorithm.SHA256).build()
    # Same version and message imprint, byte for byte; only the random nonce differs.
    assert theirs.as_bytes()[2:56] == ours[2:56]
    assert ours.endswith(b"\x01\x01\xff") and theirs.as_bytes().endswith(b"\x01\x01\xff")


def test_local_tsa_token_verifies(tsa, token):
    result = verify_rfc3161(token, DIGEST, load_roots(tsa.ca_pem))
    assert result.status == "verified", result.reason
    assert result.details.tsa_name == "CN=Loopback TSA,O=evidencekit tests"
    assert result.details.policy == "1.3.6.1.4.1.99999.3161.1"
    assert result.details.serial.startswith("0x")
    assert result.details.gen_time.endswith("Z")
    assert "Loopback TSA" in result.reason and "certificate" in result.reason
    assert result.to_json()["tsa_name"] == result.details.tsa_name


def test_token_for_another_digest_is_invalid(tsa, token):
    other = hashlib.sha256(b"something else").digest()
    result = verify_rfc3161(token, other, load_roots(tsa.ca_pem))
    assert result.status == "invalid"
    assert result.reason_key == "timestamps.tsa_other_digest"
    assert other.hex() in result.reason


def test_untrusted_tsa_is_not_verified(tsa, other_tsa):
    token = request_token(other_tsa.url, DIGEST, timeout=10)
    result = verify_rfc3161(token, DIGEST, load_roots(tsa.ca_pem))
    assert result.status == "unverifiable"
    assert "Stranger TSA" in result.reason and "--tsa-root" in result.reason
    assert verify_rfc3161(token, DIGEST, default_roots()).status == "unverifiable"


def test_corrupted_signature_is_invalid(tsa, token):
    damaged = bytearray(token)
    damaged[-1] ^= 0x01
    result = verify_rfc3161(bytes(damaged), DIGEST, load_roots(tsa.ca_pem))
    assert result.status == "invalid"
    assert result.reason_key == "timestamps.tsa_bad_signature"


def test_changed_time_is_invalid(tsa, token):
    at = token.index(b"\x18\x0f") + 2  # GeneralizedTime of the token, inside the signed content
    damaged = token[:at] + bytes([token[at] ^ 0x01]) + token[at + 1:]
    result = verify_rfc3161(damaged, DIGEST, load_roots(tsa.ca_pem))
    assert result.status == "invalid"


@pytest.mark.parametrize("cut", [1, 40, 400])
def test_truncated_or_garbage_token_is_unreadable(tsa, token, cut):
    for data in (token[:-cut], b"\x30\x03\x02\x01\x00" + token[:cut], b"hello"):
        result = verify_rfc3161(data, DIGEST, load_roots(tsa.ca_pem))
        assert result.status == "invalid"
        assert result.reason_key == "timestamps.tsa_unreadable"


def test_no_roots_cannot_be_checked(token):
    result = verify_rfc3161(token, DIGEST, [])
    assert result.status == "unverifiable" and result.reason_key == "timestamps.tsa_no_roots"


def test_chain_in_chain_order_verifies_with_the_root_only(chained_tsa):
    token = request_token(chained_tsa.url, DIGEST, timeout=10)
    result = verify_rfc3161(token, DIGEST, load_roots(chained_tsa.ca_pem))
    assert result.status == "verified", result.reason


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_openssl_accepts_our_token_and_file(tsa, token, tmp_path):
    (tmp_path / "item.tsr").write_bytes(token)
    shown = subprocess.run(["openssl", "ts", "-verify", "-in", str(tmp_path / "item.tsr"),
                            "-digest", DIGEST.hex(), "-CAfile", str(tsa.ca_path)],
                           capture_output=True, text=True, timeout=30)
    assert "Verification: OK" in shown.stdout, shown.stderr


def test_bare_token_from_openssl_is_read(tsa, tmp_path):
    query, _ = build_request(DIGEST)
    (tmp_path / "q.tsq").write_bytes(query)
    subprocess.run(["openssl", "ts", "-reply", "-config", str(tsa.config), "-queryfile",
                    str(tmp_path / "q.tsq"), "-token_out", "-out", str(tmp_path / "t.der")],
                   check=True, capture_output=True, timeout=30)
    bare = (tmp_path / "t.der").read_bytes()
    assert proof_kind(bare) == "rfc3161"
    assert verify_rfc3161(bare, DIGEST, load_roots(tsa.ca_pem)).status == "verified"


def test_standalone_file_check(tsa, token, tmp_path):
    target = tmp_path / "evidence.bin"
    target.write_bytes(b"a screenshot of the message")
    result = verify_proof_file(token, target, roots=load_roots(tsa.ca_pem))
    assert result.status == "verified"
    target.write_bytes(b"an edited screenshot")
    assert verify_proof_file(token, target, roots=load_roots(tsa.ca_pem)).status == "invalid"
    with pytest.raises(UserError):
        verify_proof_file(b"not a proof", target)
    with pytest.raises(UserError):
        verify_proof_file(token, tmp_path / "missing")


def test_stamp_collects_tokens_and_failures(tsa, misbehaving):
    broken = misbehaving("garbage")
    results = stamp([DIGEST, hashlib.sha256(b"2").digest()], [], [tsa.url, broken.url], timeout=5)
    for result in results:
        assert set(result.tokens) == {tsa.url}
        assert [f.url for f in result.failures] == [broken.url]
        assert result.failures[0].reason_key == "timestamps.tsa_garbage"
        assert verify_rfc3161(result.tokens[tsa.url], result.digest,
                              load_roots(tsa.ca_pem)).status == "verified"


def test_hanging_tsa_is_given_up_on_in_time(misbehaving):
    hang = misbehaving("hang")
    started = time.monotonic()
    with pytest.raises(ServerError) as caught:
        request_token(hang.url, DIGEST, timeout=0.5)
    assert time.monotonic() - started < 2
    assert caught.value.key == "timestamps.server_timeout"


def test_trust_store_files(tmp_path, tsa):
    assert load_root_file(tsa.ca_path)
    (tmp_path / "empty.pem").write_text("nothing here")
    with pytest.raises(TsaRootError):
        load_root_file(tmp_path / "empty.pem")
    with pytest.raises(TsaRootError):
        load_root_file(tmp_path / "missing.pem")


def test_shipped_roots_load():
    names = {cert.subject.rfc4514_string() for cert in default_roots()}
    assert any("DigiCert Trusted Root G4" in n for n in names)
    assert len(names) == 3
