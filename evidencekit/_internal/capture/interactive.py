"""Visible-browser flows: logging in once to a profile, and capturing while the worker browses.

Harassment often sits behind a login (web chat, web mail, a private group). ``open_for_login``
shows a browser on a persistent profile so the worker logs in once; headless captures with the
same profile are then logged in. ``run_interactive`` lets the worker browse and capture the page
in front of them with a button injected into the page (or Enter in the terminal); each capture
goes through the same ``photograph`` as a headless one. The button is taken out of the page
while it is photographed, so it never appears in the evidence.
"""

from __future__ import annotations

import json
import queue
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evidencekit._internal.browser import BrowserSession, has_display
from evidencekit._internal.capture import facts
from evidencekit._internal.capture.errors import CaptureError
from evidencekit._internal.capture.model import HAR, CaptureOptions, WebCapture
from evidencekit._internal.capture.redaction import redact_har_file
from evidencekit._internal.capture.settle import NetworkWatch
from evidencekit._internal.capture.web import assemble, check_url, discard, photograph
from evidencekit.errors import EvidencekitError
from evidencekit.i18n import t

BINDING = "__evidencekitCapture"

# A button in a closed shadow root at the top right of every top-level page. Built with DOM
# calls only (pages with Trusted Types refuse innerHTML). window.__evidencekitOverlay lets
# Python hide it while photographing and show progress.
OVERLAY_JS = """(labels) => {
  if (window.top !== window || window.__evidencekitOverlay) return;
  let host = null, button = null, resetTimer = null;
  function build() {
    host = document.createElement("evidencekit-overlay");
    host.style.cssText = "all:initial;position:fixed;top:12px;right:12px;z-index:2147483647";
    const root = host.attachShadow({mode: "closed"});
    const style = document.createElement("style");
    style.textContent = "button{font:600 14px system-ui,sans-serif;padding:9px 14px;border:0;" +
      "border-radius:8px;background:#b3261e;color:#fff;box-shadow:0 2px 8px rgba(0,0,0,.35);" +
      "cursor:pointer}button[disabled]{opacity:.75;cursor:progress}";
    button = document.createElement("button");
    button.type = "button";
    button.title = labels.title;
    button.textContent = labels.idle;
    button.addEventListener("click", () => { window.__EVIDENCEKIT_BINDING__(); });
    root.append(style, button);
    (document.body || document.documentElement).appendChild(host);
  }
  window.__evidencekitOverlay = {
    detach() { if (host) host.remove(); },
    attach() { if (host && !host.isConnected) (document.body || document.documentElement).appendChild(host); },
    state(name) {
      if (!button) return;
      button.textContent = labels[name] || labels.idle;
      button.disabled = name === "busy";
      clearTimeout(resetTimer);
      if (name === "done" || name === "failed") resetTimer = setTimeout(() => this.state("idle"), 2500);
    },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
}"""


def _overlay_script() -> str:
    labels = {"idle": t("capture.overlay_button"), "busy": t("capture.overlay_busy"),
              "done": t("capture.overlay_done"), "failed": t("capture.overlay_failed"),
              "title": t("capture.overlay_title")}
    body = OVERLAY_JS.replace("__EVIDENCEKIT_BINDING__", BINDING)
    return f"({body})({json.dumps(labels, ensure_ascii=False)});"


def _visible_session(session: BrowserSession | None) -> tuple[BrowserSession, bool]:
    """The caller's session, or a new visible one (which needs a screen)."""
    if session is None or not session.headless:
        if not has_display():
            raise CaptureError("capture.no_display")
    if session is not None:
        return session, False
    return BrowserSession(headless=False).start(), True


def _live_pages(context: Any) -> list[Any]:
    return [p for p in context.pages if not p.is_closed()]


def _pause(context: Any, ms: int) -> bool:
    """Let Playwright deliver events for ``ms``; False once the worker has closed every page."""
    from playwright.sync_api import Error

    pages = _live_pages(context)
    if not pages:
        return False
    try:
        pages[-1].wait_for_timeout(ms)
    except Error:
        pass  # that page closed meanwhile; look again
    return True


