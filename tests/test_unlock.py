"""Unlock once per login session: the real agent process, real sockets, real login sessions.

The locker is encrypted, so a command that finds no passphrase says the locker is locked; after
``unlock`` the commands that read it and the ones that sign run without one, until ``lock``, the
idle timeout or logout.

A second login is made the way a real one is: a shell whose process writes its login uid, so the
kernel gives it a new audit session (what ``pam_loginuid`` does at login), or, where audit
sessions are not in use, a shell that is the leader of a new Unix session. A terminal is a shell
on a pseudo-terminal of its own, where a command asks for the passphrase and is answered.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import PASSPHRASE, Result, run_cli
from evidencekit._internal import agent
from evidencekit.i18n import t


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private runtime folder of its own (short: socket paths are limited to 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="ekrun-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    run_cli("lock")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def locked(case_home: Path, runtime: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A locker with a case, and no passphrase in the environment: only ``unlock`` can give it."""
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    return case_home


def unlock(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evidencekit", "unlock", "--json"], capture_output=True, text=True,
                          env={**os.environ, "EVIDENCEKIT_PASSPHRASE": PASSPHRASE, **env}, stdin=subprocess.DEVNULL)


def note(text: str = "seen at the meeting") -> int:
    return run_cli("note", text, "--no-stamp", stdin=subprocess.DEVNULL).code


def cli(*args: str | Path) -> Result:
    """A command as a script runs it: no terminal to ask on."""
    return run_cli(*args, stdin=subprocess.DEVNULL)


def says_locked(done: Result) -> bool:
    return done.code == 2 and done.err == t("locker.locked") + "\n"


def agents() -> list[Path]:
    return list((Path(os.environ["XDG_RUNTIME_DIR"]) / "evidencekit").glob("agent-*.sock"))


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_unlock_then_commands_need_no_passphrase_until_lock(locked: Path, runtime: Path, tmp_path: Path) -> None:
    assert says_locked(cli("list"))  # not interactive, no passphrase anywhere
    done = unlock()
    assert done.returncode == 0, done.stderr
    assert unlock().returncode == 0 and len(agents()) == 1  # unlocking again replaces the agent
    evidence = tmp_path / "message.txt"
    evidence.write_text("You are worthless.\n")
    signing = [("note", "seen at the meeting", "--no-stamp"), ("add", evidence, "--no-stamp"),
               ("case", "new", "Second case"), ("case", "use", "Test case"),
               ("seal", "--plain", "--no-report", "--no-stamp", "-o", tmp_path / "case.zip")]
    reading = [("list",), ("show", "E-001"), ("log",), ("timeline",), ("check", "--all"), ("keys", "show"),
               ("case", "list"), ("recipients", "list"), ("export", "E-002", "-o", tmp_path / "copy")]
    for command in (*signing, *reading):
        ran = cli(*command)
        assert ran.code == 0, (command, ran.err)
    assert (tmp_path / "copy" / "message.txt").read_text() == "You are worthless.\n"
    socket_folder = runtime / "evidencekit"
    assert socket_folder.stat().st_mode & 0o777 == 0o700
    for root in (locked, runtime):  # held in memory only: nowhere on disk
        for file in (p for p in root.rglob("*") if p.is_file()):
            assert PASSPHRASE.encode() not in file.read_bytes(), file
    locking = run_cli("lock", "--json")
    assert locking.json() == {"locked": True, "was_unlocked": True, "passphrase_in_environment": False}
    assert not agents()
    for command in (("list",), ("show", "E-001"), ("note", "after the lock", "--no-stamp")):
        assert says_locked(cli(*command)), command
    again = cli("lock")
    assert (again.code, again.out) == (0, t("agent.was_not_unlocked") + "\n")


def test_lock_says_the_locker_is_locked_and_what_still_opens_it(locked: Path, runtime: Path) -> None:
    assert unlock().returncode == 0
    done = cli("lock")
    assert (done.code, done.out) == (0, t("agent.locked") + "\n")
    assert "locked now" in done.out
    assert unlock().returncode == 0
    scripted = run_cli("--lang", "nb", "lock", env={"EVIDENCEKIT_PASSPHRASE": PASSPHRASE})
    assert scripted.out == t("agent.locked", "nb") + "\n" + t("agent.still_in_environment", "nb") + "\n"
    assert says_locked(cli("list"))


