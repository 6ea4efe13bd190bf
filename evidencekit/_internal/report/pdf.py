"""Printing the report to PDF with the same Chromium that captures, through Playwright.

Why Chromium: the PDF then looks exactly like the HTML, its text stays selectable and
searchable, and no second rendering engine is needed. Running headers (case, exhibit number,
page n / m) come from CSS ``@page`` margin boxes with one named page per exhibit, which
Chromium prints since version 131. The page may load nothing: every request is refused, so a
report can never reach the network, even if a picture or a URL in the evidence tried to.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from evidencekit._internal.browser import BrowserSession

PRINT_TIMEOUT_MS = 10 * 60 * 1000  # a case of hundreds of screenshots prints in well under this


def print_file(page_file: Path, output: Path, session: BrowserSession | None = None) -> Path:
    """Print an HTML file already on disk (the report loads nothing else) to a PDF at ``output``."""
    output = Path(output)
    url = Path(page_file).resolve().as_uri()
    partial = output.with_name(f".{output.name}.partial")
    with ExitStack() as stack:
        if session is None:
            session = stack.enter_context(BrowserSession())
        try:
            with session.context(java_script_enabled=False) as context:
                page = context.new_page()
                page.set_default_timeout(PRINT_TIMEOUT_MS)
                _only(page, url)
                page.goto(url, wait_until="load")
                page.pdf(path=str(partial), prefer_css_page_size=True, print_background=True,
                         outline=True, tagged=True)
            os.replace(partial, output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return output


def _only(page: Any, allowed: str) -> None:
    """Refuse every request but the report file itself (``data:`` pictures never hit the network)."""
    page.route("**/*", lambda route: route.continue_() if route.request.url == allowed else route.abort())

