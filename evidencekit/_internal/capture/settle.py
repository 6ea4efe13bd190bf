"""Getting a page into its finished state before it is photographed.

Pages load in stages: scripts fetch comments after the load event, images wait until they are
scrolled near, feeds grow as the reader reaches the bottom. We watch the page's requests
ourselves (Playwright's ``networkidle`` always waits a fixed 500 ms and cannot be re-armed after
scrolling) and scroll to the bottom in viewport steps, bounded by a maximum height and a time
budget, so lazy content is in the screenshot and the DOM.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

PAGE_SIZE_JS = """() => {
  const d = document.documentElement, b = document.body;
  return {
    width: Math.max(d.scrollWidth, d.clientWidth, b ? b.scrollWidth : 0),
    height: Math.max(d.scrollHeight, d.clientHeight, b ? b.scrollHeight : 0, b ? b.offsetHeight : 0),
  };
}"""

# Scrolls from `start` towards the bottom one viewport at a time, pausing after each step for
# two animation frames and `pause` ms so scroll handlers and IntersectionObservers fire.
SCROLL_JS = """async ({start, limit, pause}) => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const height = () => Math.max(document.documentElement.scrollHeight,
                                document.body ? document.body.scrollHeight : 0);
  const view = Math.max(1, window.innerHeight);
  let y = start, steps = 0;
  while (y + view < Math.min(height(), limit) && steps < 1000) {
    y = Math.min(y + view, Math.min(height(), limit) - view);
    window.scrollTo(0, y);
    steps += 1;
    await frame();
    if (pause > 0) await sleep(pause);
  }
  return {y: Math.round(y), steps: steps, height: Math.round(height()), view: view};
}"""

TO_TOP_JS = """async () => {
  window.scrollTo(0, 0);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""


class NetworkWatch:
    """Counts a page's requests in flight, to tell when its network has fallen quiet."""

    def __init__(self, page: Any) -> None:
        self._page = page
        self._inflight: set[Any] = set()
        self._last_activity = time.monotonic()
        self.requests = 0
        self.written_off = 0
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        self._inflight.discard(request.redirected_from)
        self._inflight.add(request)
        self.requests += 1
        self._last_activity = time.monotonic()

    def _ended(self, request: Any) -> None:
        self._inflight.discard(request)
        self._last_activity = time.monotonic()

    def write_off(self) -> None:
        """Stop waiting for the requests in flight now (long polls, streams, a hung image).

        Called when a wait ran out: those requests evidently never end, and waiting for them
        again at every later step would only multiply the delay.
        """
        self.written_off += len(self._inflight)
        self._inflight.clear()

    def wait_quiet(self, quiet_ms: int, timeout_ms: int, *, since: float | None = None) -> bool:
        """Wait until nothing is in flight and nothing happened for ``quiet_ms``; False on timeout.

        ``since`` (a ``time.monotonic()`` reading) counts as activity too: after scrolling, a
        throttled scroll handler may start its request a moment later, so quiet is measured
        from the end of the scroll, not from the last request.
        """
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            now = time.monotonic()
            last = max(self._last_activity, since or 0.0)
            if not self._inflight and (now - last) * 1000 >= quiet_ms:
                return True
            if now >= deadline:
                self.write_off()
                return False
            # Playwright delivers events only while we are inside one of its calls.
            self._page.wait_for_timeout(20)


def page_size(page: Any) -> tuple[int, int]:
    """The page's content width and height in CSS pixels."""
    size = page.evaluate(PAGE_SIZE_JS)
    return int(size["width"]), int(size["height"])


@dataclass(frozen=True)
class ScrollReport:
    steps: int
    reached_bottom: bool
    height: int


def scroll_through(page: Any, watch: NetworkWatch, *, max_height: int, pause_ms: int,
                   quiet_ms: int, settle_timeout_ms: int, budget_ms: int) -> ScrollReport:
    """Scroll to the bottom (or ``max_height``), letting lazy content load; end at the top."""
    deadline = time.monotonic() + budget_ms / 1000
    y, steps, reached = 0, 0, False
    height = page_size(page)[1]
    while time.monotonic() < deadline:
        result = page.evaluate(SCROLL_JS, {"start": y, "limit": max_height, "pause": pause_ms})
        y, steps = int(result["y"]), steps + int(result["steps"])
        remaining = max(0, int((deadline - time.monotonic()) * 1000))
        moved = int(result["steps"]) > 0
        watch.wait_quiet(quiet_ms, min(settle_timeout_ms, remaining),
                         since=time.monotonic() if moved else None)
        height = page_size(page)[1]
        if y + int(result["view"]) >= min(height, max_height):
            reached = True
            break
    page.evaluate(TO_TOP_JS)
    return ScrollReport(steps=steps, reached_bottom=reached, height=height)
