"""The timestamp servers evidencekit uses unless told otherwise, defined once.

Kept apart from the stamping code so that reading a setting does not load the OpenTimestamps
and RFC 3161 libraries: every command reads settings, few of them stamp.
"""

from __future__ import annotations

DEFAULT_CALENDARS: tuple[str, ...] = (
    "https://a.pool.opentimestamps.org",
    "https://b.pool.opentimestamps.org",
    "https://a.pool.eternitywall.com",
    "https://ots.btc.catallaxy.com",
)
DEFAULT_TSA_URLS: tuple[str, ...] = (
    "http://timestamp.digicert.com",
    "http://timestamp.sectigo.com",
    "http://timestamp.globalsign.com/tsa/r6advanced1",
    "http://timestamp.sectigo.com/qualified",  # qualified under eIDAS (docs/timestamps.md)
)
# TSAs that ask for time between requests: Sectigo's qualified service asks for about 15 s. A
# stamp that would come sooner stays queued for a later send; nothing waits for it.
DEFAULT_TSA_SPACING: dict[str, float] = {"http://timestamp.sectigo.com/qualified": 15}
