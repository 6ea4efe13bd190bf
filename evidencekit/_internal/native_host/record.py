"""What the browser reported about a page, turned into the record a CLI capture writes.

The keys are those of :func:`evidencekit._internal.capture.web.assemble` so reports and checks
read both kinds alike. What only a page load driven by evidencekit can know (HTTP status and
headers, server address, TLS, redirects, network traffic) is recorded as unknown rather than
guessed; what the extension adds (which extension, how each file was made, the browser's own
clock) is kept under ``extension``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from evidencekit._internal.capture import facts as clock
from evidencekit._internal.capture.model import CapturedFile, WebCapture
from evidencekit._internal.capture.web import FORMAT
from evidencekit.errors import UserError


def _moment(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError("extension.bad_field", field=f"page.{field}") from None
    if moment.tzinfo is None:
        raise UserError("extension.bad_field", field=f"page.{field}")
    return moment.astimezone(timezone.utc)


def _ratio(value: int | float) -> int | str:
    """Device pixel ratio without floats (signed records hold none): 2 stays 2, 1.25 is "1.25"."""
    return int(value) if float(value).is_integer() else format(value, "g")


def web_capture(page: dict[str, Any], files: tuple[CapturedFile, ...], origin: str | None) -> WebCapture:
    """A :class:`WebCapture` of the transferred files and the page facts, JSON-safe, no floats."""
    started, finished = _moment(page["startedAt"], "startedAt"), _moment(page["finishedAt"], "finishedAt")
    viewport, document = page["viewport"], page["document"]
    full = page.get("fullPage")
    selection = page.get("selection")
    browser = page.get("browser") or {}
    url, title = page["url"], page["title"]
    metadata: dict[str, Any] = {
        "format": FORMAT,
        "mode": "extension",
        "requested_url": url,
        "final_url": url,
        "page_url": url,
        "title": title,
        "http": {"status": None, "status_text": None, "headers": None, "server": None, "redirects": None},
        "tls": None,
        "server_date": None,
        "browser": {
            "name": browser.get("name") or "chromium",
            "version": browser.get("version", ""),
            "program": "",
            "found_by": "extension",
            "headless": None,
            "user_agent": page.get("userAgent", ""),
            "language": page.get("language", ""),
        },
        "viewport": {"width": viewport["width"], "height": viewport["height"],
                     "device_scale_factor": _ratio(viewport["devicePixelRatio"])},
        "page": {
            "page_width": document["width"],
            "page_height": document["height"],
            "captured_height": full["capturedHeight"] if full else None,
            "truncated": full["truncated"] if full else None,
            "tiles": 1 if full else 0,
            "image_width": full["width"] if full else None,
            "image_height": full["height"] if full else None,
            "scrolled": False,
            "scroll_steps": 0,
            "reached_bottom": None,
            "network_quiet": None,
            "requests": None,
            "requests_never_finished": None,
            "viewport_scroll_y": viewport.get("scrollY", 0),
            "load_event": None,
            "wait_for": None,
        },
        "started": clock.clock_reading(started),
        "finished": clock.clock_reading(finished),
        "redacted": None,
        "options": {"capture_mode": page["mode"]},
        "extra": {},
        "extension": {
            "id": (page.get("extension") or {}).get("id", ""),
            "version": (page.get("extension") or {}).get("version", ""),
            "origin": origin,
            "capture_mode": page["mode"],
            "full_page_method": full["method"] if full else None,
            "mhtml_method": (page.get("mhtml") or {}).get("method"),
            "mhtml_attempts": (page.get("mhtml") or {}).get("attempts"),
            "selection_characters": selection["characters"] if selection else None,
            "scroll_x": viewport.get("scrollX", 0),
            "browser_clock": {"started": page["startedAt"], "finished": page["finishedAt"]},
            "received": clock.clock_reading(),
            "notes": list(page.get("notes", [])),
        },
    }
    return WebCapture(requested_url=url, final_url=url, title=title, files=files, metadata=metadata)
