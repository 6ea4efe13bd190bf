"""Capturing one web page into a work directory: pictures, archives, traffic and facts.

``capture_page`` is the whole job for a URL; ``photograph`` is the part shared with interactive
mode (where the worker has already navigated). The files land in a directory the caller owns
(the locker hands out a temporary one and takes the files in only when the capture succeeded),
so a capture that fails or is killed midway never becomes half an item.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from evidencekit._internal.browser import BrowserSession
from evidencekit._internal.capture import facts
from evidencekit._internal.capture.errors import (
    BadSelector,
    BadUrl,
    CaptureError,
    HttpErrorStatus,
    UnsupportedScheme,
    WaitForTimeout,
    navigation_error,
)
from evidencekit._internal.capture.model import (
    DOM,
    FULL_PAGE,
    HAR,
    MEDIA_TYPES,
    MHTML,
    ROLES,
    TEXT,
    VIEWPORT,
    CaptureOptions,
    CapturedFile,
    WebCapture,
)
from evidencekit._internal.capture.screenshot import full_page_png
from evidencekit._internal.capture.redaction import WHAT_IS_REDACTED, redact_har_file
from evidencekit._internal.capture.settle import NetworkWatch, scroll_through
from evidencekit.errors import EvidencekitError

FORMAT = "evidencekit-web-capture/1"
WEB_SCHEMES = ("http", "https")

VISIBLE_TEXT_JS = "() => document.body ? document.body.innerText : ''"


def check_url(url: str) -> str:
    """The URL without surrounding blanks, if it is a complete http(s) address; else an error."""
    text = (url or "").strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in WEB_SCHEMES:
        try:
            port_ok = parts.port is None or 0 < parts.port < 65536
        except ValueError:
            port_ok = False
        if not parts.hostname or not port_ok or any(c.isspace() for c in text):
            raise BadUrl(text)
        return text
    # "example.org:8080", "localhost:8000" and "C:\\file" parse as schemes but are not meant so.
    looks_like_host_or_drive = "." in scheme or scheme == "localhost" or len(scheme) == 1
    if scheme and not looks_like_host_or_drive:
        raise UnsupportedScheme(text, scheme)
    raise BadUrl(text)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="")


def photograph(page: Any, workdir: Path, options: CaptureOptions, watch: NetworkWatch, *,
               as_seen: bool = False) -> dict[str, Any]:
    """Settle the page, then write both screenshots, the MHTML, the DOM and the visible text.

    With ``as_seen`` (interactive mode) the viewport picture is taken first, where the worker
    had scrolled to, and that position is restored afterwards.
    """
    seen_at = 0
    if as_seen:
        seen_at = int(page.evaluate("() => Math.round(window.scrollY)"))
        page.screenshot(path=str(workdir / VIEWPORT), type="png")
    scroll = None
    if options.scroll:
        scroll = scroll_through(page, watch, max_height=options.max_height,
                                pause_ms=options.scroll_pause_ms, quiet_ms=options.quiet_ms,
                                settle_timeout_ms=options.settle_timeout_ms,
                                budget_ms=options.navigation_timeout_ms)
    quiet = watch.wait_quiet(options.quiet_ms, options.settle_timeout_ms)
    if not as_seen:
        page.screenshot(path=str(workdir / VIEWPORT), type="png")
    shot = full_page_png(page, workdir / FULL_PAGE, max_height=options.max_height,
                         tile_height=options.tile_height, scale=options.device_scale_factor)
    cdp = page.context.new_cdp_session(page)
    try:
        snapshot = cdp.send("Page.captureSnapshot", {"format": "mhtml"})["data"]
    finally:
        cdp.detach()
    (workdir / MHTML).write_bytes(snapshot.encode("utf-8"))
    _write_text(workdir / DOM, page.content())
    _write_text(workdir / TEXT, page.evaluate(VISIBLE_TEXT_JS))
    if as_seen:
        page.evaluate("y => window.scrollTo(0, y)", seen_at)
    return {
        **shot,
        "scrolled": scroll is not None,
        "scroll_steps": scroll.steps if scroll else 0,
        "reached_bottom": scroll.reached_bottom if scroll else None,
        "network_quiet": quiet,
        "requests": watch.requests,
        "requests_never_finished": watch.written_off,
        "viewport_scroll_y": seen_at,
    }


def captured_files(workdir: Path) -> tuple[CapturedFile, ...]:
    """The files a capture wrote, in a fixed order, with media types and roles."""
    names = (FULL_PAGE, VIEWPORT, MHTML, DOM, HAR, TEXT)
    return tuple(CapturedFile(n, workdir / n, MEDIA_TYPES[n], ROLES[n])
                 for n in names if (workdir / n).is_file())


def context_options(options: CaptureOptions, har: Path | None) -> dict[str, Any]:
    """Playwright context options for a capture (viewport, HAR, certificate policy …)."""
    result: dict[str, Any] = {
        "viewport": {"width": options.viewport_width, "height": options.viewport_height},
        "device_scale_factor": options.device_scale_factor,
        "ignore_https_errors": options.ignore_https_errors,
        "accept_downloads": False,
    }
    if har is not None:
        result.update(record_har_path=str(har), record_har_content="embed", record_har_mode="full")
    if options.user_agent:
        result["user_agent"] = options.user_agent
    if options.locale:
        result["locale"] = options.locale
    return result


def assemble(*, requested_url: str, page_url: str, title: str, response: dict[str, Any] | None,
             page: dict[str, Any], browser: dict[str, Any], options: CaptureOptions,
             started: datetime, finished: datetime, workdir: Path,
             viewport: dict[str, Any] | None = None, mode: str = "headless") -> WebCapture:
    """The WebCapture record: files plus JSON-safe metadata (shared with interactive mode)."""
    response = response or {}
    metadata: dict[str, Any] = {
        "format": FORMAT,
        "mode": mode,
        "requested_url": requested_url,
        "final_url": response.get("url", page_url),
        "page_url": page_url,
        "title": title,
        "http": {k: response.get(k) for k in ("status", "status_text", "headers", "server",
                                              "redirects")},
        "tls": response.get("tls"),
        "server_date": response.get("server_date"),
        "browser": browser,
        "viewport": viewport or {"width": options.viewport_width,
                                 "height": options.viewport_height,
                                 "device_scale_factor": options.device_scale_factor},
        "page": page,
        "started": facts.clock_reading(started),
        "finished": facts.clock_reading(finished),
        "redacted": WHAT_IS_REDACTED if options.redact_secrets else None,
        "options": options.summary(),
        "extra": dict(options.extra),
    }
    return WebCapture(requested_url=requested_url, final_url=metadata["final_url"], title=title,
                      files=captured_files(workdir), metadata=metadata)


def _navigate(page: Any, url: str, options: CaptureOptions,
              watch: NetworkWatch) -> tuple[Any, bool]:
    """Open ``url``; return the main response and whether the load event came in time."""
    from playwright.sync_api import Error, TimeoutError

    try:
        response = page.goto(url, wait_until="domcontentloaded",
                             timeout=options.navigation_timeout_ms)
    except Error as error:
        raise navigation_error(error, url, options.navigation_timeout_ms) from None
    if response is None:
        raise CaptureError("capture.no_response", url=url)
    if response.status >= 400 and not options.allow_error_status:
        raise HttpErrorStatus(url, response.status, response.status_text)
    try:
        page.wait_for_load_state("load", timeout=max(1, options.settle_timeout_ms))
        loaded = True
    except TimeoutError:
        loaded = False
        watch.write_off()  # whatever holds up the load event will not end while we wait
    if options.wait_for:
        _wait_for(page, url, options)
    return response, loaded


def _wait_for(page: Any, url: str, options: CaptureOptions) -> None:
    from playwright.sync_api import Error, TimeoutError

    selector = options.wait_for or ""
    try:
        page.wait_for_selector(selector, state="visible", timeout=options.navigation_timeout_ms)
    except TimeoutError:
        raise WaitForTimeout(url, selector, max(1, options.navigation_timeout_ms // 1000)) from None
    except Error:
        raise BadSelector(selector) from None


def _open_page(context: Any) -> Any:
    # A persistent context starts with one blank tab; use it rather than leave it empty.
    pages = context.pages
    return pages[0] if pages else context.new_page()


def capture_page(url: str, *, workdir: Path, options: CaptureOptions | None = None,
                 session: BrowserSession | None = None,
                 on_stage: Callable[[str], None] | None = None) -> WebCapture:
    """Capture ``url`` into ``workdir``: full-page and viewport PNG, MHTML, DOM, HAR, text.

    Pass a running ``session`` to reuse one browser for many captures; without it one is
    started and closed here. ``on_stage`` is told "loading", "capturing" and "saving" (for a
    progress line). Raises a :class:`~evidencekit.errors.UserError` subclass with a one-sentence
    message for every expected failure (bad URL, no browser, refused, timeout, HTTP error …).
    """
    options = options or CaptureOptions()
    url = check_url(url)
    if session is None:
        with BrowserSession() as own:
            return capture_page(url, workdir=workdir, options=options, session=own,
                                on_stage=on_stage)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _capture(url, workdir, options, session, on_stage or (lambda _name: None))
    except BaseException:
        discard(workdir)  # a failed capture leaves nothing that could pass for evidence
        raise


def discard(workdir: Path) -> None:
    """Remove the files a capture writes (and their temporary siblings) from ``workdir``."""
    for name in MEDIA_TYPES:
        for path in (workdir / name, workdir / (name + ".tmp")):
            path.unlink(missing_ok=True)


def _capture(url: str, workdir: Path, options: CaptureOptions, session: BrowserSession,
             stage: Callable[[str], None]) -> WebCapture:
    from playwright.sync_api import Error

    har = workdir / HAR
    started = datetime.now(timezone.utc)
    try:
        with session.context(profile_dir=options.profile_dir,
                             **context_options(options, har)) as context:
            page = _open_page(context)
            watch = NetworkWatch(page)
            stage("loading")
            response, loaded = _navigate(page, url, options, watch)
            stage("capturing")
            page_facts = photograph(page, workdir, options, watch)
            page_facts["load_event"] = loaded
            page_facts["wait_for"] = options.wait_for
            browser = session.describe(context)
            browser["user_agent"] = page.evaluate("() => navigator.userAgent")
            browser["language"] = page.evaluate("() => navigator.language")
            title = page.title()
            page_url = page.url
            response_facts = facts.response_facts(
                response, started=started, redact=options.redact_secrets,
                certificate_checked=not options.ignore_https_errors)
            stage("saving")
    except EvidencekitError:
        raise
    except Error as error:
        raise CaptureError("capture.failed", url=url,
                           reason=str(error.message).splitlines()[0][:300]) from None
    if options.redact_secrets and har.is_file():
        redact_har_file(har)
    finished = datetime.now(timezone.utc)
    return assemble(requested_url=url, page_url=page_url, title=title, response=response_facts,
                    page=page_facts, browser=browser, options=options, started=started,
                    finished=finished, workdir=workdir)