def open_for_login(profile_dir: Path, url: str | None = None, *,
                   session: BrowserSession | None = None,
                   say: Callable[[str], None] = print,
                   on_ready: Callable[[Any], None] | None = None) -> None:
    """Show a browser on ``profile_dir`` so the worker can log in; return when they close it.

    ``on_ready(context)`` is for tests that play the worker in a headless session.
    """
    if url:
        url = check_url(url)
    session, own = _visible_session(session)
    try:
        with session.context(profile_dir=profile_dir, no_viewport=True) as context:
            page = _live_pages(context)[0] if _live_pages(context) else context.new_page()
            if url:
                try:
                    page.goto(url)
                except Exception:  # noqa: BLE001 - the worker sees the browser's own error page
                    pass
            say(t("capture.login_open", profile=profile_dir.name))
            if on_ready is not None:
                on_ready(context)
            while _pause(context, 250):
                pass
        say(t("capture.login_done", profile=profile_dir.name))
    finally:
        if own:
            session.close()


class _PageState:
    """Per-tab bookkeeping: its network watch and its latest main-document response."""

    def __init__(self, page: Any) -> None:
        self.watch = NetworkWatch(page)
        self.response: Any = None
        self.started = datetime.now(timezone.utc)
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame.parent_frame is None:
            self.response = response
            self.started = datetime.now(timezone.utc)


class _HarSegments:
    """One HAR per capture: the traffic since the previous capture (or the start)."""

    def __init__(self, context: Any, scratch: Path) -> None:
        self._tracing = context.tracing
        self._scratch = scratch
        self._count = 0
        self.available = hasattr(self._tracing, "start_har")  # Playwright ≥ 1.59
        self._path: Path | None = None
        self._begin()

    def _begin(self) -> None:
        if not self.available:
            return
        self._count += 1
        self._path = self._scratch / f"segment-{self._count}.har"
        self._tracing.start_har(str(self._path), content="embed", mode="full")

    def cut(self, destination: Path) -> bool:
        """Write the traffic so far to ``destination`` and start a new segment."""
        if not self.available or self._path is None:
            return False
        self._tracing.stop_har()
        done, self._path = self._path, None
        self._begin()
        if done.is_file():
            shutil.move(str(done), str(destination))
            return True
        return False


def _viewport(page: Any) -> dict[str, Any]:
    size = page.evaluate("() => ({w: innerWidth, h: innerHeight, r: devicePixelRatio})")
    ratio = size["r"]
    return {"width": int(size["w"]), "height": int(size["h"]),
            "device_scale_factor": int(ratio) if float(ratio).is_integer() else str(ratio)}


def _active_page(context: Any) -> Any | None:
    """The tab the worker is looking at (visible and focused), else the newest one."""
    pages = _live_pages(context)
    for page in reversed(pages):
        try:
            if page.evaluate("() => document.visibilityState === 'visible' && document.hasFocus()"):
                return page
        except Exception:  # noqa: BLE001 - page navigating or closing
            continue
    return pages[-1] if pages else None


def _overlay(page: Any, call: str) -> None:
    try:
        page.evaluate(f"() => window.__evidencekitOverlay && window.__evidencekitOverlay.{call}")
    except Exception:  # noqa: BLE001 - page without the overlay (e.g. an error page)
        pass


def _read_enter(requests: queue.Queue[Any], stop: threading.Event) -> None:
    for _line in sys.stdin:
        if stop.is_set():
            return
        requests.put(None)  # None: "the page in front of the worker"


