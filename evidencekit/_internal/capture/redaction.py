"""Keeping the worker's own secrets out of what a capture hands over.

A capture made with a logged-in profile records the worker's session cookies and, in interactive
mode, whatever forms they submitted (passwords included). Whoever receives the bundle could use
them to act as the worker, so by default their values are replaced by a marker before the files
are hashed. Names stay, so the record still shows that a cookie or login was sent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MARK = "[redacted by evidencekit]"

SECRET_HEADERS = frozenset({
    "cookie", "set-cookie", "set-cookie2", "authorization", "proxy-authorization",
    "x-csrf-token", "x-xsrf-token", "x-auth-token", "x-api-key",
})

WHAT_IS_REDACTED = "cookie values, authorization headers, request bodies"


def redact_header(name: str, value: str) -> str:
    return MARK if name.lower() in SECRET_HEADERS else value


def _headers(items: list[dict[str, Any]]) -> None:
    for header in items:
        if str(header.get("name", "")).lower() in SECRET_HEADERS:
            header["value"] = MARK


def _cookies(items: list[dict[str, Any]]) -> None:
    for cookie in items:
        if "value" in cookie:
            cookie["value"] = MARK


def redact_har_data(har: dict[str, Any]) -> int:
    """Blank secrets in a parsed HAR in place; returns how many entries were touched."""
    touched = 0
    for entry in har.get("log", {}).get("entries", []):
        request = entry.get("request", {})
        response = entry.get("response", {})
        before = json.dumps([request.get("headers"), request.get("cookies"), request.get("postData"),
                             response.get("headers"), response.get("cookies")], sort_keys=True)
        for part in (request, response):
            _headers(part.get("headers", []))
            _cookies(part.get("cookies", []))
        post = request.get("postData")
        if isinstance(post, dict):
            if "text" in post:
                post["text"] = MARK
            for param in post.get("params", []) or []:
                param["value"] = MARK
        after = json.dumps([request.get("headers"), request.get("cookies"), request.get("postData"),
                            response.get("headers"), response.get("cookies")], sort_keys=True)
        touched += before != after
    return touched


def redact_har_file(path: Path) -> int:
    """Rewrite a HAR file with its secrets blanked (atomically: temp file, fsync, rename)."""
    har = json.loads(path.read_text(encoding="utf-8"))
    touched = redact_har_data(har)
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "w", encoding="utf-8") as out:
        json.dump(har, out, ensure_ascii=False, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
    return touched
