"""Interactive mode end to end: the worker presses the overlay button; the page is captured.

Runs the same loop the visible browser runs, in a headless browser, pressing the injected
button with a real mouse click; the button must not end up in the evidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api._generated import Tracing

from capture_pages.site import band_colour, no_floats, serve, session_or_skip
from evidencekit._internal.capture import WebCapture
from evidencekit._internal.capture.interactive import run_interactive
from evidencekit.i18n import t


class Worker:
    """Plays the worker: scrolls a little, clicks the button, closes the browser when done."""

    def __init__(self) -> None:
        self.context: Any = None
        self.captured: list[WebCapture] = []
        self.said: list[str] = []

    def ready(self, context: Any) -> None:
        self.context = context
        page = context.pages[0]
        page.wait_for_selector("evidencekit-overlay")
        page.mouse.wheel(0, 1200)
        page.wait_for_function("() => window.scrollY > 0")
        box = page.locator("evidencekit-overlay").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def keep(self, capture: WebCapture) -> None:
        self.captured.append(capture)
        for page in list(self.context.pages):
            page.close()


def test_overlay_button_captures_the_page_in_front(tmp_path: Path) -> None:
    session = session_or_skip()
    worker = Worker()
    try:
        with serve() as base:
            count = run_interactive(workdir_for=lambda n: tmp_path / f"capture-{n}",
                                    on_capture=worker.keep, start_url=f"{base}/bands?n=6&h=500",
                                    session=session, say=worker.said.append, enter_key=False,
                                    on_ready=worker.ready)
    finally:
        session.close()

    assert count == 1 and len(worker.captured) == 1
    capture = worker.captured[0]
    meta = capture.metadata
    no_floats(meta)
    assert meta["mode"] == "interactive"
    assert meta["final_url"].endswith("/bands?n=6&h=500")
    assert meta["http"]["status"] == 200 and meta["http"]["server"]["ip"] == "127.0.0.1"
    assert meta["page"]["image_height"] == 3000
    assert meta["page"]["viewport_scroll_y"] > 0  # the viewport picture is what the worker saw

    button = t("capture.overlay_button")
    for role in ("rendered_dom", "visible_text", "page_archive"):
        text = capture.file(role).path.read_text(encoding="utf-8")
        assert "band 5" in text and button not in text and "evidencekit-overlay" not in text
    with Image.open(capture.file("full_page_screenshot").path) as img:
        top_right = img.convert("RGB").getpixel((img.width - 40, 25))
    assert top_right == band_colour(0)  # no red button painted into the evidence

    har = [f for f in capture.files if f.role == "network_record"]
    assert bool(har) == hasattr(Tracing, "start_har")  # Playwright cuts HARs since 1.59
    if har:
        entries = json.loads(har[0].path.read_text(encoding="utf-8"))["log"]["entries"]
        assert any(e["request"]["url"].endswith("/bands?n=6&h=500") for e in entries)
    assert worker.said == [t("capture.interactive_help"),
                           t("capture.interactive_captured", url=capture.final_url)]
