"""The result of checking one timestamp proof, shaped for reports, JSON and the bundle verifier.

Every proof ends in exactly one status so a case handler never has to interpret a half answer:
``queued`` (not yet sent), ``pending`` (sent, Bitcoin has not confirmed it yet), ``verified``,
``unconfirmed`` (the proof holds against a block header that came with it, but nothing the reader
trusts confirms that block is real), ``invalid`` (the proof is false or damaged) or
``unverifiable`` (it may be fine, but nothing here can check it: no header, an unknown notary, an
untrusted TSA). Reasons are catalog keys, rendered in the reader's language when shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Mapping

from evidencekit.i18n import t

Kind = Literal["ots", "rfc3161"]
Status = Literal["queued", "pending", "verified", "unconfirmed", "invalid", "unverifiable"]
STATUSES: tuple[Status, ...] = ("queued", "pending", "verified", "unconfirmed", "invalid", "unverifiable")


CLOCK_SLACK = timedelta(minutes=10)  # a computer clock not set by the network, a TSA's whole seconds
BLOCK_TIME_SLACK = timedelta(hours=2)  # how far a block's time may lag the moment it was mined


@dataclass(frozen=True)
class Message:
    """A sentence to be rendered later, so a reason can embed other reasons in the reader's language."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        return render(self.key, self.params, lang)


def render(key: str, params: Mapping[str, object], lang: str | None = None) -> str:
    """``t(key)`` with nested :class:`Message` values (or lists of them) rendered in the same language."""
    filled: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, Message):
            value = value.render(lang)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Message) for v in value):
            value = " ".join(v.render(lang) for v in value)
        filled[name] = value
    return t(key, lang, **filled)


@dataclass(frozen=True)
class OtsDetails:
    """What an OpenTimestamps proof says, and which block header it was checked against.

    ``confirmed_by`` says why that header was believed: ``reader`` (a node, explorer or header file
    the reader chose), ``checkpoint`` (linked to the real chain by evidencekit's table) or None.
    """

    file_digest: str
    hash_algorithm: str
    block_height: int | None = None
    block_hash: str | None = None
    header_source: str | None = None
    header_hex: str | None = None
    attested_time: str | None = None
    confirmed_by: str | None = None
    pending_calendars: tuple[str, ...] = ()
    unknown_attestations: tuple[str, ...] = ()


@dataclass(frozen=True)
class TsaDetails:
    """What an RFC 3161 token says about who signed it, when, and under which policy."""

    tsa_name: str | None = None
    gen_time: str | None = None
    serial: str | None = None
    policy: str | None = None
    hash_algorithm: str | None = None
    message_imprint: str | None = None
    # a qualified electronic time stamp (eIDAS): the listed service its certificate chains to, as
    # "subject (trusted list XX)"; None for any other token, however trustworthy
    qualified: str | None = None


@dataclass(frozen=True)
class ProofResult:
    """One proof's verdict; ``reason`` is one sentence a worker or case handler can act on."""

    kind: Kind
    status: Status
    reason_key: str
    reason_params: Mapping[str, object] = field(default_factory=dict)
    details: OtsDetails | TsaDetails | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def reason(self) -> str:
        return render(self.reason_key, self.reason_params)

    def reason_in(self, lang: str | None) -> str:
        return render(self.reason_key, self.reason_params, lang)

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    @property
    def existed_by(self) -> str | None:
        """The latest moment a verified proof lets its digest have come into being, as RFC 3339 UTC.

        The proof's own time plus what it may be behind the truth: a Bitcoin block's time may
        lag the moment it was mined by up to two hours (consensus allows it), a TSA writes whole
        seconds; and the worker's clock, which dates the log, is not a precise one. So a log
        dated later than a proof is only a finding beyond ordinary clock error.
        """
        if not self.verified or self.details is None:
            return None
        shown = self.details.attested_time if isinstance(self.details, OtsDetails) else self.details.gen_time
        if shown is None:
            return None
        slack = CLOCK_SLACK + (BLOCK_TIME_SLACK if isinstance(self.details, OtsDetails) else timedelta(0))
        moment = datetime.strptime(shown, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) + slack
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def to_json(self, lang: str | None = None) -> dict[str, Any]:
        """A plain dict for ``--json``: kind, status, reason, reason_code and the details."""
        details = asdict(self.details) if self.details is not None else {}
        for key, value in details.items():
            if isinstance(value, tuple):
                details[key] = list(value)
        return {"kind": self.kind, "status": self.status, "reason": self.reason_in(lang),
                "reason_code": self.reason_key, **details}

    @classmethod
    def queued(cls, kind: Kind, server: str | None = None) -> ProofResult:
        """A stamp the locker still has to send; the library never produces it by itself."""
        return cls(kind, "queued", "timestamps.queued", {"server": server or "-"})


@dataclass(frozen=True)
class ServerFailure:
    """A server that did not give a usable stamp, and why, so the locker can queue and report it."""

    kind: Kind
    url: str
    reason_key: str
    reason_params: Mapping[str, object] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return render(self.reason_key, self.reason_params)

    @classmethod
    def from_error(cls, kind: Kind, url: str, error: Any) -> ServerFailure:
        return cls(kind, url, error.key, dict(error.params))
