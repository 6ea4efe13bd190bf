"""The native-messaging host, spoken to as the browser does: length-prefixed JSON on its stdin.

Every refusal must come back as an error reply (one sentence, no traceback), store nothing, and
leave no work folder behind; a good capture must come out exactly as the CLI's capture stores it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSPHRASE, run_cli
from host_support import Conversation, frame, refused, talk
from locker_files import make_locker, open_locker, work_folders
from evidencekit._internal import layout
from evidencekit._internal.native_host.transfer import MAX_FILE

PAGE: dict[str, Any] = {
    "url": "https://chat.example.org/thread/42",
    "title": "Thread 42",
    "mode": "full",
    "startedAt": "2026-03-01T12:00:00.000Z",
    "finishedAt": "2026-03-01T12:00:01.250Z",
    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0",
    "language": "nb-NO",
    "browser": {"name": "Chromium", "version": "156"},
    "extension": {"id": "eopfhibapmcgopbnjjnmgppnjhbicfmc", "version": "0.1.0"},
    "viewport": {"width": 1280, "height": 713, "devicePixelRatio": 1.25, "scrollX": 0, "scrollY": 40},
    "document": {"width": 1280, "height": 3000},
    "fullPage": {"width": 1600, "height": 3750, "capturedHeight": 3000, "truncated": False,
                 "method": "debugger-device-metrics-override"},
    "mhtml": {"method": "pageCapture", "attempts": 2},
    "selection": None,
    "notes": [],
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One locker with an identity and a case for the whole module (each refusal must leave it as it was)."""
    home = tmp_path_factory.mktemp("host") / "locker"
    environment = {**os.environ, "EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
                   "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}
    with make_locker(home) as locker:
        locker.create_case("Test case", PASSPHRASE)
    return environment


@pytest.fixture
def home(env: dict[str, str]) -> Path:
    """The module's locker, checked to be unchanged by a test that expects a refusal."""
    return Path(env["EVIDENCEKIT_HOME"])


def capture(request: str, files: dict[str, bytes], *, chunk: int = 1024 * 1024, page: dict[str, Any] | None = None,
            **begin: Any) -> list[bytes]:
    """The frames of one whole capture: begin, every file's chunks in order, end."""
    declared = [{"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in files.items()]
    frames = [frame({"type": "begin", "id": request, "passphrase": PASSPHRASE, "page": page or PAGE,
                     "files": declared, **begin})]
    for name, data in files.items():
        for seq, at in enumerate(range(0, len(data), chunk)):
            frames.append(frame({"type": "chunk", "id": request, "file": name, "seq": seq,
                                 "data": base64.b64encode(data[at:at + chunk]).decode()}))
    frames.append(frame({"type": "end", "id": request}))
    return frames


def items(home: Path) -> list[str]:
    with open_locker(home) as locker:
        return [item.label for item in locker.items()]


@pytest.fixture
def unchanged(home: Path) -> Any:
    """The test refuses something: afterwards the case holds the same items and no work folder."""
    before = items(home)
    yield
    assert items(home) == before
    assert not work_folders(home)


@pytest.fixture(scope="module")
def png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (400, 1000), os.urandom(400 * 1000 * 3)).save(out, format="PNG")
    return out.getvalue()  # about 1.2 MB of noise: several 256 KiB chunks


def test_capture_is_stored_like_the_cli_does(env: dict[str, str], home: Path, png: bytes) -> None:
    files = {"page-full.png": png, "page-viewport.png": png[:1000] + b"x", "page.mhtml": b"MIME-Version: 1.0\r\n",
             "page-dom.html": "<html>blåbær</html>".encode(), "page-text.txt": b""}
    replies, code, err = talk(
        frame({"type": "hello", "id": "h1", "lang": "en-US"}), frame({"type": "cases", "id": "c1"}),
        *capture("cap-1", files, chunk=256 * 1024,
                 facts={"incidentDate": "2026-02-28T21:15..2026-02-28T22:00", "who": "client", "channel": "Work chat",
                        "note": "Threats", "where": "the shop floor", "person": "@boss42", "witnesses": ["Kari", "Ali"],
                        "reaction": "I told him to stop", "consequences": "changed shifts"}),
        env=env, args=("chrome-extension://eopfhibapmcgopbnjjnmgppnjhbicfmc/",))
    assert code == 0 and err == ""
    assert [r["type"] for r in replies] == ["hello", "cases", "ready", "stored", "stamped"], replies
    assert replies[1]["locker"] == "encrypted" and replies[1]["locked"] is False
    assert [c["title"] for c in replies[1]["cases"]] == ["Test case"]
    stored = replies[3]
    assert {f["name"]: f["sha256"] for f in stored["files"]} == {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}

    shown = run_cli("show", stored["item"], "--json", env=env).json()
    assert [f["name"] for f in shown["files"]] == list(files)  # the CLI capture's order
    assert shown["kind"] == "web"
    assert shown["incident"] == {"date": "2026-02-28T20:15:00.000000Z..2026-02-28T21:00:00.000000Z", "who": "client",
                                 "channel": "Work chat", "description": "Threats", "where": "the shop floor",
                                 "person": "@boss42", "witnesses": ["Kari", "Ali"], "reaction": "I told him to stop",
                                 "consequences": "changed shifts"}
    acquired = shown["acquired"]
    assert acquired["method"] == "web-capture-extension"
    assert acquired["format"] == "evidencekit-web-capture/1"
    assert acquired["final_url"] == PAGE["url"] and acquired["title"] == "Thread 42"
    assert acquired["viewport"] == {"width": 1280, "height": 713, "device_scale_factor": "1.25"}
    assert acquired["page"]["image_height"] == 3750 and acquired["page"]["truncated"] is False
    assert acquired["extension"]["origin"] == "chrome-extension://eopfhibapmcgopbnjjnmgppnjhbicfmc/"
    assert acquired["extension"]["mhtml_attempts"] == 2
    assert acquired["started"]["utc"] == "2026-03-01T12:00:00.000Z"
    assert acquired["http"]["status"] is None and acquired["tls"] is None  # unknown, not guessed
    assert run_cli("check", env=env).code == 0
    assert not work_folders(home)


def test_bogus_length_is_refused(env: dict[str, str], unchanged: None) -> None:
    replies, code, err = talk(struct.pack("=I", 0xFFFFFFF0) + b"{}", env=env)
    error = refused(replies, "extension.frame_too_large")
    assert error["id"] is None
    assert code == 2 and "Traceback" not in err


def test_truncated_frame_is_refused(env: dict[str, str], unchanged: None, png: bytes) -> None:
    whole = b"".join(capture("cap-1", {"page-full.png": png}))
    replies, code, _ = talk(whole[: len(whole) // 2], env=env)  # the browser died mid-capture
    refused(replies, "extension.frame_truncated")
    assert code == 2


def test_invalid_json_is_refused_and_the_port_stays_usable(env: dict[str, str], unchanged: None) -> None:
    replies, code, _ = talk(frame(b"{not json"), frame(b"[1, 2]"), frame({"type": "cases", "id": "c1"}), env=env)
    refused(replies[:1], "extension.bad_json")
    refused(replies[1:2], "extension.not_an_object")
    assert replies[2]["type"] == "cases" and code == 0


def test_unknown_case_is_refused_before_any_byte_moves(env: dict[str, str], unchanged: None, png: bytes) -> None:
    replies, _, _ = talk(*capture("cap-1", {"page-full.png": png}, caseId="no-such-case"), env=env)
    error = refused(replies, "cases.unknown")
    assert "no-such-case" in error["message"]
    # the chunks in flight are dropped quietly; the end gets the same answer again
    assert [r["type"] for r in replies] == ["error", "error"] and replies[1]["code"] == "cases.unknown"


def test_chunks_out_of_order_are_refused(env: dict[str, str], unchanged: None, png: bytes) -> None:
    frames = capture("cap-1", {"page-full.png": png}, chunk=256 * 1024)
    frames[1], frames[2] = frames[2], frames[1]
    replies, _, _ = talk(*frames, env=env)
    error = refused(replies, "extension.chunk_order")
    assert "expected piece 0, got 1" in error["message"]


def test_missing_chunk_is_refused(env: dict[str, str], unchanged: None, png: bytes) -> None:
    frames = capture("cap-1", {"page-full.png": png}, chunk=256 * 1024)
    del frames[-2]  # the last piece never arrives
    replies, _, _ = talk(*frames, env=env)
    refused(replies, "extension.chunks_missing")


def test_payload_over_the_limit_is_refused(env: dict[str, str], unchanged: None, png: bytes) -> None:
    huge = frame({"type": "begin", "id": "cap-1", "passphrase": PASSPHRASE, "page": PAGE,
                  "files": [{"name": "page-full.png", "size": MAX_FILE + 1, "sha256": "0" * 64}]})
    frames = capture("cap-2", {"page-full.png": png})
    begin = json.loads(frames[0][4:])
    begin["files"][0]["size"] = 1000  # announces less than it sends
    replies, _, _ = talk(huge, frame(begin), *frames[1:], env=env)
    refused(replies[:1], "extension.file_too_large")
    refused(replies[1:], "extension.chunk_beyond_size")


def test_changed_bytes_are_refused(env: dict[str, str], unchanged: None, png: bytes) -> None:
    frames = capture("cap-1", {"page-full.png": png})
    begin = json.loads(frames[0][4:])
    begin["files"][0]["sha256"] = hashlib.sha256(b"something else").hexdigest()
    replies, _, _ = talk(frame(begin), *frames[1:], env=env)
    refused(replies, "extension.digest_mismatch")


@pytest.mark.parametrize("name", ["../../outside.png", "/tmp/outside.png", "page-full.png/..", "evil.exe"])
def test_no_file_can_be_written_outside_the_locker(env: dict[str, str], home: Path, unchanged: None, png: bytes,
                                                    name: str) -> None:
    around = home.parent
    before = sorted(around.rglob("*"))
    replies, _, _ = talk(*capture("cap-1", {name: png}), env=env)
    refused(replies, "extension.unknown_file")
    assert sorted(around.rglob("*")) == before
    assert not Path("/tmp/outside.png").exists()


READING = ("items", "timeline", "recipients", "stamps", "key")  # requests that only read the locker


def cases_and_reading(when: str) -> list[bytes]:
    """``cases`` and every request of ``READING``, with ids ending in ``when``."""
    return [frame({"type": kind, "id": f"{kind}-{when}"}) for kind in ("cases", *READING)]


def test_locked_and_wrong_passphrase(env: dict[str, str], unchanged: None, png: bytes) -> None:
    """Without a passphrase the encrypted locker stays shut: ``cases`` says locked and shows no title,
    every request that reads the locker answers "locked"; a wrong passphrase is "wrong passphrase";
    after unlock the same requests answer, and ``lock`` shuts the locker again."""
    without = {k: v for k, v in env.items() if k != "EVIDENCEKIT_PASSPHRASE"}
    begin = json.loads(capture("cap-1", {"page-full.png": png})[0][4:])
    del begin["passphrase"]
    replies, code, err = talk(
        *cases_and_reading("before"), frame(begin), frame({"type": "note", "id": "n1", "text": "not stored"}),
        frame({"type": "unlock", "id": "u1", "passphrase": "wrong"}),
        frame({"type": "unlock", "id": "u2", "passphrase": PASSPHRASE}), *cases_and_reading("open"),
        frame({"type": "lock", "id": "l1"}), *cases_and_reading("after"), env=without)
    assert code == 0 and "Traceback" not in err
    by_id = {r["id"]: r for r in replies}
    for when in ("before", "after"):
        assert by_id[f"cases-{when}"] == {"type": "cases", "id": f"cases-{when}", "locker": "encrypted",
                                          "locked": True, "cases": []}
        for kind in READING:
            refused([by_id[f"{kind}-{when}"]], "extension.locked")
    before_unlock = replies[:replies.index(by_id["u2"])]
    assert "Test case" not in json.dumps(before_unlock)  # the titles are encrypted: none leaks while locked
    for request in ("cap-1", "n1"):
        assert refused([by_id[request]], "extension.locked")["message"].startswith("The locker is locked")
    refused([by_id["u1"]], "keys.wrong_passphrase")
    assert by_id["u2"]["type"] == "unlocked" and by_id["u2"]["case"]["title"] == "Test case"
    assert by_id["cases-open"]["locked"] is False and [c["title"] for c in by_id["cases-open"]["cases"]] == ["Test case"]
    assert [by_id[f"{kind}-open"]["type"] for kind in READING] == list(READING)
    assert by_id["l1"]["type"] == "locked"


def test_no_locker_yet_and_a_locker_to_upgrade_each_say_so(tmp_path: Path) -> None:
    """The first run (no locker) and a locker of an earlier version: ``cases`` names the state, and
    every other request says what to do in one sentence; the old locker is left as it was."""
    with tarfile.open(Path(__file__).parent / "previous_locker" / "locker-0.1.0.tar.gz") as archive:
        archive.extractall(tmp_path / "old", filter="data")
    old = tmp_path / "old" / "locker"
    before = sorted((p.relative_to(old), p.read_bytes()) for p in old.rglob("*") if p.is_file())
    for home, state, code in ((tmp_path / "none", "none", "keys.no_identity"), (old, "plain", "locker.needs_upgrade")):
        environment = {**os.environ, "EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
                       "EVIDENCEKIT_LANG": "en"}
        replies, exit_code, err = talk(frame({"type": "cases", "id": "c"}), frame({"type": "items", "id": "i"}),
                                       frame({"type": "unlock", "id": "u", "passphrase": PASSPHRASE}), env=environment)
        assert exit_code == 0 and "Traceback" not in err
        assert replies[0] == {"type": "cases", "id": "c", "locker": state, "locked": False, "cases": []}
        refused(replies[1:2], code)
        refused(replies[2:], code)
    assert sorted((p.relative_to(old), p.read_bytes()) for p in old.rglob("*") if p.is_file()) == before
    assert not (tmp_path / "none").exists()


def test_the_login_sessions_unlock_opens_the_host_and_lock_ends_it(env: dict[str, str]) -> None:
    """``evidencekit unlock`` in a terminal opens the locker for the browser too; ``evidencekit lock``
    shuts a running host's locker at its next request, and the page's ``lock`` ends the unlock."""
    runtime = Path(tempfile.mkdtemp(prefix="ekrun-", dir="/tmp"))  # a socket's path is at most 107 bytes
    session = {**env, "XDG_RUNTIME_DIR": str(runtime)}
    without = {k: v for k, v in session.items() if k != "EVIDENCEKIT_PASSPHRASE"}
    try:
        assert run_cli("unlock", env=session, stdin=subprocess.DEVNULL).code == 0
        host = Conversation(without)
        opened = host.ask({"type": "cases", "id": "c1"})
        assert opened["locked"] is False and [c["title"] for c in opened["cases"]] == ["Test case"]
        assert host.ask({"type": "key", "id": "k1"})["type"] == "key"
        assert run_cli("lock", "--json", env=without).json()["was_unlocked"] is True
        refused([host.ask({"type": "items", "id": "i1"})], "extension.locked")
        assert host.ask({"type": "cases", "id": "c2"})["locked"] is True
        assert run_cli("unlock", env=session, stdin=subprocess.DEVNULL).code == 0
        assert host.ask({"type": "items", "id": "i2"})["type"] == "items"
        assert host.ask({"type": "lock", "id": "l1"})["type"] == "locked"
        assert run_cli("lock", "--json", env=without).json()["was_unlocked"] is False  # the page's lock ended it
        refused([host.ask({"type": "items", "id": "i3"})], "extension.locked")
        code, err = host.close()
        assert code == 0 and "Traceback" not in err
    finally:
        run_cli("lock", env=without)
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.mark.parametrize("change", [
    {"page": {**PAGE, "cookies": "x"}},  # an unknown field is not signed into the record
    {"page": {**PAGE, "viewport": {**PAGE["viewport"], "width": 12.5}}},
    {"page": {**PAGE, "startedAt": "yesterday"}},
    {"facts": {"who": "boss"}},
    {"facts": {"witnesses": "Kari"}},  # a list, not a text
    {"files": []},
])
def test_messages_are_checked_against_the_schema(env: dict[str, str], unchanged: None, png: bytes,
                                                 change: dict[str, Any]) -> None:
    begin = {**json.loads(capture("cap-1", {"page-full.png": png})[0][4:]), **change}
    replies, code, _ = talk(frame(begin), frame({"type": "bogus", "id": "x1"}), frame({"type": "cases"}), env=env)
    refused(replies[:1], "extension.bad_field")
    refused(replies[1:2], "extension.unknown_type")
    refused(replies[2:3], "extension.bad_field")
    assert code == 0


def test_errors_read_in_the_browsers_language(env: dict[str, str], unchanged: None, png: bytes) -> None:
    replies, _, _ = talk(frame({"type": "hello", "id": "h1", "lang": "nb-NO"}),
                         *capture("cap-1", {"page-full.png": png}, caseId="finnes-ikke"), env=env)
    error = refused(replies[1:], "cases.unknown")
    assert error["message"].startswith("Det finnes ingen sak")


def test_work_folders_of_killed_hosts_are_removed(env: dict[str, str], home: Path) -> None:
    """A host killed mid-transfer leaves its work folder; the next host removes it, never a
    folder whose owner still runs."""
    from evidencekit._internal import workdir

    tmp = home / layout.BLOBS / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    killed = subprocess.run([sys.executable, "-c", (
        "import sys; from pathlib import Path; from evidencekit._internal import workdir; "
        "owned = workdir.Owned.create(Path(sys.argv[1]), 'work-'); "
        "(owned.path / 'page-full.png').write_bytes(b'half'); print(owned.path)"), str(tmp)],
        capture_output=True, text=True, check=True)
    abandoned = Path(killed.stdout.strip())
    assert abandoned.is_dir()
    running = workdir.Owned.create(tmp, "work-")  # this test process owns it, and runs
    try:
        replies, _, _ = talk(frame({"type": "cases", "id": "c1"}), env=env)
        assert replies[0]["type"] == "cases"
        assert not abandoned.exists() and running.path.exists()
    finally:
        running.remove()

