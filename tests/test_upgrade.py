"""``evidencekit upgrade`` on a real locker made by evidencekit 0.1.0 (``tests/previous_locker``).

Afterwards every item, file, log entry, key and recipient is there, ``check`` holds, each case's
log ends with ``locker.upgrade`` and no word of the evidence is left readable. Killed by SIGKILL at
any moment, the folder holds the old locker exactly as it was or the new one, whole, never a mix;
what a kill left is cleared by the next ``upgrade`` (before the switch) or the next command
(after it). Refusals (wrong passphrase, already encrypted, an old locker given to another
command, a full disk) are one sentence and change nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSPHRASE, quiet_locker_env, run_cli
from evidencekit._internal.layout import BLOBS, DATABASE, KEY, PLAIN_BLOBS, PLAIN_DATABASE, STAGING
from evidencekit.locker import Locker
from test_crash_safety import campaign_size, kill_after, start_cli, timed_run
from test_full_disk import _fill, _says_disk_full, small_disk  # noqa: F401 (a fixture)

OLD_LOCKER = Path(__file__).parent / "previous_locker" / "locker-0.1.0.tar.gz"
SEED = 20261202
#: words only the old locker's evidence holds (its README): none may be readable after the upgrade
SECRET_WORDS = (b"oldlockerword-quetzal", b"diaryword-zanzibar", b"anonword-kumquat", b"Ola Nordmann")
PLAIN_LEFTOVERS = (PLAIN_DATABASE, f"{PLAIN_DATABASE}-wal", f"{PLAIN_DATABASE}-shm", PLAIN_BLOBS, STAGING)

#: ``evidencekit upgrade``, which sends itself the signal named by the second argument right after
#: it renamed a file to the name given as the first: a signal at an exact moment of the switch,
#: which random delays rarely hit.
SIGNAL_AFTER_RENAME = """
import os, signal, sys
from pathlib import Path

rename, last, sent = os.replace, sys.argv[1], signal.Signals[sys.argv[2]]
def rename_then_signal(source, target, *args, **kwargs):
    rename(source, target, *args, **kwargs)
    if Path(target).name == last:
        os.kill(os.getpid(), sent)
os.replace = rename_then_signal

from evidencekit.cli import main
sys.argv = ["evidencekit", "upgrade"]
main()
"""


@dataclass(frozen=True)
class CaseContents:
    anonymous: bool
    key: bytes  # the case's public signing key, raw
    items: dict[str, list[str]]  # item label -> the SHA-256 of its files, sorted
    log: list[tuple[int, str, str]]  # (seq, action, signature in hex)


@dataclass(frozen=True)
class Contents:
    """What a worker relies on in a locker, read the same way from the old one and the new."""

    identity: bytes
    cases: dict[str, CaseContents]
    recipients: dict[str, str]


@dataclass(frozen=True)
class OldLocker:
    contents: Contents
    tables: dict[str, list[tuple[object, ...]]]  # every row of every table
    blobs: dict[str, bytes]  # "xx/<sha256>" -> the bytes of that file


def old_locker(folder: Path) -> Path:
    """A fresh copy of the locker evidencekit 0.1.0 made, as ``folder/locker``."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(OLD_LOCKER) as tar:
        tar.extractall(folder, filter="data")
    return folder / "locker"


def read_old(home: Path) -> OldLocker:
    """The old locker read with the standard library's plain SQLite, without evidencekit."""
    conn = sqlite3.connect(f"file:{home / PLAIN_DATABASE}?mode=ro", uri=True)
    try:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        tables = {name: conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall() for name in names}
        keys = {key_id: bytes(public_key) for key_id, public_key in conn.execute("SELECT id, public_key FROM keys")}
        identity = conn.execute("SELECT public_key FROM keys WHERE role = 'identity'").fetchone()[0]
        items: dict[str, dict[str, list[str]]] = {}
        for case_id, record in conn.execute("SELECT case_id, record FROM items"):
            item = json.loads(record)
            items.setdefault(case_id, {})[item["item"]] = sorted(f["sha256"] for f in item["files"])
        log: dict[str, list[tuple[int, str, str]]] = {}
        for case_id, seq, body, signature in conn.execute(
                "SELECT case_id, seq, body, signature FROM log_entries ORDER BY case_id, seq"):
            log.setdefault(case_id, []).append((seq, json.loads(body)["action"], bytes(signature).hex()))
        cases = {case_id: CaseContents(bool(anonymous), keys[key_id], items.get(case_id, {}), log[case_id])
                 for case_id, anonymous, key_id in conn.execute("SELECT id, anonymous, key_id FROM cases")}
        recipients = dict(conn.execute("SELECT name, public_key FROM recipients").fetchall())
    finally:
        conn.close()
    blobs = {f"{p.parent.name}/{p.name}": p.read_bytes() for p in (home / PLAIN_BLOBS).glob("??/*")}
    return OldLocker(Contents(bytes(identity), cases, recipients), tables, blobs)