def run_interactive(*, workdir_for: Callable[[int], Path],
                    on_capture: Callable[[WebCapture], None],
                    start_url: str | None = None, options: CaptureOptions | None = None,
                    session: BrowserSession | None = None, say: Callable[[str], None] = print,
                    enter_key: bool = True,
                    on_ready: Callable[[Any], None] | None = None) -> int:
    """Let the worker browse and capture pages on demand; return how many were captured.

    ``workdir_for(n)`` gives an empty directory for capture number ``n``; ``on_capture`` gets
    each result (the locker stores it as an item, then removes the directory) before the next
    one can start; a failed capture is reported through ``say`` and its (empty) directory
    removed. The session ends when the worker closes the browser. ``on_ready(context)`` is for tests and tools that
    drive the browser themselves.
    """
    from playwright.sync_api import Error

    options = options or CaptureOptions()
    if start_url:
        start_url = check_url(start_url)
    session, own = _visible_session(session)
    requests: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    states: dict[Any, _PageState] = {}
    count = 0
    scratch = Path(tempfile.mkdtemp(prefix="evidencekit-har-"))
    try:
        with session.context(profile_dir=options.profile_dir, no_viewport=True,
                             ignore_https_errors=options.ignore_https_errors) as context:
            context.expose_binding(BINDING, lambda source: requests.put(source["page"]))
            context.add_init_script(_overlay_script())
            context.on("page", lambda page: states.setdefault(page, _PageState(page)))
            first = _live_pages(context)[0] if _live_pages(context) else context.new_page()
            states.setdefault(first, _PageState(first))
            har = _HarSegments(context, scratch)
            if start_url:
                try:
                    first.goto(start_url, timeout=options.navigation_timeout_ms)
                except Error:
                    pass  # the browser shows its own error page; the worker can type another URL
            say(t("capture.interactive_help"))
            if enter_key and sys.stdin is not None and sys.stdin.isatty():
                threading.Thread(target=_read_enter, args=(requests, stop), daemon=True).start()
            if on_ready is not None:
                on_ready(context)
            while True:
                try:
                    wanted = requests.get_nowait()
                except queue.Empty:
                    if not _pause(context, 150):
                        break
                    continue
                page = wanted if wanted is not None and not wanted.is_closed() \
                    else _active_page(context)
                if page is None:
                    continue
                count += 1
                if _capture_one(page, states.setdefault(page, _PageState(page)), har,
                                workdir_for(count), options, session, on_capture, say):
                    continue
                count -= 1
    finally:
        stop.set()
        shutil.rmtree(scratch, ignore_errors=True)
        if own:
            session.close()
    return count  # the caller reports it (capture.interactive_done), with or without --json


def _capture_one(page: Any, state: _PageState, har: _HarSegments, workdir: Path,
                 options: CaptureOptions, session: BrowserSession,
                 on_capture: Callable[[WebCapture], None], say: Callable[[str], None]) -> bool:
    """Photograph the page as it is now into ``workdir``; report success or the reason."""
    from playwright.sync_api import Error

    url = page.url
    workdir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    _overlay(page, 'state("busy")')
    _overlay(page, "detach()")
    try:
        viewport = _viewport(page)
        scale = viewport["device_scale_factor"]
        shot_options = options if isinstance(scale, int) and scale == options.device_scale_factor \
            else _with_scale(options, scale)
        page_facts = photograph(page, workdir, shot_options, state.watch, as_seen=True)
        page_facts["load_event"] = None
        page_facts["wait_for"] = None
        browser = session.describe(page.context)
        browser["user_agent"] = page.evaluate("() => navigator.userAgent")
        browser["language"] = page.evaluate("() => navigator.language")
        response = None
        if state.response is not None:
            response = facts.response_facts(state.response, started=state.started,
                                            redact=options.redact_secrets,
                                            certificate_checked=not options.ignore_https_errors)
        title = page.title()
        page_url = page.url
        _overlay(page, "attach()")
        if har.cut(workdir / HAR) and options.redact_secrets:
            redact_har_file(workdir / HAR)
        capture = assemble(requested_url=page_url, page_url=page_url, title=title,
                           response=response, page=page_facts, browser=browser, options=options,
                           started=started, finished=datetime.now(timezone.utc),
                           workdir=workdir, viewport=viewport, mode="interactive")
        on_capture(capture)
    except (EvidencekitError, Error) as error:
        discard(workdir)
        try:
            workdir.rmdir()  # nothing of a failed capture stays behind, not even its folder
        except OSError:
            pass  # the caller keeps other things there
        _overlay(page, "attach()")
        _overlay(page, 'state("failed")')
        reason = error.message() if isinstance(error, EvidencekitError) \
            else str(error.message).splitlines()[0][:300]
        say(t("capture.interactive_failed", url=url, reason=reason))
        return False
    _overlay(page, 'state("done")')
    say(t("capture.interactive_captured", url=page_url))
    return True


def _with_scale(options: CaptureOptions, scale: Any) -> CaptureOptions:
    """Options whose tile arithmetic fits a window with a fractional pixel ratio."""
    from dataclasses import replace
    from math import ceil

    return replace(options, device_scale_factor=max(1, min(4, ceil(float(scale)))))
