"""HTTP with a hard deadline and a size cap, for talking to timestamp servers.

A calendar, TSA or block source that hangs, drips bytes or sends an endless body must never hold
up a worker's capture: every request here returns by its deadline (the exchange runs in a daemon
thread whose socket is shut when time is up) and never reads more than ``max_bytes``. Failures become :class:`ServerError` with a catalog key.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from evidencekit.errors import EvidencekitError

_CHUNK = 16 * 1024


class ServerError(EvidencekitError):
    """A timestamp or block server could not be reached or answered unusably."""

    def __init__(self, key: str, url: str, **params: object) -> None:
        super().__init__(key, url=url, **params)
        self.url = url


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str


def public_url(url: str) -> str:
    """The URL without user name or password, safe to show and to store in a report."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def request(url: str, *, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10.0,
            max_bytes: int = 64 * 1024, deadline: float | None = None) -> Response:
    """One HTTP exchange that ends within ``timeout`` seconds (or by ``deadline``, monotonic)."""
    shown = public_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ServerError("timestamps.bad_url", shown) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError("timestamps.bad_url", shown)
    end = deadline if deadline is not None else time.monotonic() + timeout
    seconds = max(round(end - time.monotonic(), 1), 0.0)
    remaining = end - time.monotonic()
    if remaining <= 0:
        raise ServerError("timestamps.server_timeout", shown, seconds=seconds)

    all_headers = {"User-Agent": "evidencekit", "Connection": "close"}
    all_headers.update(headers or {})
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        all_headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=remaining,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=remaining)

    expired = threading.Event()
    done = threading.Event()
    outcome: list[Response | ServerError] = []

    def work() -> None:
        try:
            outcome.append(_exchange(conn, method, target, body, all_headers, end, max_bytes,
                                     shown, seconds, expired))
        except ServerError as exc:
            outcome.append(exc)
        finally:
            conn.close()
            done.set()

    # The exchange runs in a daemon thread so that even a step no socket timeout covers (a name
    # lookup that hangs) cannot keep the caller past its deadline.
    threading.Thread(target=work, name="evidencekit-http", daemon=True).start()
    if not done.wait(max(0.0, end - time.monotonic())) or not outcome:
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        done.wait(0.2)
        if not outcome or isinstance(outcome[0], Response):
            raise ServerError("timestamps.server_timeout", shown, seconds=seconds)
    result = outcome[0]
    if isinstance(result, ServerError):
        raise result
    return result


def _exchange(conn: http.client.HTTPConnection, method: str, target: str, body: bytes | None,
              headers: dict[str, str], end: float, max_bytes: int, shown: str, seconds: float,
              expired: threading.Event) -> Response:
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        length = resp.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise ServerError("timestamps.server_too_large", shown, limit=max_bytes)
        data = bytearray()
        while True:
            left = end - time.monotonic()
            if left <= 0 or expired.is_set():
                raise ServerError("timestamps.server_timeout", shown, seconds=seconds)
            if conn.sock is not None:
                conn.sock.settimeout(left)
            chunk = resp.read1(_CHUNK)
            if not chunk:
                break
            data += chunk
            if len(data) > max_bytes:
                raise ServerError("timestamps.server_too_large", shown, limit=max_bytes)
        if expired.is_set():
            raise ServerError("timestamps.server_timeout", shown, seconds=seconds)
        return Response(resp.status, bytes(data), resp.getheader("Content-Type") or "")
    except ServerError:
        raise
    except (TimeoutError, socket.timeout):
        raise ServerError("timestamps.server_timeout", shown, seconds=seconds) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set() or time.monotonic() >= end:
            raise ServerError("timestamps.server_timeout", shown, seconds=seconds) from None
        if isinstance(exc, ssl.SSLError):
            raise ServerError("timestamps.server_tls", shown, detail=_short(exc)) from None
        if isinstance(exc, http.client.HTTPException):
            raise ServerError("timestamps.server_bad_http", shown) from None
        raise ServerError("timestamps.server_unreachable", shown, detail=_short(exc)) from None


def _short(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
    return str(text)[:200] or exc.__class__.__name__
