"""The custody log keeps its own order: a log signed by the right key is still refused when its
numbers repeat or step back, its time runs backwards, an item is added twice, or an entry claims
a time after a timestamp that proves it existed. Logs are built and signed by hand, then checked
both by ``custody_log.verify`` and by ``evidencekit check`` on a locker whose log was re-signed
with its own case key."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from conftest import PASSPHRASE, run_cli
from evidencekit._internal import canonical, custody_log, keys
from locker_files import connect, open_locker

Fields = dict[str, Any]


def _time(hour: int, minute: int = 0) -> str:
    return f"2026-03-01T{hour:02d}:{minute:02d}:00.000000Z"


def _sign(signer: nacl.signing.SigningKey, entries: list[Fields]) -> list[tuple[bytes, bytes]]:
    """Chain and sign the entries in the order given, exactly as ``custody_log.append`` would."""
    stored, prev = [], None
    for fields in entries:
        body = canonical.dumps({"prev": prev, "signer": keys.public_key_string(bytes(signer.verify_key)), **fields})
        stored.append((body, signer.sign(body).signature))
        prev = canonical.sha256_hex(body)
    return stored


def _entry(seq: int, time: str | None = None, action: str = "item.add", subject: str | None = None) -> Fields:
    return {"type": custody_log.ENTRY_TYPE, "v": 1, "case": "case-1", "seq": seq, "time": time or _time(10),
            "action": action, "subject": subject if subject is not None else f"E-{seq:03d}",
            "record_sha256": canonical.sha256_hex(str(seq).encode())}


@pytest.fixture(scope="module")
def signer() -> nacl.signing.SigningKey:
    """A case key as the locker makes it: generated and sealed under a locker's seed key, then opened."""
    seed_key = secrets.token_bytes(32)
    return keys.unseal(keys.generate(seed_key), seed_key)


def _problems(signer: nacl.signing.SigningKey, entries: list[Fields]) -> list[tuple[str, str]]:
    _, problems = custody_log.verify(_sign(signer, entries), bytes(signer.verify_key))
    return [(p.code, p.subject) for p in problems]


def test_an_ordered_log_holds(signer: nacl.signing.SigningKey) -> None:
    entries = [_entry(1, action="case.create", subject="")] + [_entry(n) for n in (2, 3, 4)]
    entries[3]["time"] = entries[2]["time"]  # two entries in one transaction may share a time
    good, problems = custody_log.verify(_sign(signer, entries), bytes(signer.verify_key))
    assert problems == [] and [e.seq for e in good] == [1, 2, 3, 4]


def test_reordered_numbers(signer: nacl.signing.SigningKey) -> None:
    """1, 3, 2: each entry names the one before it and is signed, yet the numbers are out of order
    (this used to be reported as entry #2 missing, though it is there)."""
    found = _problems(signer, [_entry(1), _entry(3), _entry(2)])
    assert found == [("entry_out_of_order", "#3"), ("entry_out_of_order", "#2")]


def test_repeated_number(signer: nacl.signing.SigningKey) -> None:
    """1, 2, 2, signed and chained: this used to pass as a clean log."""
    assert _problems(signer, [_entry(1), _entry(2), _entry(2, subject="E-009")]) == [("entry_repeated", "#2")]


def test_step_back_after_the_end(signer: nacl.signing.SigningKey) -> None:
    found = _problems(signer, [_entry(1), _entry(2), _entry(3), _entry(2, subject="E-009"), _entry(4)])
    assert found == [("entry_repeated", "#2")]  # #4 follows #3, the highest before it: one finding


def test_a_gap_is_still_a_missing_entry(signer: nacl.signing.SigningKey) -> None:
    stored = _sign(signer, [_entry(1), _entry(2), _entry(3), _entry(4)])
    del stored[2]
    _, problems = custody_log.verify(stored, bytes(signer.verify_key))
    assert [(p.code, p.subject, p.params) for p in problems] == [("entry_missing", "#3", {"count": 1})]


def test_time_runs_backwards(signer: nacl.signing.SigningKey) -> None:
    entries = [_entry(1, _time(10)), _entry(2, _time(12)), _entry(3, _time(11)), _entry(4, _time(13))]
    _, problems = custody_log.verify(_sign(signer, entries), bytes(signer.verify_key))
    assert [(p.code, p.subject) for p in problems] == [("entry_time_backwards", "#3")]
    assert problems[0].params == {"time": _time(11), "previous": "#2", "previous_time": _time(12)}
    assert "earlier than entry #2 before it" in problems[0].message("en")


