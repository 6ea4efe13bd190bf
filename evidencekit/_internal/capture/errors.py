"""Why a capture could not be made, each in one sentence a worker understands.

Playwright reports network failures as ``net::ERR_…`` codes inside a long message with a call
log; :func:`navigation_error` turns them into these errors so no traceback or call log reaches
the person at the keyboard.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from evidencekit.errors import UserError


class CaptureError(UserError):
    """A page could not be captured; the message says why and what to try."""


class BadUrl(CaptureError):
    def __init__(self, url: str) -> None:
        super().__init__("capture.bad_url", url=url)


class UnsupportedScheme(CaptureError):
    def __init__(self, url: str, scheme: str) -> None:
        super().__init__("capture.bad_scheme", url=url, scheme=scheme)


class HttpErrorStatus(CaptureError):
    """The server answered 4xx/5xx and error pages were not asked for."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        self.status = status
        super().__init__("capture.http_error", url=url, status=status, reason=reason or "-")


class WaitForTimeout(CaptureError):
    def __init__(self, url: str, selector: str, seconds: int) -> None:
        super().__init__("capture.wait_for_timeout", url=url, selector=selector, seconds=seconds)


class BadSelector(CaptureError):
    def __init__(self, selector: str) -> None:
        super().__init__("capture.bad_selector", selector=selector)


_NET_CODE = re.compile(r"net::(ERR_[A-Z0-9_]+)")

# net::ERR_… code → catalog key (parameters: url, host, code)
_BY_CODE = {
    "ERR_CONNECTION_REFUSED": "capture.connection_refused",
    "ERR_NAME_NOT_RESOLVED": "capture.unknown_host",
    "ERR_NAME_RESOLUTION_FAILED": "capture.unknown_host",
    "ERR_ADDRESS_UNREACHABLE": "capture.unreachable",
    "ERR_INTERNET_DISCONNECTED": "capture.unreachable",
    "ERR_NETWORK_UNREACHABLE": "capture.unreachable",
    "ERR_CONNECTION_TIMED_OUT": "capture.timeout_connect",
    "ERR_TIMED_OUT": "capture.timeout_connect",
    "ERR_CONNECTION_RESET": "capture.connection_dropped",
    "ERR_CONNECTION_CLOSED": "capture.connection_dropped",
    "ERR_EMPTY_RESPONSE": "capture.connection_dropped",
    "ERR_UNSAFE_PORT": "capture.unsafe_port",
    "ERR_TOO_MANY_REDIRECTS": "capture.too_many_redirects",
    "ERR_ABORTED": "capture.aborted",
    "ERR_BLOCKED_BY_CLIENT": "capture.aborted",
    "ERR_SSL_PROTOCOL_ERROR": "capture.tls_failed",
    "ERR_SSL_VERSION_OR_CIPHER_MISMATCH": "capture.tls_failed",
}


def navigation_error(error: BaseException, url: str, timeout_ms: int) -> CaptureError:
    """The capture error for a failed ``page.goto`` (a Playwright ``Error``/``TimeoutError``)."""
    text = str(getattr(error, "message", "") or error)
    host = urlsplit(url).hostname or url
    if type(error).__name__ == "TimeoutError" or "Timeout" in text.split("\n", 1)[0]:
        return CaptureError("capture.timeout", url=url, seconds=max(1, timeout_ms // 1000))
    if "Download is starting" in text:
        return CaptureError("capture.download", url=url)
    match = _NET_CODE.search(text)
    if match:
        code = match.group(1)
        if code.startswith("ERR_CERT_"):
            return CaptureError("capture.cert_invalid", url=url, host=host, code=code)
        key = _BY_CODE.get(code, "capture.network_error")
        return CaptureError(key, url=url, host=host, code=code)
    if "invalid URL" in text:
        return BadUrl(url)
    if "closed" in text or "crash" in text.lower():
        return CaptureError("capture.browser_gone", url=url)
    return CaptureError("capture.network_error", url=url, host=host,
                        code=text.splitlines()[0][:200] if text else type(error).__name__)
