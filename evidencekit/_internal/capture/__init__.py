"""Web capture: photograph, archive and record a page with a real Chromium.

The public surface for the CLI and the locker::

    from evidencekit._internal.browser import BrowserSession, find_browser
    from evidencekit._internal.capture import CaptureOptions, capture_page

    with BrowserSession() as session:
        result = capture_page(url, workdir=tmp, options=CaptureOptions(), session=session)
    result.files      # CapturedFile(name, path, media_type, role) …
    result.metadata   # JSON-safe facts: URLs, redirects, headers, server IP, TLS, clocks …

``open_for_login`` (log in once to a persistent profile) and ``run_interactive`` (the worker
browses; an overlay button captures the page in front) need a visible browser.
"""

from evidencekit._internal.capture.errors import CaptureError, HttpErrorStatus
from evidencekit._internal.capture.interactive import open_for_login, run_interactive
from evidencekit._internal.capture.model import CapturedFile, CaptureOptions, WebCapture
from evidencekit._internal.capture.web import capture_page, check_url, discard

__all__ = [
    "CaptureError",
    "CaptureOptions",
    "CapturedFile",
    "HttpErrorStatus",
    "WebCapture",
    "capture_page",
    "check_url",
    "discard",
    "open_for_login",
    "run_interactive",
]
