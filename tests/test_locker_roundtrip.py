"""Evidence goes in and comes out byte for byte, with the digests the listing promises."""

from __future__ import annotations

import hashlib
from contextlib import closing
from pathlib import Path

from PIL import Image

from conftest import run_cli
from locker_files import blob_file, connect, open_locker


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_add_three_files_and_a_note_round_trip(case_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "chat.txt").write_text("Du er ubrukelig.\r\nSlutt nå.\n", encoding="utf-8")
    (src / "data.bin").write_bytes(bytes(range(256)) * 1000)
    Image.new("RGB", (320, 200), (200, 30, 30)).save(src / "shot.png")
    originals = [src / "chat.txt", src / "data.bin", src / "shot.png"]

    added = run_cli("add", *originals, "--who", "colleague", "--channel", "Teams",
                    "--incident-date", "2026-03-01", "--note", "After the meeting", "--json")
    assert added.code == 0, added.err
    assert [i["id"] for i in added.json()] == ["E-001", "E-002", "E-003"]
    note = run_cli("note", "He followed me to the car park.", "--date", "2026-03-02", "--json")
    assert note.code == 0, note.err
    assert note.json()["id"] == "E-004" and note.json()["kind"] == "diary"

    listing = run_cli("list", "--json").json()
    digests = {f["name"]: f["sha256"] for item in listing for f in item["files"]}
    for path in originals:
        assert digests[path.name] == _sha(path)
    image = listing[2]["files"][0]
    assert image["media_type"] == "image/png" and image["phash"]
    given = {k: v for k, v in listing[0]["incident"].items() if v not in (None, [])}
    assert given == {"date": "2026-03-01", "who": "colleague", "channel": "Teams", "description": "After the meeting"}

    shown = run_cli("show", "E-002", "--json").json()
    assert shown["files"][0]["sha256"] == _sha(originals[1])
    assert shown["files"][0]["size"] == 256_000

    out = tmp_path / "out"
    for number, original in enumerate(originals, start=1):
        assert run_cli("export", f"E-{number:03d}", "-o", out).code == 0
        assert (out / original.name).read_bytes() == original.read_bytes()
    assert run_cli("export", "E-004", "-o", out).code == 0
    assert (out / "diary.txt").read_text(encoding="utf-8") == "He followed me to the car park."

    human = run_cli("show", "E-003")
    assert _sha(originals[2]) in human.out and "image/png" in human.out
    assert run_cli("check").code == 0

    with open_locker(case_home) as locker:  # at rest only sealed bytes; the store opens the evidence
        for path in originals:
            at_rest = blob_file(case_home, _sha(path)).read_bytes()
            assert path.read_bytes()[:64] not in at_rest and len(at_rest) > path.stat().st_size
            with locker.blobs.open(_sha(path)) as blob:
                assert blob.read() == path.read_bytes()


def test_items_are_numbered_per_case(case_home: Path, tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("a")
    assert run_cli("add", f).code == 0
    second = run_cli("case", "new", "Second case", "--json").json()
    assert run_cli("add", f, "--json").json()[0]["id"] == "E-001"
    cases = run_cli("case", "list", "--json").json()
    assert [c["item_count"] for c in cases] == [1, 1]
    assert [c["current"] for c in cases] == [False, True]
    first_id = cases[0]["id"]
    assert run_cli("case", "use", first_id[:4]).code == 0
    assert run_cli("case", "show", "--json").json()["id"] == first_id
    assert run_cli("list", "--case", second["id"], "--json").json()[0]["id"] == "E-001"


def test_together_makes_one_item_of_several_files(case_home: Path, tmp_path: Path) -> None:
    files = []
    for name in ("page.html", "page.png"):
        files.append(tmp_path / name)
        files[-1].write_bytes(name.encode())
    item = run_cli("add", *files, "--together", "--json").json()
    assert len(item) == 1 and [f["name"] for f in item[0]["files"]] == ["page.html", "page.png"]


def test_keys_show_and_anonymous_case(case_home: Path) -> None:
    identity = run_cli("keys", "show", "--json").json()
    assert set(identity) >= {"public_key", "fingerprint"}
    assert len(identity["fingerprint"].split()) == 6
    anonymous = run_cli("case", "new", "Anonymous report", "--anonymous", "--json").json()
    assert anonymous["anonymous"] is True
    assert anonymous["key"]["public_key"] != identity["public_key"]
    log = run_cli("log", "--json").json()
    assert log[0]["action"] == "case.create"
    assert log[0]["signer"] == anonymous["key"]["public_key"]
    assert identity["public_key"] not in run_cli("case", "show", "--json").out
    assert run_cli("check", "--all").code == 0


def test_marking_sensitive_is_logged_and_checked(case_home: Path, tmp_path: Path) -> None:
    f = tmp_path / "photo.png"
    Image.new("RGB", (40, 40), (10, 10, 10)).save(f)
    assert run_cli("add", f).code == 0
    marked = run_cli("mark", "E-001", "--sensitive", "--json")
    assert marked.code == 0 and marked.json()["sensitive"] is True
    assert run_cli("list", "--json").json()[0]["sensitive"] is True
    assert run_cli("mark", "E-001", "--not-sensitive", "--json").json()["sensitive"] is False
    assert [e["action"] for e in run_cli("log", "--json").json()][-2:] == ["item.mark", "item.mark"]
    assert run_cli("check").code == 0
    with closing(connect(case_home)) as db:
        db.execute("UPDATE log_records SET record = replace(record, 'false', 'true ')")
    broken = run_cli("check")
    assert broken.code == 1 and "The record of #4 was changed" in broken.out
