"""A local RFC 3161 time-stamping authority: ``openssl ts -reply`` behind a loopback HTTP server.

Its PKI is made fresh with ``cryptography``: a root CA and a TSA certificate carrying the critical
``timeStamping`` extended key usage. Responses embed only the signer certificate, as strict
clients expect.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ._http import LoopbackServer, QuietHandler

POLICY = "1.3.6.1.4.1.99999.3161.1"


def openssl() -> str | None:
    return shutil.which("openssl")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "evidencekit tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not sign_certs, content_commitment=not sign_certs,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=sign_certs, crl_sign=sign_certs, encipher_only=False,
                         decipher_only=False)


def _certificate(subject: str, issuer: x509.Name, public_key, signing_key, *, ca: bool,
                 ) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(_key_usage(sign_certs=ca), critical=True))
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(signing_key, hashes.SHA256())


def make_pki(folder: Path, label: str, *, intermediate: bool = False) -> Path:
    """Write ``ca.pem`` (the root to trust), ``tsa.pem``, ``tsa.key`` and, with an intermediate
    CA, ``chain.pem`` (the intermediate) into ``folder``; returns the root's path."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate(f"{label} Root CA", _name(f"{label} Root CA"), root_key.public_key(),
                        root_key, ca=True)
    issuer, issuer_key = root, root_key
    if intermediate:
        mid_key = ec.generate_private_key(ec.SECP256R1())
        issuer = _certificate(f"{label} Issuing CA", root.subject, mid_key.public_key(), root_key,
                              ca=True)
        issuer_key = mid_key
        (folder / "chain.pem").write_bytes(_pem(issuer))
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = _certificate(f"{label} TSA", issuer.subject, tsa_key.public_key(), issuer_key, ca=False)
    (folder / "ca.pem").write_bytes(_pem(root))
    (folder / "tsa.pem").write_bytes(_pem(tsa))
    (folder / "tsa.key").write_bytes(tsa_key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return folder / "ca.pem"


_CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


class _Handler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802
        query = self.body()
        try:
            answer = self.owner.reply(query)
        except subprocess.CalledProcessError:
            self.reply(500, b"openssl failed", "text/plain")
            return
        self.reply(200, answer, "application/timestamp-reply")


class LocalTsa:
    """A TSA on 127.0.0.1; ``ca_pem`` is the root to trust, ``folder`` holds its files.

    With ``intermediate=True`` the TSA certificate is issued by an intermediate CA and responses
    embed the signer and the intermediate in chain order, as many public TSAs do.
    """

    def __init__(self, label: str = "Loopback", *, intermediate: bool = False) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ek-tsa-")
        self.folder = Path(self._tmp.name)
        self.ca_path = make_pki(self.folder, label, intermediate=intermediate)
        (self.folder / "serial").write_text("01\n")
        self.config = self.folder / "tsa.cnf"
        config = _CONFIG.format(dir=self.folder, policy=POLICY)
        if intermediate:
            config += "certs = $dir/chain.pem\n"
        self.config.write_text(config)
        self.lock = threading.Lock()
        self.requests = 0
        self.server = LoopbackServer(_Handler, self)
        self.url = self.server.url + "/tsa"

    @property
    def ca_pem(self) -> bytes:
        return self.ca_path.read_bytes()

    def reply(self, query: bytes) -> bytes:
        with self.lock:
            self.requests += 1
            query_path = self.folder / "query.tsq"
            reply_path = self.folder / "reply.tsr"
            query_path.write_bytes(query)
            subprocess.run([openssl() or "openssl", "ts", "-reply", "-config", str(self.config),
                            "-queryfile", str(query_path), "-out", str(reply_path)],
                           check=True, capture_output=True, timeout=20)
            return reply_path.read_bytes()

    def close(self) -> None:
        self.server.close()
        self._tmp.cleanup()
