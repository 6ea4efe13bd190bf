"""The case page's requests to the native host, spoken as the browser does (frames on stdin).

Each request makes the same library call as the command line, so what it stores is checked with
the command line; every refusal is one sentence and leaves the case as it was, with no work folder.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from conftest import CORPUS, PASSPHRASE, run_cli
from host_support import AMBIGUOUS_CHAT, PINNED_ORIGIN, frame, refused, talk
from locker_files import make_locker, open_locker, work_folders
from evidencekit._internal import layout

@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "locker"
    environment = {**os.environ, "EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_LANG": "en",
                   "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": "",
                   "XDG_DOWNLOAD_DIR": str(tmp_path / "Downloads")}
    environment.pop("EVIDENCEKIT_PASSPHRASE", None)  # the page gives it, as the worker typed it
    with make_locker(home) as locker:
        locker.create_case("Work", PASSPHRASE)
    return environment


def with_passphrase(env: dict[str, str]) -> dict[str, str]:
    """The environment of a command run in a terminal to check what the page did: it gives the passphrase."""
    return {**env, "EVIDENCEKIT_PASSPHRASE": PASSPHRASE}


def upload(kind: str, request: str, files: dict[str, bytes], *, cut: int | None = None, **fields: Any) -> list[bytes]:
    """``add``/``import`` with its chunks and ``end``; with ``cut``, only that many chunks then ``abort``."""
    declared = [{"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in files.items()]
    frames = [frame({"type": kind, "id": request, "files": declared, **fields})]
    for name, data in files.items():
        for seq, at in enumerate(range(0, len(data), 64 * 1024)):
            frames.append(frame({"type": "chunk", "id": request, "file": name, "seq": seq,
                                 "data": base64.b64encode(data[at:at + 64 * 1024]).decode()}))
    if cut is not None:
        return [*frames[:1 + cut], frame({"type": "abort", "id": request})]
    return [*frames, frame({"type": "end", "id": request})]


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def reply(replies: list[dict[str, Any]], request: str, kind: str) -> dict[str, Any]:
    found = [r for r in replies if r["id"] == request and r["type"] == kind]
    assert found, [r for r in replies if r["id"] == request]
    return found[0]


def test_the_case_page_works_a_case_through_the_host(env: dict[str, str], tmp_path: Path) -> None:
    unlock = frame({"type": "unlock", "id": "u", "passphrase": PASSPHRASE})
    facts = {"incidentDate": "2026-03-02T14:30", "who": "colleague", "where": "the break room",
             "person": "Per", "witnesses": ["Kari", "Ali"], "reaction": "I said stop", "consequences": "sick leave",
             "note": "He shouted at me"}
    replies, code, err = talk(
        frame({"type": "hello", "id": "h", "lang": "nb-NO"}), unlock,
        frame({"type": "note", "id": "n", "text": "He shouted at me in front of customers.", "facts": facts}),
        *upload("add", "a", {"skjermbilde.png": picture(), "brev.pdf": b"%PDF-1.4\n%%EOF\n"},
                facts={"incidentDate": "2026-03-01", "channel": "Messenger"}),
        *upload("import", "i", {"WhatsApp Chat med Kari.txt": AMBIGUOUS_CHAT.encode()}),
        frame({"type": "import_answer", "id": "i", "dateOrder": "dmy"}),
        frame({"type": "items", "id": "l"}), frame({"type": "thumbs", "id": "t", "items": ["E-002", "E-001"]}),
        frame({"type": "item", "id": "d", "item": "E-004"}), frame({"type": "item", "id": "d1", "item": "E-001"}),
        frame({"type": "timeline", "id": "tl"}), frame({"type": "key", "id": "k"}),
        frame({"type": "stamps", "id": "s"}), frame({"type": "lock", "id": "x"}),
        frame({"type": "note", "id": "after", "text": "locked now"}),
        env=env, args=(PINNED_ORIGIN,))
    assert code == 0, err
    assert reply(replies, "n", "stored")["item"] == "E-001"
    assert reply(replies, "a", "stored")["items"] == ["E-002", "E-003"]
    question = reply(replies, "i", "question")
    assert question["ask"] == "dateOrder" and set(question["candidates"]) >= {"dmy", "mdy"}
    stored = reply(replies, "i", "stored")
    assert stored["item"] == "E-004" and stored["format"] == "whatsapp"
    assert stored["summary"]["messages"] == 3 and stored["summary"]["from"].startswith("2024-04-03")
    listed = {i["id"]: i for i in reply(replies, "l", "items")["items"]}
    assert listed["E-001"]["summary"]["text"].startswith("He shouted") and listed["E-001"]["where"] == "the break room"
    assert listed["E-002"]["picture"] and not listed["E-003"]["picture"]
    assert listed["E-004"]["summary"]["chat"] == "Kari" or "Kari" in listed["E-004"]["summary"]["chat"]
    assert all(i["stamped"] is False for i in listed.values())  # no server configured: all waiting
    thumbs = reply(replies, "t", "thumbs")["thumbs"]
    assert list(thumbs) == ["E-002"] and thumbs["E-002"].startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(thumbs["E-002"].split(",", 1)[1]))) as small:
        assert small.size == (160, 120)
    chat = reply(replies, "d", "item")
    assert [m["text"] for m in chat["transcript"]] == ["Du er ubrukelig", "Ingen vil ha deg her", "Slutt med dette"]
    diary = reply(replies, "d1", "item")
    assert diary["text"] == "He shouted at me in front of customers." and diary["facts"]["witnesses"] == ["Kari", "Ali"]
    order = [m["item"] for m in reply(replies, "tl", "timeline")["moments"]]
    assert order == ["E-004", "E-004", "E-004", "E-002", "E-003", "E-001"]  # 2024 chat, 1 March, 2 March
    assert reply(replies, "k", "key")["fingerprint"] == run_cli("keys", "show", "--json", env=with_passphrase(env)).json()["fingerprint"]
    assert {k: reply(replies, "s", "stamps")[k] for k in ("queued", "pending", "complete")} == dict.fromkeys(
        ("queued", "pending", "complete"), 0)  # no server configured: nothing owed to any
    assert refused(replies, "extension.locked")["id"] == "after"
    shown = run_cli("show", "E-003", "--json", env=with_passphrase(env)).json()
    assert shown["files"][0]["name"] == "brev.pdf" and shown["incident"]["channel"] == "Messenger"
    assert not work_folders(Path(env["EVIDENCEKIT_HOME"]))


def test_recipient_from_the_pasted_line_and_a_bundle_in_downloads(env: dict[str, str], tmp_path: Path) -> None:
    union = tmp_path / "union"
    union_env = {**env, "EVIDENCEKIT_HOME": str(union), "EVIDENCEKIT_PASSPHRASE": "union rep passphrase 42"}
    assert run_cli("init", "--kdf", "interactive", env=union_env).code == 0
    line = next(x for x in run_cli("keys", "show", env=union_env).out.splitlines() if "Public key" in x)
    downloads = Path(env["XDG_DOWNLOAD_DIR"])
    replies, code, err = talk(
        frame({"type": "unlock", "id": "u", "passphrase": PASSPHRASE}),
        frame({"type": "note", "id": "n", "text": "Entry"}),
        frame({"type": "recipient_add", "id": "r", "name": "Union", "key": line}),
        frame({"type": "recipients", "id": "rl"}),
        frame({"type": "seal", "id": "plain", "items": ["E-001"], "recipients": []}),
        frame({"type": "seal", "id": "s", "items": ["E-001"], "recipients": ["Union"]}),
        frame({"type": "seal", "id": "s2", "items": ["E-001"], "recipients": ["Union"]}),
        env=env, args=(PINNED_ORIGIN,))
    assert code == 0, err
    added = reply(replies, "r", "recipient")
    assert added["fingerprint"] == run_cli("keys", "show", "--json", env=union_env).json()["fingerprint"]
    assert reply(replies, "rl", "recipients")["recipients"] == [{"name": "Union", "fingerprint": added["fingerprint"]}]
    assert refused(replies, "bundle.plain_not_asked")["id"] == "plain"
    first, second = reply(replies, "s", "written"), reply(replies, "s2", "written")
    assert first["encrypted"] and first["recipients"] == ["Union"]
    assert second["name"] == first["name"].replace(".evidencekit", " (2).evidencekit")  # never replaced
    bundle = downloads / first["name"]
    checked = run_cli("verify", bundle, "--json", env=union_env)
    assert checked.code == 0 and checked.json()["verdict"] in ("valid", "valid_with_warnings"), checked.out


def test_refusals_leave_the_case_as_it_was(env: dict[str, str]) -> None:
    home = Path(env["EVIDENCEKIT_HOME"])
    big = os.urandom(300 * 1024)
    replies, code, err = talk(
        frame({"type": "unlock", "id": "u", "passphrase": PASSPHRASE}),
        frame({"type": "note", "id": "m1", "text": "x", "facts": {"who": "boss"}}),  # not a role
        frame({"type": "note", "id": "m2", "text": "x", "path": "/etc/passwd"}),  # no request names a path
        frame({"type": "note", "id": "m3", "text": "x" * 100_001}),  # oversized
        frame({"type": "thumbs", "id": "m4", "items": [f"E-{n}" for n in range(51)]}),
        frame({"type": "add", "id": "m5", "files": [{"name": "x", "size": 2**40, "sha256": "0" * 64}]}),
        frame({"type": "report", "id": "m6", "lang": "de"}),
        *upload("add", "m7", {"../../escape.png": b"x"}),
        *upload("add", "cut", {"video.mp4": big}, cut=2),  # cancelled halfway
        *upload("add", "bad", {"a.txt": b"abc"})[:1],
        frame({"type": "chunk", "id": "bad", "file": "a.txt", "seq": 0, "data": base64.b64encode(b"abd").decode()}),
        frame({"type": "end", "id": "bad"}),  # the bytes differ from the declared digest
        frame({"type": "import_answer", "id": "nothing", "dateOrder": "dmy"}),
        env=env, args=(PINNED_ORIGIN,))
    assert code == 0, err
    assert refused([r for r in replies if r["id"] == "m1"], "extension.bad_field")["message"].count("facts.who")
    assert "path" in refused([r for r in replies if r["id"] == "m2"], "extension.bad_field")["message"]
    for request in ("m3", "m4"):
        refused([r for r in replies if r["id"] == request], "extension.bad_field")
    refused([r for r in replies if r["id"] == "m5"], "extension.file_too_large")
    refused([r for r in replies if r["id"] == "m6"], "extension.bad_field")
    refused([r for r in replies if r["id"] == "m7"], "extension.upload_bad_name")
    assert reply(replies, "cut", "aborted")
    refused([r for r in replies if r["id"] == "bad"], "extension.digest_mismatch")
    refused([r for r in replies if r["id"] == "nothing"], "extension.no_transfer")
    with open_locker(home) as locker:
        assert locker.items() == []
    assert not work_folders(home)
    assert not list((home / layout.BLOBS).rglob("*.mp4"))


def test_another_extension_is_refused_every_request(env: dict[str, str]) -> None:
    replies, code, _ = talk(frame({"type": "cases", "id": "c"}), frame({"type": "key", "id": "k"}),
                            env=env, args=("chrome-extension://abcdefghijklmnopabcdefghijklmnop/",))
    assert code == 0 and [r["code"] for r in replies] == ["extension.wrong_origin"] * 2


@pytest.mark.skipif(not (CORPUS / "exports" / "slack" / "testarchive.zip").is_file(),
                    reason="corpus slack/testarchive.zip is absent")
def test_an_export_of_several_conversations_asks_which_to_show(env: dict[str, str]) -> None:
    archive = (CORPUS / "exports" / "slack" / "testarchive.zip").read_bytes()
    replies, code, err = talk(
        frame({"type": "unlock", "id": "u", "passphrase": PASSPHRASE}),
        *upload("import", "one", {"testarchive.zip": archive}),
        frame({"type": "import_answer", "id": "one", "conversations": ["traveling-sailor"]}),
        *upload("import", "all", {"testarchive.zip": archive}),
        frame({"type": "import_answer", "id": "all", "conversations": []}),
        *upload("import", "none", {"testarchive.zip": archive}),
        frame({"type": "import_answer", "id": "none", "conversations": ["nobody-here"]}),
        env=env, args=(PINNED_ORIGIN,))
    assert code == 0, err
    question = reply(replies, "one", "question")
    assert question["ask"] == "conversations"
    assert [(c["name"], c["messages"]) for c in question["candidates"]] == [("enrique", 102), ("traveling-sailor", 56)]
    assert question["candidates"][0]["first"] == "2016-01-15T05:55:18.000002Z"
    assert reply(replies, "one", "stored")["summary"] | {"from": None, "to": None} == {
        "chat": "traveling-sailor", "messages": 56, "from": None, "to": None}  # the list names what was chosen
    assert reply(replies, "all", "stored")["summary"]["messages"] == 158
    refused([r for r in replies if r["id"] == "none"], "importers.no_such_conversation")
    chosen = run_cli("show", "E-001", "--json", env=with_passphrase(env)).json()
    assert chosen["acquired"]["conversations"] == ["=traveling-sailor"]  # chosen by its exact name
    assert not run_cli("show", "E-002", "--json", env=with_passphrase(env)).json()["acquired"].get("conversations")  # all
    assert [i["id"] for i in run_cli("list", "--json", env=with_passphrase(env)).json()] == ["E-001", "E-002"]
    assert not work_folders(Path(env["EVIDENCEKIT_HOME"]))


def test_the_page_captures_an_address_as_the_command_line_does(env: dict[str, str]) -> None:
    from evidencekit._internal.browser import BrowserNotFound, find_browser
    from evidencekit._internal.demo_site import serve_demo

    try:
        find_browser()
    except BrowserNotFound as error:
        pytest.skip(f"no browser to capture with: {error.message('en')}")
    with serve_demo() as site:
        replies, code, err = talk(
            frame({"type": "unlock", "id": "u", "passphrase": PASSPHRASE}),
            frame({"type": "capture", "id": "file", "url": "file:///etc/passwd"}),
            frame({"type": "capture", "id": "js", "url": "javascript:alert(1)"}),
            frame({"type": "capture", "id": "long", "url": "https://example.org/" + "a" * 8192}),
            frame({"type": "capture", "id": "c", "url": f"  {site.url('post')} ",
                   "facts": {"who": "customer", "channel": "Bygdeprat"}}),
            env=env, args=(PINNED_ORIGIN,))
    assert code == 0, err
    refused([r for r in replies if r["id"] == "file"], "capture.bad_scheme")
    refused([r for r in replies if r["id"] == "js"], "capture.bad_scheme")
    refused([r for r in replies if r["id"] == "long"], "extension.bad_field")
    stored = reply(replies, "c", "stored")
    assert stored["item"] == "E-001" and stored["url"] == site.url("post") and stored["title"]
    assert reply(replies, "c", "stamped")
    shown = run_cli("show", "E-001", "--json", env=with_passphrase(env)).json()
    assert shown["kind"] == "web" and shown["acquired"]["method"] == "web-capture"  # as `capture URL` stores it
    assert {"page-full.png", "page.mhtml", "traffic.har", "page.wacz"} <= {f["name"] for f in shown["files"]}
    assert shown["incident"]["channel"] == "Bygdeprat"
    assert run_cli("check", env=with_passphrase(env)).code == 0
    assert not work_folders(Path(env["EVIDENCEKIT_HOME"]))