def _raw(public_key: str) -> bytes:
    """A public key as ``keys show`` prints it (minisign: algorithm, key id, key), the key alone."""
    return base64.b64decode(public_key)[-32:]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


Exported = dict[tuple[str, str], list[str]]  # (case, item label) -> SHA-256 of the exported files, sorted


def contents_by_cli(home: Path, out: Path) -> tuple[Contents, Exported]:
    """The upgraded locker as the worker sees it: ``keys show``, ``case list``, ``list``, ``log``,
    ``recipients list`` and ``export`` of every item."""
    env = quiet_locker_env(home)

    def answer(*args: str | Path) -> Any:
        result = run_cli(*args, "--json", env=env)
        assert result.code == 0, (args, result.err)
        return result.json()

    identity = _raw(answer("keys", "show")["public_key"])
    recipients = {r["name"]: r["public_key"] for r in answer("recipients", "list")}
    cases, exported = {}, {}
    for case in answer("case", "list"):
        items = {}
        for item in answer("list", "--case", case["id"]):
            items[item["id"]] = sorted(f["sha256"] for f in item["files"])
            written = answer("export", item["id"], "--case", case["id"], "-o", out / case["id"] / item["id"])
            exported[(case["id"], item["id"])] = sorted(_sha256(Path(p)) for p in written)
        log = [(e["seq"], e["action"], e["signature"]) for e in answer("log", "--case", case["id"])]
        cases[case["id"]] = CaseContents(case["anonymous"], _raw(case["key"]["public_key"]), items, log)
    return Contents(identity, cases, recipients), exported


def contents_by_library(home: Path, out: Path) -> tuple[Contents, Exported]:
    """The same through the library in this process: quick enough for every trial of a campaign."""
    cases, exported = {}, {}
    with Locker.open(home, PASSPHRASE) as locker:
        identity = _raw(locker.identity().public_key)
        recipients = {name: key.public_key for name, key in locker.recipients()}
        for case in locker.cases():
            items = {}
            for item in locker.items(case.id):
                items[item.label] = sorted(f.sha256 for f in item.files)
                written = locker.export_item(item.label, out / case.id / item.label, case.id)
                exported[(case.id, item.label)] = sorted(_sha256(p) for p in written)
            log = [(e.seq, e.action, e.signature) for e in locker.log(case.id)]
            cases[case.id] = CaseContents(case.anonymous, _raw(case.key.public_key), items, log)
    return Contents(identity, cases, recipients), exported


def assert_upgraded(home: Path, before: OldLocker, after: Contents, exported: Exported) -> None:
    """Every case, item, file, key, recipient and log entry of the old locker, each log ending with
    the upgrade; nothing left of the old locker."""
    old = before.contents
    assert after.identity == old.identity
    assert after.recipients == old.recipients
    assert after.cases.keys() == old.cases.keys()
    for case_id, was in old.cases.items():
        now = after.cases[case_id]
        assert (now.anonymous, now.key, now.items) == (was.anonymous, was.key, was.items), case_id
        assert now.log[:-1] == was.log and now.log[-1][:2] == (len(was.log) + 1, "locker.upgrade"), now.log
        for label, digests in was.items.items():
            assert exported[(case_id, label)] == digests, (case_id, label)
    assert [name for name in PLAIN_LEFTOVERS if (home / name).exists()] == []


def assert_checks(home: Path) -> None:
    result = run_cli("check", "--all", env=quiet_locker_env(home))
    assert result.code == 0, result.out + result.err


def assert_old_untouched(home: Path, before: OldLocker) -> None:
    """No ``locker.key``, and the old database's rows and every old blob exactly as they were."""
    assert not (home / KEY).exists(), sorted(p.name for p in home.iterdir())
    now = read_old(home)
    assert now.tables == before.tables
    assert now.blobs.keys() == before.blobs.keys()
    for name, data in before.blobs.items():
        assert now.blobs[name] == data, name


def upgrade_env(home: Path) -> dict[str, str]:
    return {**os.environ, **quiet_locker_env(home)}


