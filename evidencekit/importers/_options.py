"""What the person importing told us (zone, date order, who they are, which conversations,
recorded DNS keys).

Why a separate object: every format module takes the same options, and the values the person
chose (versus defaults) are written into the transcript so a reader knows what was assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evidencekit.importers._time import Zone


@dataclass(frozen=True, slots=True)
class Options:
    zone: Zone
    date_order: str | None = None
    me: str | None = None
    fmt: str = "auto"  # the name asked for or detected ("instagram" reads like "messenger")
    #: DNS TXT records supplied by the person, by name ("sel._domainkey.example.com").
    dns_records: dict[str, str] = field(default_factory=dict)
    #: Ask the live DNS for DKIM keys that were not supplied (never in tests).
    resolve_dns: bool = False
    #: Import only conversations whose names contain one of these texts (empty: all).
    conversations: tuple[str, ...] = ()
