"""``evidencekit doctor`` names each piece and, for a broken one, the command that fixes it.

Each test breaks one real thing (a connector removed, no browser on PATH, evidence changed in
the locker, a locker that is no database, a locker not unlocked, a locker of an earlier version)
in a temporary HOME and reads what doctor says.
"""

from __future__ import annotations

import os
import stat
import tarfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import run_cli
from locker_files import blob_file
from evidencekit._internal import layout
from evidencekit._internal.demo_site import serve_loopback
from evidencekit._internal.native_host import HOST_NAME
from extension_support import chromium_only_home


@pytest.fixture
def worker(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A set-up worker: HOME with the real Chromium the only browser on PATH, identity, connector."""
    user = chromium_only_home(tmp_path, monkeypatch)
    assert run_cli("setup", "--yes", "--kdf", "interactive").code == 0
    return user


def failing(result_json: dict) -> dict[str, dict]:
    return {c["piece"]: c for c in result_json["checks"] if c["status"] == "fail"}


def test_all_green_after_setup(worker: Path) -> None:
    result = run_cli("doctor", "--json")
    assert result.code == 0, result.out
    assert result.json()["healthy"] and failing(result.json()) == {}
    human = run_cli("doctor")
    assert human.code == 0 and human.out.strip().splitlines()[-1] == "Everything is in place."
    assert "Chromium: connector in place" in human.out
    browser = next(c for c in run_cli("doctor", "--json").json()["checks"] if c["piece"] == "browser")
    assert browser["facts"]["version"].startswith("Chromium ")  # asked once, then remembered for this build
    assert browser["facts"]["version"] in (worker / ".cache" / "evidencekit" / "browser-versions.json").read_text()


def test_a_removed_connector_is_named_with_its_fix(worker: Path) -> None:
    (worker / ".config" / "chromium" / "NativeMessagingHosts" / f"{HOST_NAME}.json").unlink()
    result = run_cli("doctor")
    assert result.code == 1
    lines = result.out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL") and "Chromium" in line)
    assert "the connector to evidencekit is not installed" in lines[at]
    assert lines[at + 1].strip() == "fix: evidencekit extension install --browser chromium"
    assert run_cli("extension", "install", "--browser", "chromium").code == 0  # the fix it named works
    assert run_cli("doctor").code == 0


def test_a_connector_of_another_installation_is_named(worker: Path) -> None:
    launcher = worker / ".config" / "chromium" / "NativeMessagingHosts" / "evidencekit-native-host"
    launcher.write_text(launcher.read_text().replace("-m evidencekit", "-m someone_else"))
    found = failing(run_cli("doctor", "--json").json())
    assert found["connector.chromium"]["fix"] == "evidencekit extension install --browser chromium"
    assert "belongs to another evidencekit installation" in found["connector.chromium"]["message"]


def test_a_missing_browser_is_named_with_its_fix(worker: Path, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = run_cli("doctor", "--json")
    assert result.code == 1
    found = failing(result.json())
    assert set(found) == {"browser"}
    assert found["browser"]["fix"] == "sudo apt-get install chromium"
    assert found["browser"]["message"].startswith("No browser to capture web pages with:")
    assert not any(c["piece"].startswith("connector.") for c in result.json()["checks"])  # no browser, no connector


def test_changed_evidence_in_the_locker_is_named(worker: Path, home: Path, tmp_path: Path) -> None:
    assert run_cli("case", "new", "Doctor case").code == 0
    note = tmp_path / "note.txt"
    note.write_text("evidence\n")
    assert run_cli("add", note, "--no-stamp").code == 0
    sha = run_cli("show", "E-001", "--json").json()["files"][0]["sha256"]
    blob = blob_file(home, sha)
    os.chmod(blob, stat.S_IRUSR | stat.S_IWUSR)
    blob.write_bytes(b"changed\n")
    result = run_cli("doctor")
    assert result.code == 1
    lines = result.out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL") and "The locker at" in line)
    assert "has problems (1 in all) in: Doctor case" in lines[at]
    assert lines[at + 1].strip() == "fix: evidencekit check --all"
    assert run_cli("check", "--all").code == 1  # which names the changed file


def test_a_locker_that_is_no_database_is_named(worker: Path, home: Path) -> None:
    (home / layout.DATABASE).write_bytes(b"this is not a database" * 100)
    result = run_cli("doctor", "--json")
    assert result.code == 1 and "Traceback" not in result.err
    locker = failing(result.json())["locker"]
    assert locker["message"].startswith(f"The locker at {home} cannot be opened:")
    assert locker["fix"] == "evidencekit check --all"


def test_a_locked_locker_is_a_note_pointing_at_unlock(worker: Path, home: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")  # and no unlock in this login session for this locker
    result = run_cli("doctor")
    assert result.code == 0, result.out  # locked is how an encrypted locker rests: nothing to fix
    lines = result.out.splitlines()
    at = next(i for i, line in enumerate(lines) if "The locker at" in line)
    assert lines[at].startswith("note") and f"{home} is locked" in lines[at]
    assert lines[at + 1].strip() == "fix: evidencekit unlock"
    assert not any(line.startswith("FAIL") for line in lines)
    pieces = [c["piece"] for c in run_cli("doctor", "--json").json()["checks"]]
    assert "keys" not in pieces and "timestamps" not in pieces  # its contents are not read without the passphrase


def test_a_wrong_passphrase_is_named_as_such(worker: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", "not the passphrase")
    result = run_cli("doctor", "--json")
    assert result.code == 1
    locker = failing(result.json())["locker"]
    assert locker["message"] == (f"The passphrase this command was given (by EVIDENCEKIT_PASSPHRASE or "
                                 f"evidencekit unlock) does not open the locker at {home}.")
    assert locker["fix"] is None  # not "check --all": nothing in the locker is wrong


def test_a_locker_of_an_earlier_version_points_at_upgrade(home: Path, tmp_path: Path) -> None:
    with tarfile.open(Path(__file__).parent / "previous_locker" / "locker-0.1.0.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")  # its folder is locker/, the home fixture's
    result = run_cli("doctor")
    lines = result.out.splitlines()
    at = next(i for i, line in enumerate(lines) if "The locker at" in line)
    assert result.code == 1 and lines[at].startswith("FAIL")
    assert "made by an earlier version and is not encrypted yet" in lines[at]
    assert lines[at + 1].strip() == "fix: evidencekit upgrade"
    assert run_cli("upgrade").code == 0  # the fix it named works
    locker = next(c for c in run_cli("doctor", "--json").json()["checks"] if c["piece"] == "locker")
    assert locker["status"] == "ok" and locker["facts"]["count"] == 2


def test_no_locker_yet_points_at_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("HOME", str(tmp_path))
    found = failing(run_cli("doctor", "--json").json())
    assert found["locker"]["fix"] == "evidencekit setup"
    assert not (tmp_path / "nothing-here").exists()  # doctor looks, it does not create


class Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - any answer will do, as from a TSA that wants POST
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_online_asks_each_configured_server(worker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offline = run_cli("doctor", "--json").json()
    assert not any(c["piece"].startswith("server.") for c in offline["checks"])  # no traffic unless asked
    with serve_loopback(Answers) as closed_later:
        pass  # a port that answered once and is closed now: nothing listens there
    with serve_loopback(Answers) as base:
        monkeypatch.setenv("EVIDENCEKIT_TSA_URLS", f"{base}/tsa,{closed_later}/tsa")
        monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", "")
        result = run_cli("doctor", "--online", "--json")
    servers = [c for c in result.json()["checks"] if c["piece"].startswith("server.")]
    assert [(c["status"], c["facts"]["url"]) for c in servers] == [("ok", f"{base}/tsa"),
                                                                   ("warn", f"{closed_later}/tsa")]
    assert result.code == 0  # one silent server is a note: the other stands in for it