def signal_after_rename(home: Path, name: str,
                        sent: signal.Signals = signal.SIGKILL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SIGNAL_AFTER_RENAME, name, sent.name], env=upgrade_env(home),
                          capture_output=True, text=True, timeout=300)


def kill_after_rename(home: Path, name: str) -> None:
    killed = signal_after_rename(home, name)
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def readable_words(home: Path) -> set[bytes]:
    """The secret words found as they are in any file of the locker folder."""
    files = [path.read_bytes() for path in home.rglob("*") if path.is_file()]
    return {word for word in SECRET_WORDS if any(word in data for data in files)}


def one_sentence(err: str) -> str:
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.fixture
def old_home(tmp_path: Path) -> Path:
    return old_locker(tmp_path)


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> OldLocker:
    """The old locker as 0.1.0 left it (every copy is the same)."""
    return read_old(old_locker(tmp_path_factory.mktemp("reference")))


# the whole upgrade ----------------------------------------------------------------------------


def test_the_test_locker_is_what_its_readme_says(before: OldLocker) -> None:
    """The comparisons below are only worth something if the old locker holds what they compare."""
    assert all(hashlib.sha256(data).hexdigest() == name[3:] for name, data in before.blobs.items())
    cases = before.contents.cases
    assert sorted(len(c.items) for c in cases.values()) == [1, 5]
    assert sorted(len(c.log) for c in cases.values()) == [2, 9]
    assert {f"{sha[:2]}/{sha}" for c in cases.values() for files in c.items.values() for sha in files} \
        == before.blobs.keys()
    anonymous = [c for c in cases.values() if c.anonymous]
    assert len(anonymous) == 1 and anonymous[0].key != before.contents.identity
    assert "bundle.seal" in [action for c in cases.values() for _, action, _ in c.log]
    assert list(before.contents.recipients) == ["Advokat Kari Nilsen"]


def test_upgrade_keeps_every_item_key_recipient_and_seal(old_home: Path, before: OldLocker, tmp_path: Path) -> None:
    env = quiet_locker_env(old_home)
    assert readable_words(old_home) == set(SECRET_WORDS)
    result = run_cli("upgrade", env=env)
    assert result.code == 0, result.err
    assert one_sentence(result.out).startswith("The locker is now encrypted at rest: 2 cases and their stored files (8)")
    assert (old_home / KEY).is_file() and (old_home / DATABASE).is_file() and (old_home / BLOBS).is_dir()
    assert_checks(old_home)
    after, exported = contents_by_cli(old_home, tmp_path / "exported")
    assert_upgraded(old_home, before, after, exported)
    sealed = [entry for case in after.cases.values() for entry in case.log if entry[1] == "bundle.seal"]
    assert len(sealed) == 1
    assert readable_words(old_home) == set()  # encrypted at rest

    bundle = tmp_path / "after-upgrade.zip"
    assert run_cli("seal", "--plain", "--no-report", "--no-stamp", "-o", bundle, env=env).code == 0
    verified = run_cli("verify", bundle, "--json", env=env)
    assert verified.code == 0, verified.out + verified.err
    verdict = verified.json()
    assert verdict["verdict"] in ("valid", "valid_with_warnings")
    assert _raw(verdict["signer"]["public_key"]) == before.contents.identity
    assert all(check["status"] != "error" for check in verdict["checks"])


def test_a_blob_damaged_before_the_upgrade_stays_damaged(old_home: Path, before: OldLocker) -> None:
    """The upgrade re-seals the bytes as they are: a changed old blob must not become a "missing"
    one (nor, worse, pass), so ``check`` says after the upgrade what it said before."""
    env = quiet_locker_env(old_home)
    name, data = next((name, data) for name, data in sorted(before.blobs.items()) if data.startswith(b"Message"))
    damaged = old_home / PLAIN_BLOBS / name
    damaged.chmod(0o600)
    damaged.write_bytes(data.replace(b"worthless", b"WORTHLESS"))
    assert run_cli("upgrade", env=env).code == 0
    checked = run_cli("check", "--all", "--json", env=env)
    assert checked.code == 1, checked.out + checked.err
    problems = [problem for case in checked.json() for problem in case["problems"]]
    assert [problem["code"] for problem in problems] == ["blob_changed"], problems
    assert problems[0]["sha256"] == name.split("/")[1]


def test_upgrade_json(old_home: Path, before: OldLocker) -> None:
    result = run_cli("upgrade", "--json", env=quiet_locker_env(old_home))
    assert result.code == 0, result.err
    assert result.json() == {"upgraded": True, "cases": 2, "blobs": len(before.blobs),
                             "bytes": sum(len(data) for data in before.blobs.values())}


