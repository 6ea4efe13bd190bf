"""What a web capture takes as options and hands back: plain, immutable records.

The metadata is JSON-safe by construction (strings, ints, booleans, lists, dicts and null; no
floats), so the locker can canonicalise, sign and timestamp it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from evidencekit.errors import UserError

# File names inside the capture's working directory, and what each one is.
FULL_PAGE = "page-full.png"
VIEWPORT = "page-viewport.png"
MHTML = "page.mhtml"
DOM = "page-dom.html"
HAR = "traffic.har"
TEXT = "page-text.txt"
WACZ = "page.wacz"

MEDIA_TYPES = {
    FULL_PAGE: "image/png",
    VIEWPORT: "image/png",
    MHTML: "multipart/related",
    DOM: "text/html",
    HAR: "application/json",
    TEXT: "text/plain",
    WACZ: "application/wacz",
}

ROLES = {
    FULL_PAGE: "full_page_screenshot",
    VIEWPORT: "viewport_screenshot",
    MHTML: "page_archive",
    DOM: "rendered_dom",
    HAR: "network_record",
    TEXT: "visible_text",
    WACZ: "web_archive",
}

# Debian's Chromium 156 paints even a 130,000-px page in one go, but Playwright's headless shell
# and GPU-backed builds stop at the largest texture (16384 device pixels); beyond it, tiles.
DEFAULT_TILE_HEIGHT = 16384


class InvalidCaptureOption(UserError):
    """A capture option is out of range (e.g. a negative height)."""

    def __init__(self, name: str, value: object, rule: str) -> None:
        super().__init__("capture.bad_option", name=name, value=value, rule=rule)


@dataclass(frozen=True)
class CaptureOptions:
    """How to load and photograph a page. Defaults suit an ordinary desktop capture."""

    viewport_width: int = 1280
    viewport_height: int = 800
    device_scale_factor: int = 1
    scroll: bool = True  # scroll to the bottom first, so lazy content loads
    max_height: int = 40000  # CSS pixels; taller pages are cut here (recorded as truncated)
    wait_for: str | None = None  # a CSS selector that must appear before capturing
    navigation_timeout_ms: int = 30000
    settle_timeout_ms: int = 5000  # longest wait for the network to fall quiet
    quiet_ms: int = 250  # how long "quiet" must last (also after each scroll to the bottom)
    scroll_pause_ms: int = 0  # extra pause after each step (two animation frames always)
    allow_error_status: bool = False  # capture 4xx/5xx pages (an error page can be evidence)
    ignore_https_errors: bool = False  # capture despite a bad certificate (recorded)
    user_agent: str | None = None  # None: the browser's own, recorded either way
    locale: str | None = None
    profile_dir: Path | None = None  # persistent profile (logged-in captures)
    redact_secrets: bool = True  # blank cookies, auth headers and request bodies in the HAR
    tile_height: int = DEFAULT_TILE_HEIGHT  # device pixels per painted tile
    extra: dict[str, Any] = field(default_factory=dict)  # caller's notes, copied into metadata

    def __post_init__(self) -> None:
        positive = {
            "viewport_width": (self.viewport_width, 100, 10000),
            "viewport_height": (self.viewport_height, 100, 10000),
            "device_scale_factor": (self.device_scale_factor, 1, 4),
            "max_height": (self.max_height, 100, 1_000_000),
            "navigation_timeout_ms": (self.navigation_timeout_ms, 100, 3_600_000),
            "settle_timeout_ms": (self.settle_timeout_ms, 0, 3_600_000),
            "quiet_ms": (self.quiet_ms, 0, 60_000),
            "scroll_pause_ms": (self.scroll_pause_ms, 0, 60_000),
            "tile_height": (self.tile_height, 256, 65536),
        }
        for name, (value, low, high) in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidCaptureOption(name, value, f"{low}–{high}")
        if self.wait_for is not None and not self.wait_for.strip():
            raise InvalidCaptureOption("wait_for", self.wait_for, "CSS")

    def summary(self) -> dict[str, Any]:
        """The options that shaped the capture, for the record (no paths, no free-form extras)."""
        skip = {"profile_dir", "extra"}
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        data["profile"] = self.profile_dir.name if self.profile_dir is not None else None
        return data


@dataclass(frozen=True)
class CapturedFile:
    """One file a capture wrote: its name in the item, where it is now, and what it is."""

    name: str
    path: Path
    media_type: str
    role: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "media_type": self.media_type, "role": self.role}


@dataclass(frozen=True)
class WebCapture:
    """The result of capturing one page: the files in the work directory and the facts."""

    requested_url: str
    final_url: str
    title: str
    files: tuple[CapturedFile, ...]
    metadata: dict[str, Any]

    def file(self, role_or_name: str) -> CapturedFile:
        """The file with this role (``full_page_screenshot``) or name (``page-full.png``)."""
        for item in self.files:
            if role_or_name in (item.role, item.name):
                return item
        raise KeyError(role_or_name)

    def to_json(self) -> dict[str, Any]:
        return {
            "requested_url": self.requested_url,
            "final_url": self.final_url,
            "title": self.title,
            "files": [f.to_json() for f in self.files],
            "metadata": self.metadata,
        }