def test_unlock_without_a_terminal_says_where_to_type_the_passphrase(locked: Path) -> None:
    for lang in ("en", "nb"):
        done = run_cli("--lang", lang, "unlock", stdin=subprocess.DEVNULL)
        assert (done.code, done.err) == (2, t("agent.needs_terminal", lang) + "\n")
    assert not agents()


@pytest.mark.skipif(os.getuid() != 0, reason="trying as another user needs root to become one")
def test_another_user_of_the_machine_gets_nothing(locked: Path) -> None:
    assert unlock().returncode == 0
    (socket,) = agents()

    def knock_as_another_user() -> str:
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            try:
                os.setgid(65534)
                os.setuid(65534)
                os.write(write, repr(agent._request(socket, {"op": "get"})).encode())
            finally:
                os._exit(0)
        os.close(write)
        os.waitpid(child, 0)
        with os.fdopen(read) as answer:
            return answer.read()

    assert knock_as_another_user() == "None"  # the socket's folder is closed to everyone else
    for opened in (socket.parent.parent, socket.parent, socket):  # and were it opened, the agent asks the kernel who calls
        os.chmod(opened, 0o777)
    assert knock_as_another_user() == "{'ok': False, 'reason': 'other_session'}"
    assert says_locked(cli("list"))  # her own commands no longer trust a folder others may enter
    for closed, mode in ((socket.parent, 0o700), (socket, 0o600)):
        os.chmod(closed, mode)
    assert note() == 0


def test_a_wrong_passphrase_unlocks_nothing(locked: Path) -> None:
    refused = unlock(EVIDENCEKIT_PASSPHRASE="not the passphrase at all")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert not agents()
    assert says_locked(cli("list"))


def test_idle_timeout_locks(locked: Path) -> None:
    assert unlock(EVIDENCEKIT_UNLOCK_IDLE="3").returncode == 0
    assert note() == 0  # using it keeps it open ...
    assert cli("list").code == 0
    assert wait_for(lambda: not agents(), 20)  # ... leaving it idle ends it
    assert says_locked(cli("list"))
    assert says_locked(cli("note", "too late", "--no-stamp"))


def test_a_folder_others_may_enter_gets_no_passphrase(locked: Path, runtime: Path) -> None:
    (runtime / "evidencekit").mkdir(mode=0o755)
    os.chmod(runtime / "evidencekit", 0o755)
    refused = unlock()
    assert refused.returncode == 2
    assert "not private to you" in refused.stderr and "Traceback" not in refused.stderr
    assert says_locked(cli("note", "seen at the meeting"))  # such a folder is not even looked in


def _new_audit_login() -> None:
    """What pam_loginuid does at login: the kernel then starts a new audit session."""
    Path("/proc/self/loginuid").write_text(str(os.getuid()))


def _audit_logins_possible() -> bool:
    probe = subprocess.run([sys.executable, "-c", "open('/proc/self/loginuid','w').write('0');"
                            "print(open('/proc/self/sessionid').read())"], capture_output=True, text=True)
    return probe.returncode == 0 and probe.stdout.strip() not in ("", "4294967295")


