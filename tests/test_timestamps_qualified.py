"""A qualified electronic time stamp (eIDAS) is called so only when the TSA's certificate chains to
a certificate a trust list marks as a granted qualified time-stamping service; and a TSA that asks
for time between requests gets it, while stamps that would come sooner wait in the queue.

The TSA is the loopback one (``openssl ts -reply`` behind 127.0.0.1), with an intermediate CA as
Sectigo's qualified service has; the trust list is written by the test in the shipped format.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from bundle_support import invoke
from conftest import run_cli
from servers.fixtures import _need_openssl
from servers.tsa import LocalTsa

QTST = "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST"
GRANTED = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"


@pytest.fixture(scope="module")
def qtsa():
    _need_openssl()
    server = LocalTsa("Eidas Loopback", intermediate=True)
    yield server
    server.close()


def _sha256(pem: Path) -> tuple[str, str]:
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(), cert.subject.rfc4514_string()


def _trust_list(path: Path, cert: Path, *, status: str = GRANTED, since: str = "2016-07-01T00:00:00Z") -> Path:
    fingerprint, subject = _sha256(cert)
    path.write_text(json.dumps({
        "format": "evidencekit-qualified-tsa", "version": 1, "source": "test", "fetched": "2026-12-01T00:00:00Z",
        "services": [{"sha256": fingerprint, "subject": subject, "service_name": "Loopback QTSA",
                      "service_type": QTST, "status": status, "status_since": since, "territory": "NO",
                      "list_issued": "2026-11-01T00:00:00Z"}]}), encoding="utf-8")
    return path


@pytest.fixture
def stamped(case_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtsa: LocalTsa) -> dict:
    monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", "")
    monkeypatch.setenv("EVIDENCEKIT_TSA_URLS", qtsa.url)
    note = tmp_path / "melding.txt"
    note.write_text("Du skal få svi.\n", encoding="utf-8")
    assert run_cli("add", note).code == 0
    roots = tmp_path / "root.pem"
    roots.write_bytes(qtsa.ca_pem)
    return {"roots": roots, "tmp": tmp_path}


def _token(roots: Path) -> dict:
    results = run_cli("stamp", "--verify", "--json", "--tsa-root", roots).json()
    return next(r for r in results if r["kind"] == "rfc3161")


def test_marked_qualified_in_the_list_says_qualified_in_verify_report_and_bundle(
        stamped: dict, qtsa: LocalTsa, monkeypatch: pytest.MonkeyPatch) -> None:
    # The list marks the issuing CA (as the EU lists mark Sectigo's): the signer chains to it.
    listed = _trust_list(stamped["tmp"] / "list.json", qtsa.folder / "chain.pem")
    monkeypatch.setenv("EVIDENCEKIT_QUALIFIED_TSA_LIST", str(listed))
    token = _token(stamped["roots"])
    assert token["status"] == "verified" and token["reason_code"] == "timestamps.tsa_verified_qualified"
    assert token["reason"].startswith("Qualified electronic time stamp (eIDAS) by ")
    assert "EU trusted list of NO" in token["reason"] and "Eidas Loopback Issuing CA" in token["qualified"]

    report = stamped["tmp"] / "report.html"
    assert run_cli("report", "-o", report, "--tsa-root", stamped["roots"]).code == 0
    assert "qualified electronic time stamp (eIDAS) by" in report.read_text(encoding="utf-8")

    bundle = stamped["tmp"] / "case.zip"
    assert run_cli("seal", "--no-stamp", "--no-report", "--plain", "-o", bundle).code == 0
    verified = run_cli("verify", bundle, "--tsa-root", stamped["roots"])
    assert "Qualified electronic time stamp (eIDAS) by" in verified.out, verified.out


@pytest.mark.parametrize("case", ["no list", "other certificate, same name", "withdrawn", "granted later"])
def test_not_marked_gives_the_plain_wording(case: str, stamped: dict, qtsa: LocalTsa, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if case == "other certificate, same name":
        # A look-alike CA with the very same name, but another key: the token does not chain to it.
        impostor = LocalTsa("Eidas Loopback", intermediate=True)
        try:
            listed = _trust_list(tmp_path / "list.json", impostor.folder / "chain.pem")
        finally:
            impostor.close()
        assert _sha256(qtsa.folder / "chain.pem")[1] == json.loads(listed.read_text())["services"][0]["subject"]
    elif case == "withdrawn":
        listed = _trust_list(tmp_path / "list.json", qtsa.folder / "chain.pem",
                             status="http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn")
    elif case == "granted later":
        listed = _trust_list(tmp_path / "list.json", qtsa.folder / "chain.pem", since="2999-01-01T00:00:00Z")
    if case != "no list":
        monkeypatch.setenv("EVIDENCEKIT_QUALIFIED_TSA_LIST", str(listed))
    token = _token(stamped["roots"])
    assert token["status"] == "verified" and token["reason_code"] == "timestamps.tsa_verified"
    assert token["qualified"] is None and "Qualified electronic" not in token["reason"]
    if case == "no list":
        report = tmp_path / "report.html"
        assert run_cli("report", "-o", report, "--tsa-root", stamped["roots"]).code == 0
        text = report.read_text(encoding="utf-8")
        assert "time stamp by" in text and "qualified electronic time stamp" not in text


def test_a_broken_list_is_one_sentence(stamped: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = stamped["tmp"] / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("EVIDENCEKIT_QUALIFIED_TSA_LIST", str(broken))
    result = run_cli("stamp", "--verify", "--tsa-root", stamped["roots"])
    assert result.code == 2 and "is not a readable list of qualified time-stamping services" in result.err
    assert "Traceback" not in result.err


class _Clocked(LocalTsa):
    """The loopback TSA, noting when each request arrives."""

    def __init__(self) -> None:
        super().__init__("Spaced")
        self.arrivals: list[float] = []
        self._arrival_lock = threading.Lock()

    def reply(self, query: bytes) -> bytes:
        with self._arrival_lock:
            self.arrivals.append(time.monotonic())
        return super().reply(query)


def test_requests_to_a_spaced_tsa_keep_the_interval(case_home: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _need_openssl()
    spaced = _Clocked()
    gap = 2.0
    try:
        monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", "")
        monkeypatch.setenv("EVIDENCEKIT_TSA_URLS", spaced.url)
        monkeypatch.setenv("EVIDENCEKIT_TSA_SPACING", f"{spaced.url}={gap:g}")
        # Two cases, so that one send owes this TSA two requests.
        assert invoke("case", "new", "Andre sak").code == 0
        started = time.monotonic()
        adds = 0
        while time.monotonic() - started < 3 * gap:
            note = tmp_path / f"n{adds}.txt"
            note.write_text(f"hendelse {adds}\n", encoding="utf-8")
            began = time.monotonic()
            added = invoke("add", note)  # stamps at once where the spacing allows, else queues
            assert added.code == 0, added.err
            assert time.monotonic() - began < gap  # the add never waited for the interval
            adds += 1
            if adds % 2 == 0:
                assert invoke("case", "use", "Andre sak" if adds % 4 == 0 else "Test case").code == 0
        held = invoke("stamp", "--json").json()
        assert any("asks for 2 seconds between requests" in f["reason"] for f in held["failures"]) \
            or held["counts"]["queued"] == 0
        time.sleep(gap)
        while invoke("stamp", "--json").json()["counts"]["queued"]:
            time.sleep(gap / 4)
        assert time.monotonic() - started < 10 * gap
    finally:
        spaced.close()
    between = [b - a for a, b in zip(spaced.arrivals, spaced.arrivals[1:])]
    assert len(spaced.arrivals) >= 3 and adds > len(spaced.arrivals)
    assert min(between) >= gap - 0.05, between


def test_the_refresh_tool_reads_trusted_lists_into_the_shipped_format(qtsa: LocalTsa, tmp_path: Path) -> None:
    # A LOTL and one national list in the ETSI TS 119 612 shape, served from memory: the machine
    # cannot reach the EU's, and the tool's parsing is what can be checked here.
    import base64
    import importlib.util

    from evidencekit._internal.timestamps import qualified

    spec = importlib.util.spec_from_file_location("refresh", Path(__file__).parents[1] / "tools" / "refresh_qualified_tsa.py")
    assert spec and spec.loader
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    cert = x509.load_pem_x509_certificate((qtsa.folder / "chain.pem").read_bytes())
    der = base64.b64encode(cert.public_bytes(Encoding.DER)).decode()
    ns = 'xmlns="http://uri.etsi.org/02231/v2#" xmlns:add="http://uri.etsi.org/02231/v2/additionaltypes#"'
    lotl = f"""<TrustServiceStatusList {ns}><SchemeInformation><PointersToOtherTSL>
      <OtherTSLPointer><TSLLocation>https://tl.example/no.xml</TSLLocation><AdditionalInformation>
        <OtherInformation><SchemeTerritory>NO</SchemeTerritory></OtherInformation>
        <OtherInformation><add:MimeType>application/vnd.etsi.tsl+xml</add:MimeType></OtherInformation>
      </AdditionalInformation></OtherTSLPointer>
      <OtherTSLPointer><TSLLocation>https://tl.example/no.pdf</TSLLocation><AdditionalInformation>
        <OtherInformation><add:MimeType>application/pdf</add:MimeType></OtherInformation>
      </AdditionalInformation></OtherTSLPointer></PointersToOtherTSL></SchemeInformation></TrustServiceStatusList>"""
    national = f"""<TrustServiceStatusList {ns}><SchemeInformation><SchemeTerritory>NO</SchemeTerritory>
      <ListIssueDateTime>2026-11-20T10:00:00Z</ListIssueDateTime></SchemeInformation>
      <TrustServiceProviderList><TrustServiceProvider><TSPServices>
        <TSPService><ServiceInformation>
          <ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST</ServiceTypeIdentifier>
          <ServiceName><Name xml:lang="en">Loopback QTSA</Name></ServiceName>
          <ServiceDigitalIdentity><DigitalId><X509Certificate>{der}</X509Certificate></DigitalId></ServiceDigitalIdentity>
          <ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted</ServiceStatus>
          <StatusStartingTime>2016-07-01T00:00:00+02:00</StatusStartingTime>
        </ServiceInformation></TSPService>
        <TSPService><ServiceInformation>
          <ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/CA/QC</ServiceTypeIdentifier>
          <ServiceName><Name xml:lang="en">Not a TSA</Name></ServiceName>
        </ServiceInformation></TSPService>
      </TSPServices></TrustServiceProvider></TrustServiceProviderList></TrustServiceStatusList>"""
    pages = {"https://lotl.example": lotl.encode(), "https://tl.example/no.xml": national.encode()}
    made = refresh.trust_list("https://lotl.example", fetch=pages.__getitem__)
    [entry] = made["services"]
    assert entry["territory"] == "NO" and entry["status_since"] == "2016-06-30T22:00:00Z"
    assert entry["sha256"] == qualified.fingerprint(cert) and entry["service_name"] == "Loopback QTSA"
    loaded = qualified.load(json.dumps(made).encode())
    assert loaded.find(qualified.fingerprint(cert)) is not None