def test_times_in_other_offsets_are_compared_as_moments(signer: nacl.signing.SigningKey) -> None:
    entries = [_entry(1, "2026-03-01T10:00:00+00:00"), _entry(2, "2026-03-01T11:30:00+02:00")]
    assert _problems(signer, entries) == [("entry_time_backwards", "#2")]


def test_item_added_twice(signer: nacl.signing.SigningKey) -> None:
    entries = [_entry(1), _entry(2), _entry(3, subject="E-001")]
    _, problems = custody_log.verify(_sign(signer, entries), bytes(signer.verify_key))
    assert [(p.code, p.subject, p.params) for p in problems] == [
        ("item_added_twice", "E-001", {"entry": "#3", "first": "#1"})]


def test_a_changed_entry_is_one_finding(signer: nacl.signing.SigningKey) -> None:
    """An entry altered after signing says nothing about order: its neighbours are not blamed."""
    stored = _sign(signer, [_entry(1, _time(10)), _entry(2, _time(11)), _entry(3, _time(12))])
    body, signature = stored[1]
    stored[1] = (body.replace(_time(11).encode(), _time(23).encode()), signature)
    assert [(p.code, p.subject) for p in custody_log.verify(stored, bytes(signer.verify_key))[1]] == [
        ("entry_changed", "#2")]


@pytest.mark.parametrize("change", [{"seq": "2"}, {"seq": True}, {"seq": 0}, {"time": 1700000000},
                                    {"time": "2026-03-01T10:00:00"}, {"time": "yesterday"}, {"subject": 7},
                                    {"signer": 7}, {"prev": ["a"]}])
def test_entries_of_the_wrong_shape_are_unreadable(signer: nacl.signing.SigningKey, change: Fields) -> None:
    """Anyone can sign a log with a key of their own: its fields may hold anything at all."""
    found = _problems(signer, [_entry(1), {**_entry(2), **change}, _entry(3)])
    assert ("entry_unreadable", "#2") in found


# times proven by timestamps ------------------------------------------------------------------


def _logged(signer: nacl.signing.SigningKey, *times: str) -> list:
    entries = [_entry(n, time) for n, time in enumerate(times, 1)]
    good, problems = custody_log.verify(_sign(signer, entries), bytes(signer.verify_key))
    assert problems == []
    return good


def test_entry_dated_after_its_proof(signer: nacl.signing.SigningKey) -> None:
    log = _logged(signer, _time(10), _time(11), _time(12))
    problems = custody_log.time_problems(log, {2: _time(10, 30)})
    assert [(p.code, p.subject, p.params) for p in problems] == [
        ("entry_time_after_proof", "#2", {"time": _time(11), "proven": "#2", "proven_time": _time(10, 30)})]
    assert "entry #2 existed by" in problems[0].message("en")


def test_a_proof_binds_every_entry_before_it(signer: nacl.signing.SigningKey) -> None:
    """The head at #3 commits to #1 and #2 through the chain; the tightest proof is named."""
    log = _logged(signer, _time(10), _time(11), _time(12), _time(13))
    problems = custody_log.time_problems(log, {1: _time(23), 3: _time(10, 30), 4: _time(22)})
    assert [(p.subject, p.params["proven"]) for p in problems] == [("#2", "#3"), ("#3", "#3")]


def test_a_later_entry_may_predate_an_earlier_proof(signer: nacl.signing.SigningKey) -> None:
    """A stamp is made after the entry it covers (a Bitcoin block may come hours later), so an entry
    written in between legitimately claims a time before the earlier entry's proof."""
    log = _logged(signer, _time(10), _time(10, 5), _time(10, 10))
    assert custody_log.time_problems(log, {1: _time(11), 3: _time(10, 10)}) == []


def test_forward_dated_log_caught_through_order(signer: nacl.signing.SigningKey) -> None:
    """Dating the last entry forward past a later proof is caught by the proof; dating it back
    below its predecessor is caught by the order; between the two it cannot be placed wrongly."""
    log = _logged(signer, _time(10), _time(11), _time(20))
    assert [p.subject for p in custody_log.time_problems(log, {3: _time(12)})] == ["#3"]
    assert _problems(signer, [_entry(1, _time(10)), _entry(2, _time(11)), _entry(3, _time(9))]) == [
        ("entry_time_backwards", "#3")]


