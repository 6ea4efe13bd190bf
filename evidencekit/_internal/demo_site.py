"""The built-in sample: fictional harassment pages served on this computer only.

``evidencekit demo`` and the tests capture these pages, so a worker or a case handler can see
what a capture holds without touching a real case, and without any network beyond 127.0.0.1.
The pages ship inside the package (``evidencekit/data/demo/``); :func:`serve_loopback` is the
small threaded server behind it, reusable with any handler (the tests use their own).
"""

from __future__ import annotations

import mimetypes
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import unquote, urlsplit

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class DemoPage:
    slug: str  # "chat" or "post"
    path: str  # "/chat.html"
    kind: str  # what it shows, in English for logs; the page itself is in Norwegian


PAGES = (
    DemoPage("chat", "/chat.html", "workplace chat thread"),
    DemoPage("post", "/post.html", "social-media post with hostile comments"),
)


@dataclass(frozen=True)
class DemoSite:
    base_url: str  # "http://127.0.0.1:PORT"
    pages: tuple[DemoPage, ...] = PAGES

    def url(self, page: DemoPage | str) -> str:
        """The full address of a sample page (by slug or page)."""
        if isinstance(page, str):
            page = next(p for p in self.pages if page in (p.slug, p.path))
        return self.base_url + page.path


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # quick restarts in tests


@contextmanager
def serve_loopback(handler: type[BaseHTTPRequestHandler], port: int = 0,
                   tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port unless given) in a thread; yield the base URL.

    With ``tls`` (a server-side SSL context) it serves https, as the TLS tests need.
    """
    server = _QuietServer((LOOPBACK, port), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="evidencekit-loopback",
                              daemon=True)
    thread.start()
    try:
        scheme = "https" if tls is not None else "http"
        yield f"{scheme}://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _demo_files() -> Any:
    return resources.files("evidencekit") / "data" / "demo"


class DemoHandler(BaseHTTPRequestHandler):
    """Serves the files of ``evidencekit/data/demo`` and nothing else (no listing, no ``..``)."""

    server_version = "evidencekit-demo/1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        name = unquote(urlsplit(self.path).path).lstrip("/") or "index.html"
        entry = _demo_files() / name
        if "/" in name or "\\" in name or name.startswith(".") or not entry.is_file():
            self.send_error(404, "Not found")
            return
        data = entry.read_bytes()
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if media.startswith("text/") or media == "application/json":
            media += "; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep stderr clean
        pass


@contextmanager
def serve_demo(port: int = 0) -> Iterator[DemoSite]:
    """Serve the sample pages on 127.0.0.1 until the block ends."""
    with serve_loopback(DemoHandler, port) as base_url:
        yield DemoSite(base_url)
