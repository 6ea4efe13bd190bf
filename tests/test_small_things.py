"""Small things a person trips on: the key line pasted whole, init before any passphrase, upgrade
before any passphrase, a typo in the passphrase, Ctrl-C during a capture, and a verdict that does
not contradict itself."""

from __future__ import annotations

import http.server
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PASSPHRASE, run_cli


def on_terminal(args: list[str], answers: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal, answering each passphrase prompt with the next answer; the
    passphrase is never taken from the environment."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI, as from a terminal
        typed_env = {k: v for k, v in os.environ.items() if k != "EVIDENCEKIT_PASSPHRASE"}
        os.execve(sys.executable, [sys.executable, "-m", "evidencekit", *args], {**typed_env, **env})
    said, pending, deadline = b"", list(answers), time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal: it is done
            break
        if not chunk:
            break
        said += chunk
        if chunk.rstrip().endswith(b":") and pending:  # "Passphrase:", "Passordfrase:"
            os.write(fd, pending.pop(0).encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), said.decode("utf-8", "replace").replace("\r\n", "\n")


def no_passphrase(home: Path) -> dict[str, str]:
    return {"EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_LANG": "en"}


def test_recipients_add_takes_the_line_keys_show_printed(case_home: Path) -> None:
    shown = run_cli("keys", "show").out.splitlines()
    line = next(row for row in shown if "Public key:" in row)
    key = line.split(":", 1)[1].strip()
    assert run_cli("recipients", "add", "union", line).code == 0  # label and all, as copied
    assert run_cli("recipients", "add", "lawyer", *line.split()).code == 0  # pasted without quotes
    bokmal = run_cli("--lang", "nb", "keys", "show").out
    nb_line = next(row for row in bokmal.splitlines() if "Offentlig nøkkel:" in row)
    assert run_cli("recipients", "add", "verneombud", nb_line).code == 0
    listed = run_cli("recipients", "list", "--json").json()
    assert {entry["name"]: entry["public_key"] for entry in listed} == {"union": key, "lawyer": key, "verneombud": key}
    wrong = run_cli("recipients", "add", "other", line[:-3] + "AAA")
    assert wrong.code == 2 and "not an evidencekit public key" in wrong.err


def test_a_fingerprint_is_not_taken_for_a_key(case_home: Path) -> None:
    fingerprint = next(r for r in run_cli("keys", "show").out.splitlines() if "Fingerprint:" in r)
    assert run_cli("recipients", "add", "union", fingerprint).code == 2


@pytest.mark.parametrize("command", [["note", "He shouted"], ["case", "new", "Shop"], ["list"]])
def test_init_first_before_any_passphrase(tmp_path: Path, command: list[str]) -> None:
    code, said = on_terminal(command, [PASSPHRASE], no_passphrase(tmp_path / "locker"))
    assert code == 2, said
    assert said.strip() == "There is no identity key yet. Create one first with: evidencekit init"


@pytest.mark.parametrize("command", [["note", "He shouted"], ["list"]])
def test_upgrade_first_before_any_passphrase(tmp_path: Path, command: list[str]) -> None:
    """A locker of an earlier version is not asked to open: its passphrase would open nothing yet."""
    with tarfile.open(Path(__file__).parent / "previous_locker" / "locker-0.1.0.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")
    code, said = on_terminal(command, [PASSPHRASE], no_passphrase(tmp_path / "locker"))
    assert code == 2, said
    assert said.strip() == ("This locker was made by an earlier version of evidencekit and is not encrypted yet. "
                            "Encrypt it first with: evidencekit upgrade (it asks for your passphrase; nothing is lost).")


def test_a_wrong_passphrase_is_asked_again(case_home: Path) -> None:
    code, said = on_terminal(["note", "He shouted", "--no-stamp"], ["wrong", "still wrong", PASSPHRASE],
                             no_passphrase(case_home))
    assert code == 0, said
    assert said.count("Passphrase:") == 3
    assert "try again (tries left: 2)" in said and "try again (tries left: 1)" in said
    assert "Added E-001" in said


def test_three_wrong_passphrases_change_nothing(case_home: Path) -> None:
    code, said = on_terminal(["--lang", "nb", "note", "Han kjeftet", "--no-stamp"], ["a", "b", "c"],
                             no_passphrase(case_home))
    assert code == 2, said
    assert said.count("Passordfrase:") == 3
    assert said.strip().endswith("Passordfrasen er feil; ingenting ble endret.")
    assert run_cli("list", "--json").json() == []


class _NeverAnswers(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        time.sleep(30)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hanging_page() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NeverAnswers)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="no Chromium")
def test_ctrl_c_during_a_capture_prints_no_asyncio_noise(case_home: Path, hanging_page: str) -> None:
    """Ctrl-C reaches the terminal's whole process group: Python, Playwright's driver and Chromium."""
    capture = subprocess.Popen([sys.executable, "-m", "evidencekit", "capture", hanging_page, "--no-stamp"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    assert capture.stderr is not None
    said = ""
    while "Loading" not in said:  # the page is being loaded: the browser and its driver are running
        line = capture.stderr.readline()
        assert line, said
        said += line
    time.sleep(1)
    os.killpg(capture.pid, signal.SIGINT)
    said += capture.stderr.read()
    assert capture.wait(timeout=60) == 130
    assert said.strip().endswith("Stopped; nothing more was changed."), said
    for noise in ("Future exception was never retrieved", "Traceback", "Task was destroyed", "Exception"):
        assert noise not in said, said


def _tampered(bundle: Path, folder: Path, change) -> Path:
    with zipfile.ZipFile(bundle) as z:
        z.extractall(folder)
    change(folder)
    return folder


def _change_item_file(folder: Path) -> None:
    item_file = next(p for p in sorted((folder / "items").rglob("*")) if p.is_file())
    item_file.write_bytes(item_file.read_bytes() + b"changed")


def _renumber_log(folder: Path) -> None:
    log = folder / "custody-log.jsonl"
    log.write_text(log.read_text().replace('"seq":1,', '"seq":7,', 1))


@pytest.mark.parametrize("change", [_change_item_file, _renumber_log])
def test_verify_never_says_yes_under_a_no(case_home: Path, tmp_path: Path, change) -> None:
    assert run_cli("note", "He shouted", "--no-stamp").code == 0
    bundle = tmp_path / "case.zip"
    assert run_cli("seal", "--plain", "--no-report", "-o", bundle, "--no-stamp").code == 0
    verdict = run_cli("verify", _tampered(bundle, tmp_path / "opened", change))
    assert verdict.code == 1
    lines = [line.strip() for line in verdict.out.splitlines()]
    assert lines[0].startswith("INVALID") and any(line.startswith("✗") for line in lines)
    assert not any(line.startswith("✓ All") for line in lines), verdict.out  # "all items are exactly …"
    as_json = run_cli("verify", tmp_path / "opened", "--json").json()
    assert "items" not in {c["check"] for c in as_json["checks"] if c["status"] == "ok"}
