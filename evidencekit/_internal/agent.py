"""Unlock once per login session: a small agent process keeps the passphrase in memory only.

``evidencekit unlock`` checks the passphrase and hands it, through a pipe, to an agent process of
ours. The agent listens on a socket in a folder only its owner may enter (``$XDG_RUNTIME_DIR``, or
a private folder in the system's temporary folder) and answers a command of the same user in the
same login session; it ends on ``evidencekit lock``, after a time without being asked (the
``unlock_idle`` setting) and when the login session is over. Nothing of the passphrase is written
to disk, and the agent asks the kernel not to let other processes of the user read its memory.

Why a process of ours and not the kernel keyring: the keyring is often refused inside containers
and sandboxes (their system-call filters block it), its expiry is absolute rather than idle, and
whether a session keyring ends at logout depends on the system's PAM configuration. An agent
behaves the same everywhere Python runs on Linux.

What identifies a login session is read from the kernel, about the asking process, never taken
from what the client says: the audit session number (``/proc/PID/sessionid``), given at login by
``pam_loginuid`` and inherited by every process of that login, which the user cannot change; where
no login set one, the Unix session (its leader's process id and start time).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import select
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evidencekit.errors import LockerError

_UNSET = "4294967295"  # the kernel's "no audit session"
_POLL = 2.0  # seconds between checks that the login session still exists
_AGENT_MODULE = "evidencekit._internal.agent"
_PR_SET_DUMPABLE = 4


def login_session(pid: int | None = None) -> str:
    """The login session ``pid`` (default: this process) belongs to, as the kernel knows it."""
    where = str(pid) if pid else "self"
    try:
        audit = Path(f"/proc/{where}/sessionid").read_text().strip()
    except OSError:
        audit = _UNSET
    if audit and audit != _UNSET:
        return f"audit:{audit}"
    leader = os.getsid(pid or 0)
    return f"unix:{leader}:{_start_time(leader)}"


def _start_time(pid: int) -> str:
    """When ``pid`` started (clock ticks since boot): a process id reused later differs in this."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat_line.rpartition(")")[2].split()[19]


def _session_alive(session: str) -> bool:
    """Whether any process but an agent is still in ``session``: false once she has logged out."""
    kind, _, rest = session.partition(":")
    if kind == "unix":
        leader, _, started = rest.partition(":")
        return _start_time(int(leader)) == started
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "sessionid").read_text().strip() != rest:
                continue
            if _AGENT_MODULE.encode() not in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def runtime_folder(create: bool = True) -> Path | None:
    """The user's private folder for sockets, made if missing (with ``create``); one that anyone
    else owns or may enter is refused when creating and ignored when only looking (None)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "evidencekit" if base and Path(base).is_dir() else (
        Path(tempfile.gettempdir()) / f"evidencekit-{os.getuid()}")
    try:
        if create:
            folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        if not create:
            return None
        raise LockerError("agent.unsafe_folder", path=str(folder)) from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        if create:
            raise LockerError("agent.unsafe_folder", path=str(folder))
        return None
    return folder


def socket_path(home: Path, session: str | None = None, create: bool = False) -> Path | None:
    """Where the agent of this locker and login session listens (None: nowhere safe to look)."""
    folder = runtime_folder(create)
    if folder is None:
        return None
    tag = hashlib.sha256(f"{home.resolve()}\0{session or login_session()}".encode()).hexdigest()[:24]
    return folder / f"agent-{tag}.sock"


def _request(path: Path | None, request: dict[str, str], timeout: float = 5.0) -> dict[str, object] | None:
    """Ask the agent at ``path``; None when no agent answers there."""
    if path is None:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(path))
            conn.sendall(json.dumps(request).encode() + b"\n")
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    except OSError:
        return None
    try:
        reply = json.loads(answer)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None


def passphrase(home: Path) -> str | None:
    """The passphrase from this login session's unlock of the locker at ``home``, if there is one."""
    reply = _request(socket_path(home), {"op": "get"})
    value = reply.get("passphrase") if reply and reply.get("ok") else None
    return value if isinstance(value, str) else None


def lock(home: Path) -> bool:
    """End this login session's unlock of the locker at ``home``; whether there was one."""
    reply = _request(socket_path(home), {"op": "lock"})
    return bool(reply and reply.get("ok"))


def start(home: Path, secret: str, idle: float) -> None:
    """Start an agent holding ``secret`` for this login session, replacing an earlier one."""
    lock(home)
    session = login_session()
    path = socket_path(home, session, create=True)
    assert path is not None  # made, or refused with a reason
    agent = subprocess.Popen(
        [sys.executable, "-m", _AGENT_MODULE, str(path), session, repr(float(idle))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    assert agent.stdin is not None and agent.stdout is not None
    agent.stdin.write(secret.encode("utf-8"))
    agent.stdin.close()
    ready = agent.stdout.readline()
    agent.stdout.close()
    if ready.strip() != b"ready":
        agent.wait()
        raise LockerError("agent.not_started")


# the agent process itself ------------------------------------------------------------------------


def _serve(path: Path, session: str, idle: float, secret: str) -> None:
    """Answer requests until locked, idle for ``idle`` seconds, or the login session ends."""
    _not_dumpable()
    os.chdir("/")  # hold no folder of hers busy (an unmount, a removed USB stick)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    listener.listen(8)
    mine = path.stat().st_ino
    sys.stdout.write("ready\n")
    sys.stdout.close()
    last_use = time.monotonic()
    try:
        while True:
            left = idle - (time.monotonic() - last_use)
            if left <= 0 or not _session_alive(session):
                return
            readable, _, _ = select.select([listener], [], [], min(left, _POLL))
            if not readable:
                continue
            conn, _ = listener.accept()
            with conn:
                op = _answer(conn, session, secret)
            if op == "get":
                last_use = time.monotonic()
            elif op == "lock":
                return
    finally:
        listener.close()
        try:
            if path.stat().st_ino == mine:  # a newer agent may have taken the name meanwhile
                path.unlink()
        except OSError:
            pass


def _answer(conn: socket.socket, session: str, secret: str) -> str | None:
    """Serve one request if it comes from this user in this login session; the operation served."""
    conn.settimeout(2.0)
    pid, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    try:
        request = json.loads(conn.makefile("rb").readline())
        op = request.get("op") if isinstance(request, dict) else None
        if uid != os.getuid() or login_session(pid) != session:
            conn.sendall(json.dumps({"ok": False, "reason": "other_session"}).encode())
            return None
        reply: dict[str, object] = {"ok": True}
        if op == "get":
            reply["passphrase"] = secret
        elif op != "lock":
            reply = {"ok": False, "reason": "unknown_request"}
        conn.sendall(json.dumps(reply).encode())
        return str(op)
    except (OSError, ValueError):
        return None


def _not_dumpable() -> None:
    """No core dump and no reading of this process's memory by the user's other programs."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.stdin.buffer.read().decode("utf-8"))