class Login:
    """A shell in a login session of its own, fed commands one at a time."""

    def __init__(self, how: str) -> None:
        extra = {"preexec_fn": _new_audit_login} if how == "audit" else {"start_new_session": True}
        self.shell = subprocess.Popen(["sh"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      env=dict(os.environ), **extra)

    def run(self, command: str) -> tuple[int, str]:
        """Run ``command`` in this login; its exit code and last line of output."""
        assert self.shell.stdin and self.shell.stdout
        self.shell.stdin.write(f"{command} 2>/dev/null; echo \"rc=$?\"\n")
        self.shell.stdin.flush()
        lines = []
        while not (line := self.shell.stdout.readline()).startswith("rc="):
            lines.append(line)
        return int(line[3:]), "".join(lines).strip()

    def logout(self) -> None:
        assert self.shell.stdin
        self.shell.stdin.close()
        self.shell.wait(10)


def _evidencekit(*args: str) -> str:
    return shlex.join([sys.executable, "-m", "evidencekit", *args]) + " </dev/null"


@pytest.mark.parametrize("how", ["audit", "unix"])
def test_a_second_login_session_cannot_use_the_first_ones_unlock(locked: Path, how: str) -> None:
    if how == "audit" and not _audit_logins_possible():
        pytest.skip("this system does not let a process start an audit login session (needs CAP_AUDIT_CONTROL)")
    if how == "unix" and agent.login_session().startswith("audit:"):
        pytest.skip("the tests run inside an audit login session: new Unix sessions belong to the same login")
    first, second = Login(how), Login(how)
    try:
        code, _ = first.run(f"EVIDENCEKIT_PASSPHRASE={shlex.quote(PASSPHRASE)} " + _evidencekit("unlock"))
        assert code == 0
        assert first.run(_evidencekit("note", "in the first login", "--no-stamp"))[0] == 0
        assert second.run(_evidencekit("note", "in the second login", "--no-stamp"))[0] == 2
        # even knocking on the first login's own socket gets nothing: the agent asks the kernel who calls
        _, session = first.run(f"{sys.executable} -c 'from evidencekit._internal import agent; print(agent.login_session())'")
        ask = ("from evidencekit._internal import agent; from pathlib import Path; import sys;"
               f"print(agent._request(agent.socket_path(Path({str(locked)!r}), {session!r}), {{'op': 'get'}}))")
        _, answer = second.run(shlex.join([sys.executable, "-c", ask]))
        assert answer == "{'ok': False, 'reason': 'other_session'}"
        assert first.run(_evidencekit("note", "still the first login", "--no-stamp"))[0] == 0
    finally:
        second.logout()
        first.logout()
    assert wait_for(lambda: not agents())  # logging out ends the unlock
    assert says_locked(cli("list"))


class Terminal:
    """A shell on a pseudo-terminal of its own, as in a terminal window: it leads its own Unix
    session, and a command that asks for the passphrase asks on this terminal and is answered."""

    def __init__(self) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the shell, with no passphrase in its environment
            env = {k: v for k, v in os.environ.items() if k != "EVIDENCEKIT_PASSPHRASE"}
            os.execve("/bin/sh", ["sh"], {**env, "PS1": "", "PS2": ""})
        self.run("stty -echo")

    def run(self, command: str, answers: tuple[str, ...] = ()) -> tuple[int, str]:
        """Run ``command``, typing each answer at the next prompt (a line ending in ":"); its exit
        code and what the terminal showed."""
        os.write(self.fd, f'{command}; echo "rc=$?"\n'.encode())
        said, answered, pending = b"", 0, list(answers)
        deadline = time.monotonic() + 120
        while not (end := re.search(rb"rc=(\d+)\r?\n", said)) and time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.5)[0]:
                said += os.read(self.fd, 4096)
            if pending and said[answered:].rstrip().endswith(b":"):
                os.write(self.fd, pending.pop(0).encode() + b"\n")
                answered = len(said)
        assert end, said
        return int(end.group(1)), said[:end.start()].decode("utf-8", "replace")

    def close(self) -> None:
        os.close(self.fd)  # the shell gets a hangup: its login session is over
        os.waitpid(self.pid, 0)


def test_unlock_on_a_terminal_takes_the_passphrase_typed_not_an_earlier_unlocks(locked: Path) -> None:
    """An agent still holds the passphrase of the locker this folder held before (restored from a
    copy under another passphrase): ``unlock`` opens the locker with what she types now."""
    terminal = Terminal()
    try:
        code, _ = terminal.run(f"EVIDENCEKIT_PASSPHRASE={shlex.quote(PASSPHRASE)} " + _evidencekit("unlock"))
        assert code == 0
        new_passphrase = "violet tundra seashell quarrel"
        shutil.rmtree(locked)
        made = {"EVIDENCEKIT_PASSPHRASE": new_passphrase}
        assert run_cli("init", "--kdf", "interactive", env=made).code == 0
        assert run_cli("case", "new", "Restored case", env=made).code == 0
        code, shown = terminal.run(_evidencekit("unlock").removesuffix(" </dev/null"), (new_passphrase,))
        assert code == 0, shown
        assert t("agent.unlocked", minutes=30) in shown
        assert terminal.run(_evidencekit("note", "after the restore", "--no-stamp"))[0] == 0
        assert t("agent.locked") in terminal.run(_evidencekit("lock"))[1]
    finally:
        terminal.close()