@pytest.mark.parametrize(("lang", "example"), [("en", "Example:"), ("nb", "Eksempel:")])
def test_upgrade_help_has_an_example(lang: str, example: str) -> None:
    result = run_cli("--lang", lang, "upgrade", "--help")
    assert result.code == 0
    assert example in result.out and "evidencekit upgrade" in result.out, result.out


# refusals --------------------------------------------------------------------------------------


def test_a_wrong_passphrase_changes_nothing(old_home: Path, before: OldLocker) -> None:
    result = run_cli("upgrade", env={**quiet_locker_env(old_home), "EVIDENCEKIT_PASSPHRASE": "wrong horse battery"})
    assert result.code == 2
    assert "passphrase is wrong" in one_sentence(result.err)
    assert_old_untouched(old_home, before)
    assert [name for name in (DATABASE, BLOBS, STAGING) if (old_home / name).exists()] == []


def test_without_a_passphrase_and_no_terminal_it_says_how_to_give_one(old_home: Path, before: OldLocker,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE", raising=False)
    env = {name: value for name, value in quiet_locker_env(old_home).items() if name != "EVIDENCEKIT_PASSPHRASE"}
    result = run_cli("upgrade", env=env, stdin=subprocess.DEVNULL)
    assert result.code == 2
    said = one_sentence(result.err)
    assert "EVIDENCEKIT_PASSPHRASE" in said and "unlock" not in said  # unlock cannot open an old locker
    assert_old_untouched(old_home, before)


def test_an_encrypted_locker_is_upgraded_already(old_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = quiet_locker_env(old_home)
    assert run_cli("upgrade", env=env).code == 0
    for passphrase in (PASSPHRASE, "wrong horse battery"):
        again = run_cli("upgrade", env={**env, "EVIDENCEKIT_PASSPHRASE": passphrase})
        assert again.code == 2 and "encrypted already" in one_sentence(again.err), again.err
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE", raising=False)  # nothing to ask for: it says so at once
    unasked = {name: value for name, value in env.items() if name != "EVIDENCEKIT_PASSPHRASE"}
    again = run_cli("upgrade", env=unasked, stdin=subprocess.DEVNULL)
    assert again.code == 2 and "encrypted already" in one_sentence(again.err), again.err


@pytest.mark.parametrize("command", [("list",), ("add", "{file}"), ("note", "they shouted again"),
                                     ("check", "--all"), ("init", "--kdf", "interactive"), ("unlock",)],
                         ids=lambda command: command[0])
def test_an_old_locker_given_to_another_command_says_upgrade(old_home: Path, before: OldLocker, tmp_path: Path,
                                                             command: tuple[str, ...]) -> None:
    evidence = tmp_path / "screenshot.txt"
    evidence.write_text("a new message")
    listing = sorted(p.relative_to(old_home) for p in old_home.rglob("*"))
    result = run_cli(*(part.format(file=evidence) for part in command), env=quiet_locker_env(old_home),
                     stdin=subprocess.DEVNULL)
    assert result.code == 2
    assert "evidencekit upgrade" in one_sentence(result.err)
    assert sorted(p.relative_to(old_home) for p in old_home.rglob("*")) == listing
    assert_old_untouched(old_home, before)


@pytest.mark.parametrize("left_kb", [0, 1024, 3072, 4608, 12288])
def test_a_full_disk_is_refused_at_once_and_changes_nothing(small_disk: Path, tmp_path: Path,  # noqa: F811
                                                            left_kb: int) -> None:
    home = old_locker(small_disk)
    orphan = os.urandom(3 << 20)  # a blob of the old store no item names: the new one needs room for it too
    digest = hashlib.sha256(orphan).hexdigest()
    (home / PLAIN_BLOBS / digest[:2]).mkdir(exist_ok=True)
    (home / PLAIN_BLOBS / digest[:2] / digest).write_bytes(orphan)
    before = read_old(home)
    filler = _fill(small_disk, left_kb << 10)
    result = run_cli("upgrade", env=quiet_locker_env(home))
    if result.code != 0:
        assert left_kb < 12288, result.err  # four times the old locker: room enough
        _says_disk_full(result, home)
        assert_old_untouched(home, before)
        assert [name for name in (DATABASE, BLOBS, STAGING) if (home / name).exists()] == []
        filler.unlink()
        assert run_cli("upgrade", env=quiet_locker_env(home)).code == 0
    assert_checks(home)
    assert_upgraded(home, before, *contents_by_library(home, tmp_path / "exported"))


# SIGKILL ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("renamed", [BLOBS, DATABASE])
def test_killed_before_the_switch_the_old_locker_stays_and_the_next_upgrade_clears_the_new(
        old_home: Path, before: OldLocker, tmp_path: Path, renamed: str) -> None:
    kill_after_rename(old_home, renamed)
    assert_old_untouched(old_home, before)
    assert (old_home / renamed).exists() and (old_home / STAGING).is_dir()  # what the kill left
    stale = {p.name for p in (old_home / BLOBS).rglob("*")}

    refused = run_cli("list", env=quiet_locker_env(old_home))
    assert refused.code == 2 and "evidencekit upgrade" in one_sentence(refused.err)
    assert_old_untouched(old_home, before)

    assert run_cli("upgrade", env=quiet_locker_env(old_home)).code == 0
    assert not (old_home / STAGING).exists()
    assert stale & {p.name for p in (old_home / BLOBS).glob("??/*")} == set()  # none of the killed run's blobs
    assert_checks(old_home)
    assert_upgraded(old_home, before, *contents_by_library(old_home, tmp_path / "exported"))


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=lambda sent: sent.name)
def test_interrupted_before_the_switch_it_removes_what_it_built(old_home: Path, before: OldLocker,
                                                                sent: signal.Signals) -> None:
    """Ctrl-C or a polite stop (not a kill) leaves the old locker alone, with nothing beside it."""
    stopped = signal_after_rename(old_home, DATABASE, sent)
    assert stopped.returncode == 130, stopped.stderr
    one_sentence(stopped.stderr)
    assert_old_untouched(old_home, before)
    assert [name for name in (DATABASE, BLOBS, STAGING) if (old_home / name).exists()] == []


@pytest.mark.parametrize("next_command", [("list",), ("upgrade",)], ids=lambda command: command[0])
def test_killed_right_after_the_switch_the_next_command_clears_the_old(
        old_home: Path, before: OldLocker, tmp_path: Path, next_command: tuple[str, ...]) -> None:
    kill_after_rename(old_home, KEY)
    assert (old_home / DATABASE).is_file() and (old_home / BLOBS).is_dir()
    assert (old_home / PLAIN_DATABASE).is_file() and (old_home / PLAIN_BLOBS).is_dir()  # what the kill left

    result = run_cli(*next_command, env=quiet_locker_env(old_home))
    assert result.code == (2 if next_command == ("upgrade",) else 0), result.err  # upgrade: "already"
    assert [name for name in PLAIN_LEFTOVERS if (old_home / name).exists()] == []
    assert_checks(old_home)
    assert_upgraded(old_home, before, *contents_by_library(old_home, tmp_path / "exported"))


def _after_kill(home: Path, before: OldLocker) -> str:
    """``"old"`` or ``"new"``: which locker the folder holds, checked whole; anything else fails."""
    if not (home / KEY).exists():
        assert_old_untouched(home, before)
        return "old"
    assert (home / DATABASE).is_file() and (home / BLOBS).is_dir(), sorted(p.name for p in home.iterdir())
    assert_checks(home)  # at once, with nothing run before it
    return "new"


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_the_old_locker_or_the_new_one(tmp_path: Path, before: OldLocker,
                                                                        request: pytest.FixtureRequest) -> None:
    full_run = timed_run("upgrade", env=upgrade_env(old_locker(tmp_path / "measured")))
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    for trial in range(campaign_size(request, 6)):
        # spread over the whole run (most of it is start-up and the KDF), every third near its end
        share = rng.uniform(0.85, 1.05) if trial % 3 == 2 else rng.uniform(0.0, 1.05)
        home = old_locker(tmp_path / f"trial-{trial}")
        try:
            kill_after(start_cli("upgrade", env=upgrade_env(home)), share * full_run)
            outcome = _after_kill(home, before)
            outcomes[outcome] += 1
            if outcome == "old":
                finished = run_cli("upgrade", env=quiet_locker_env(home))
                assert finished.code == 0, finished.err
                assert_checks(home)
            assert_upgraded(home, before, *contents_by_library(home, tmp_path / f"exported-{trial}"))
        except AssertionError as failure:
            raise AssertionError(f"seed {SEED}, trial {trial}: killed {share:.2f} into a run of {full_run:.2f} s: "
                                 f"{failure}") from failure
        shutil.rmtree(home.parent)
    print(f"killed upgrades (seed {SEED}): {dict(outcomes)}")