def test_no_proofs_no_findings(signer: nacl.signing.SigningKey) -> None:
    assert custody_log.time_problems(_logged(signer, _time(10), _time(11)), {}) == []


# appending ---------------------------------------------------------------------------------


def test_append_never_dates_an_entry_before_its_predecessor(monkeypatch: pytest.MonkeyPatch,
                                                             signer: nacl.signing.SigningKey) -> None:
    """A clock that steps back (a correction, a changed setting) must not make the log look forged."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE log_entries (case_id TEXT, seq INTEGER, body BLOB, signature BLOB, "
                 "PRIMARY KEY (case_id, seq))")
    clock = iter([_time(12), _time(11, 59), _time(12, 1)])
    monkeypatch.setattr(canonical, "utc_now", lambda: next(clock))
    times = [custody_log.append(conn, "case-1", signer, "item.add", "0" * 64, f"E-00{n}").time for n in (1, 2, 3)]
    assert times == [_time(12), _time(12), _time(12, 1)]
    assert custody_log.verify(custody_log.read(conn, "case-1"), bytes(signer.verify_key))[1] == []


# the locker's check on a log re-signed with the case's own key -------------------------------


@pytest.fixture
def filled(case_home: Path, tmp_path: Path) -> Path:
    files = []
    for name in ("one.txt", "two.txt"):
        files.append(tmp_path / name)
        files[-1].write_text(f"evidence {name}\n")
    assert run_cli("add", *files).code == 0
    assert run_cli("check").code == 0
    return case_home


def _rewrite(home: Path, change: Callable[[list[Fields]], list[Fields]]) -> None:
    """Re-sign the whole log with the case key after ``change``: what only the key holder can do."""
    with open_locker(home) as locker:
        case_id = locker.case().id
        signer = locker.case_signer(case_id, PASSPHRASE)
    with closing(connect(home)) as db:
        bodies = [canonical.loads(body) for (body,) in db.execute("SELECT body FROM log_entries ORDER BY seq")]
        for fields in bodies:
            del fields["prev"], fields["signer"]
        rewritten = _sign(signer, change(bodies))
        db.execute("DELETE FROM log_entries WHERE case_id = ?", (case_id,))
        db.executemany("INSERT INTO log_entries (case_id, seq, body, signature) VALUES (?, ?, ?, ?)",
                       [(case_id, n, body, sig) for n, (body, sig) in enumerate(rewritten, 1)])


def _check_says(*expected: str) -> None:
    result = run_cli("check")
    assert result.code == 1, result.out + result.err
    for line in expected:
        assert line in result.out, result.out
    codes = {p["code"] for p in run_cli("check", "--json").json()["problems"]}
    assert codes, "check --json found nothing"


def test_check_finds_reordered_log(filled: Path) -> None:
    def swap(entries: list[Fields]) -> list[Fields]:
        entries[1]["seq"], entries[2]["seq"] = 3, 2
        return entries

    _rewrite(filled, swap)
    _check_says("Log entry #3 comes after entry #1, out of order", "Log entry #2 comes after entry #3")


def test_check_finds_time_running_backwards(filled: Path) -> None:
    def back_date(entries: list[Fields]) -> list[Fields]:
        entries[2]["time"] = "2020-01-01T00:00:00.000000Z"
        return entries

    _rewrite(filled, back_date)
    _check_says("Log entry #3 is dated 2020-01-01T00:00:00.000000Z, earlier than entry #2 before it")


def test_check_finds_item_added_twice(filled: Path) -> None:
    def add_again(entries: list[Fields]) -> list[Fields]:
        return entries + [{**entries[1], "seq": len(entries) + 1, "time": entries[-1]["time"]}]

    _rewrite(filled, add_again)
    _check_says("E-001 is added a second time by log entry #4 (first added by entry #2)")


def test_check_in_bokmal(filled: Path) -> None:
    def repeat(entries: list[Fields]) -> list[Fields]:
        return entries + [{**entries[-1], "subject": "E-009"}]

    _rewrite(filled, repeat)
    result = run_cli("--lang", "nb", "check")
    assert result.code == 1 and "Loggoppføring #3 finnes mer enn én gang" in result.out, result.out
