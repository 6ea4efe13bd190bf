"""A test web site on 127.0.0.1 with the shapes the capture tests need.

Routes: ``/bands?n=&h=`` (a page of solid colour bands, known colours at known offsets),
``/lazy`` (content fetched only when scrolled to), ``/debounced`` (fetched 150 ms after
scrolling stops), ``/redirect?hops=&to=`` (a redirect chain),
``/status/<code>``, ``/hang`` (never answers), ``/hung-image`` (a page whose image hangs), ``/login`` and ``/whoami`` (a cookie),
``/download`` (an attachment), ``/image?rgb=&w=&h=`` (a solid PNG), ``/slow-json``.
"""

from __future__ import annotations

import datetime
import io
import ipaddress
import json
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from evidencekit._internal.demo_site import serve_loopback

HERE = Path(__file__).parent
TEST_HEADER = ("X-Evidence-Test", "kept as sent")

# Keeps every test browser on loopback: any other host name fails to resolve, without DNS.
NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


def band_colour(i: int) -> tuple[int, int, int]:
    """The colour of band ``i``: neighbours always differ, so a repeated tile shows."""
    return ((i * 53) % 256, (i * 97 + 40) % 256, (i * 29 + 90) % 256)


def bands_html(n: int, height: int) -> str:
    divs = "".join(
        f'<div style="height:{height}px;background:rgb{band_colour(i)};color:#fff">band {i}</div>'
        for i in range(n))
    return ('<!doctype html><html><head><meta charset="utf-8"><title>Bands</title></head>'
            f'<body style="margin:0">{divs}</body></html>')


def png(rgb: tuple[int, int, int], width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), rgb).save(out, format="PNG")
    return out.getvalue()


class Handler(BaseHTTPRequestHandler):
    server_version = "evidencekit-test/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes, media: str = "text/html; charset=utf-8",
              headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.send_header(*TEST_HEADER)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/bands":
            html = bands_html(int(query.get("n", 10)), int(query.get("h", 500)))
            self._send(200, html.encode())
        elif path in ("/lazy", "/debounced"):
            self._send(200, (HERE / f"{path[1:]}.html").read_bytes())
        elif path == "/slow-json":
            time.sleep(int(query.get("ms", 0)) / 1000)
            start = int(query.get("from", 0))
            body = json.dumps({"items": list(range(start, min(start + 4, 24)))}).encode()
            self._send(200, body, "application/json")
        elif path == "/image":
            rgb = tuple(int(c) for c in query.get("rgb", "0,0,0").split(","))
            self._send(200, png(rgb, int(query.get("w", 10)), int(query.get("h", 10))),
                       "image/png")
        elif path == "/redirect":
            hops = int(query.get("hops", 1))
            target = query.get("to", "/bands?n=2")
            if hops > 1:
                location = f"/redirect?hops={hops - 1}&to={target}"
            else:
                location = target
            self._send(302 if hops % 2 == 0 else 301, b"", headers=(("Location", location),))
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._send(code, f"<html><title>Error {code}</title><body>error page {code}</body></html>"
                       .encode())
        elif path == "/hung-image":
            self._send(200, b'<html><title>Hung</title><body><p>still here</p>'
                            b'<img src="/hang" width="10" height="10"></body></html>')
        elif path == "/hang":
            time.sleep(30)
        elif path == "/login":
            self._send(200, b"<html><title>Logged in</title><body>welcome</body></html>",
                       headers=(("Set-Cookie", "session=s3cret-token; Path=/; Max-Age=3600"),))
        elif path == "/whoami":
            cookie = self.headers.get("Cookie", "")
            who = "logged in" if "session=s3cret-token" in cookie else "anonymous"
            self._send(200, f"<html><title>Who</title><body>status: {who}</body></html>".encode())
        elif path == "/download":
            self._send(200, b"%PDF-1.4 not really", "application/octet-stream",
                       headers=(("Content-Disposition", 'attachment; filename="x.pdf"'),))
        else:
            self._send(404, b"<html><body>not found</body></html>")


@contextmanager
def serve() -> Iterator[str]:
    """The test site over plain http; yields its base URL."""
    with serve_loopback(Handler) as base:
        yield base


def self_signed(directory: Path) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a fresh self-signed cert for 127.0.0.1, and its SPKI pin.

    The pin goes to Chromium as ``--ignore-certificate-errors-spki-list`` so it trusts exactly
    this certificate (and the capture still records the certificate as checked).
    """
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evidencekit test site"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "evidencekit tests")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return context, base64.b64encode(hashlib.sha256(spki).digest()).decode()


@contextmanager
def serve_https(directory: Path) -> Iterator[tuple[str, str]]:
    """The test site over https with a self-signed cert; yields (base URL, SPKI pin)."""
    context, pin = self_signed(directory)
    with serve_loopback(Handler, tls=context) as base:
        yield base, pin


def session_or_skip(**kwargs: Any) -> Any:
    """A started BrowserSession confined to loopback, or a skip when no browser is installed."""
    import pytest

    from evidencekit._internal.browser import BrowserNotFound, BrowserSession

    extra = (NO_DNS, *kwargs.pop("extra_args", ()))
    try:
        return BrowserSession(extra_args=extra, **kwargs).start()
    except BrowserNotFound as error:
        pytest.skip(f"no browser to capture with: {error.message('en')}")


def no_floats(value: Any, where: str = "metadata") -> None:
    """Assert a structure is JSON-safe for signing: no floats anywhere, only str keys."""
    if isinstance(value, float):
        raise AssertionError(f"float at {where}: {value!r}")
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"non-string key at {where}"
            no_floats(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            no_floats(item, f"{where}[{index}]")
    else:
        assert value is None or isinstance(value, (str, int, bool)), f"{type(value)} at {where}"
