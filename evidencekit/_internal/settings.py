"""Locker-wide settings: stored in the locker, overridden by environment variables.

Each setting has one name, one environment variable and one default, declared here only; the
``config`` command and the code that uses a setting both read it through :func:`get`.
"""

from __future__ import annotations

import os
from sqlcipher3 import dbapi2 as sqlite3
from dataclasses import dataclass
from urllib.parse import urlsplit

from evidencekit._internal.timestamps.servers import DEFAULT_CALENDARS, DEFAULT_TSA_SPACING, DEFAULT_TSA_URLS
from evidencekit.errors import UserError


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    kind: str  # "urls" | "seconds" | "count" | "network" | "spacing"


SETTINGS = {
    s.name: s
    for s in (
        Setting("ots_calendars", "EVIDENCEKIT_OTS_CALENDARS", ",".join(DEFAULT_CALENDARS), "urls"),
        Setting("tsa_urls", "EVIDENCEKIT_TSA_URLS", ",".join(DEFAULT_TSA_URLS), "urls"),
        # the least time between two requests to one TSA, for those that ask for it: URL=seconds,…
        Setting("tsa_spacing", "EVIDENCEKIT_TSA_SPACING",
                ",".join(f"{url}={seconds:g}" for url, seconds in DEFAULT_TSA_SPACING.items()), "spacing"),
        Setting("min_calendars", "EVIDENCEKIT_MIN_CALENDARS", "2", "count"),
        Setting("stamp_timeout", "EVIDENCEKIT_STAMP_TIMEOUT", "10", "seconds"),
        Setting("bitcoin_network", "EVIDENCEKIT_BITCOIN_NETWORK", "mainnet", "network"),
        Setting("unlock_idle", "EVIDENCEKIT_UNLOCK_IDLE", "1800", "seconds"),
    )
}


def _setting(name: str) -> Setting:
    if name not in SETTINGS:
        raise UserError("settings.unknown", name=name, known=", ".join(SETTINGS))
    return SETTINGS[name]


def get(conn: sqlite3.Connection, name: str) -> tuple[str, str]:
    """(value, where it came from: ``env``, ``locker`` or ``default``)."""
    setting = _setting(name)
    if setting.env in os.environ:
        return os.environ[setting.env], "env"
    row = conn.execute("SELECT value FROM settings WHERE name = ?", (f"config.{name}",)).fetchone()
    return (row[0], "locker") if row else (setting.default, "default")


def set_value(conn: sqlite3.Connection, name: str, value: str | None) -> None:
    """Store a checked value, or forget it (``None``) to fall back to the default."""
    if value is None:
        conn.execute("DELETE FROM settings WHERE name = ?", (f"config.{_setting(name).name}",))
        return
    parse(name, value)
    conn.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (f"config.{name}", value))


NETWORKS = ("mainnet", "regtest")


def parse(name: str, value: str) -> list[str] | float | int | str | dict[str, float]:
    setting = _setting(name)
    if setting.kind == "spacing":
        return _spacing(name, value)
    if setting.kind == "network":
        if value not in NETWORKS:
            raise UserError("settings.bad_choice", name=name, value=value, allowed=", ".join(NETWORKS))
        return value
    if setting.kind == "urls":
        urls = [u.strip() for u in value.split(",") if u.strip()]
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise UserError("settings.bad_url", name=name, value=url)
        return urls
    try:
        number = float(value) if setting.kind == "seconds" else int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise UserError("settings.bad_number", name=name, value=value)
    return number


def _spacing(name: str, value: str) -> dict[str, float]:
    spacing: dict[str, float] = {}
    for pair in (p.strip() for p in value.split(",") if p.strip()):
        url, _, seconds = pair.rpartition("=")
        parse("tsa_urls", url)  # the same rules as any server address
        try:
            spacing[url.strip()] = float(seconds)
        except ValueError:
            raise UserError("settings.bad_spacing", name=name, value=pair) from None
        if not url or spacing[url.strip()] < 0:
            raise UserError("settings.bad_spacing", name=name, value=pair)
    return spacing


def value(conn: sqlite3.Connection, name: str) -> list[str] | float | int | str | dict[str, float]:
    return parse(name, get(conn, name)[0])
