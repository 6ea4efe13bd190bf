"""Calendars that misbehave: each gives one clear reason within the time allowed, never a hang."""

from __future__ import annotations

import hashlib
import time

import pytest
from opentimestamps.core.notary import PendingAttestation
from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.serialize import BytesSerializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp
from servers.fixtures import calendar, chain, misbehaving  # noqa: F401

from evidencekit.timestamps import stamp, upgrade_ots

DIGEST = hashlib.sha256(b"evidence").digest()


@pytest.mark.parametrize("mode, key", [
    ("garbage", "timestamps.calendar_garbage"),
    ("hang", "timestamps.server_timeout"),
    ("endless", "timestamps.server_too_large"),
    ("drip", "timestamps.server_timeout"),
    ("not-http", "timestamps.server_bad_http"),
    ("error", "timestamps.server_bad_status"),
])
def test_misbehaving_calendar(misbehaving, calendar, mode, key):
    bad = misbehaving(mode)
    started = time.monotonic()
    result = stamp([DIGEST], [bad.url, calendar.url], [], timeout=1.0)[0]
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"{mode} took {elapsed:.1f} s"
    assert result.ots is not None and result.ots_calendars == (calendar.url,)
    assert [(f.kind, f.url, f.reason_key) for f in result.failures] == [("ots", bad.url, key)]
    reason = result.failures[0].reason
    assert "127.0.0.1" in reason and reason.endswith(".")


def test_unreachable_calendar(calendar):
    result = stamp([DIGEST], ["http://127.0.0.1:9"], [], timeout=1.0)[0]
    assert result.ots is None
    assert result.failures[0].reason_key == "timestamps.server_unreachable"


def test_bad_address_is_a_failure_not_a_crash():
    result = stamp([DIGEST], ["file:///etc/passwd", "not a url"], ["gopher://x"], timeout=1.0)[0]
    assert result.ots is None and not result.tokens
    assert {f.reason_key for f in result.failures} == {"timestamps.bad_url"}


def pending_at(url: str) -> bytes:
    """A proof that waits on the calendar at ``url``."""
    stamp_ = Timestamp(DIGEST)
    stamp_.ops.add(OpAppend(b"nonce")).ops.add(OpSHA256()).attestations.add(PendingAttestation(url))
    ctx = BytesSerializationContext()
    DetachedTimestampFile(OpSHA256(), stamp_).serialize(ctx)
    return ctx.getbytes()


@pytest.mark.parametrize("mode", ["garbage", "hang", "endless"])
def test_misbehaving_calendar_during_upgrade(misbehaving, mode):
    bad = misbehaving(mode)
    started = time.monotonic()
    result = upgrade_ots(pending_at(bad.url), timeout=1.0, allowed_calendars=[bad.url])
    assert time.monotonic() - started < 2.5
    assert not result.changed and not result.complete
    assert len(result.failures) == 1 and result.failures[0].url == bad.url


def test_many_calendars_hanging_still_end_in_time(misbehaving, calendar):
    bad = [misbehaving("hang").url for _ in range(4)]
    started = time.monotonic()
    result = stamp([DIGEST] * 50, bad + [calendar.url], [], timeout=1.0)
    assert time.monotonic() - started < 2.5
    assert all(r.ots is not None for r in result)
    assert calendar.submissions == 1
