"""The facts a capture records about the page's server and the moment, in JSON-safe form.

Playwright hands back floats (TLS validity as epoch seconds) and header dicts that fold
duplicates; here everything becomes strings and ints, headers keep their order and repeats, and
times are RFC 3339 UTC strings with ``Z`` next to the capturing computer's local time.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from evidencekit._internal.capture.redaction import redact_header


def utc_text(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z`` and milliseconds (``2025-03-12T22:14:05.123Z``)."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def clock_reading(moment: datetime | None = None) -> dict[str, str]:
    """A moment as UTC, as local time with its offset, and the local zone's name."""
    moment = moment or datetime.now(timezone.utc)
    local = moment.astimezone()
    return {
        "utc": utc_text(moment),
        "local": local.isoformat(timespec="milliseconds"),
        "zone": local.tzname() or "",
    }


def _epoch_text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return utc_text(datetime.fromtimestamp(int(value), timezone.utc))
    except (OverflowError, OSError, ValueError, TypeError):
        return None


def headers(pairs: list[dict[str, str]], redact: bool) -> list[list[str]]:
    """Headers as ``[name, value]`` pairs in the order received, secrets blanked if asked."""
    return [[h["name"], redact_header(h["name"], h["value"]) if redact else h["value"]]
            for h in pairs]


def server_date(pairs: list[dict[str, str]], started: datetime) -> dict[str, Any] | None:
    """The server's ``Date`` header: a second clock, independent of the capturing computer."""
    raw = next((h["value"] for h in pairs if h["name"].lower() == "date"), None)
    if raw is None:
        return None
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return {"header": raw, "utc": None, "server_minus_local_seconds": None}
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    # HTTP dates have whole seconds; compare with the local clock truncated the same way.
    skew = int(parsed.timestamp()) - int(started.timestamp())
    return {"header": raw, "utc": utc_text(parsed), "server_minus_local_seconds": skew}


def tls(details: dict[str, Any] | None, checked: bool) -> dict[str, Any] | None:
    """Protocol, subject, issuer and validity of the server certificate; None for plain http."""
    if not details:
        return None
    return {
        "protocol": details.get("protocol"),
        "subject": details.get("subjectName"),
        "issuer": details.get("issuer"),
        "valid_from": _epoch_text(details.get("validFrom")),
        "valid_to": _epoch_text(details.get("validTo")),
        "certificate_checked": checked,
    }


def server_address(response: Any) -> dict[str, Any] | None:
    try:
        addr = response.server_addr()
    except Exception:  # noqa: BLE001 - served from cache or a service worker
        addr = None
    if not addr:
        return None
    return {"ip": addr.get("ipAddress"), "port": int(addr.get("port") or 0)}


def redirect_chain(response: Any, redact: bool) -> list[dict[str, Any]]:
    """Every hop before the final response: URL, status and where it sent the browser."""
    hops: list[dict[str, Any]] = []
    request = response.request.redirected_from
    while request is not None:
        hop: dict[str, Any] = {"url": request.url, "method": request.method,
                               "status": None, "location": None, "server": None}
        earlier = request.response()
        if earlier is not None:
            pairs = earlier.headers_array()
            hop["status"] = earlier.status
            hop["location"] = next((h["value"] for h in pairs if h["name"].lower() == "location"),
                                   None)
            hop["server"] = server_address(earlier)
            hop["headers"] = headers(pairs, redact)
        hops.append(hop)
        request = request.redirected_from
    hops.reverse()
    return hops


def response_facts(response: Any, *, started: datetime, redact: bool,
                   certificate_checked: bool) -> dict[str, Any]:
    """Status, headers, server address, TLS, redirects and the server's clock for one response."""
    pairs = response.headers_array()
    try:
        security = response.security_details()
    except Exception:  # noqa: BLE001
        security = None
    return {
        "url": response.url,
        "status": response.status,
        "status_text": response.status_text,
        "headers": headers(pairs, redact),
        "server": server_address(response),
        "tls": tls(security, certificate_checked),
        "redirects": redirect_chain(response, redact),
        "server_date": server_date(pairs, started),
    }


# What could tie an anonymous case to her computer: the full user-agent string (system and build)
# and the name she gave her logged-in profile (often her own, or her account's).
_TRACES = {"browser": ("user_agent",), "options": ("profile",)}


def for_anonymous_case(metadata: dict[str, Any]) -> dict[str, Any]:
    """The capture's metadata without what points to the computer; the browser's name and version stay."""
    kept = dict(metadata)
    for part, names in _TRACES.items():
        if isinstance(kept.get(part), dict):
            kept[part] = {k: v for k, v in kept[part].items() if k not in names}
    return kept
