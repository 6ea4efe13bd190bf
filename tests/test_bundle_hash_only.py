"""Hash-only hand-over: an intimate picture travels as its hashes and salted record, never its
bytes; the recipient's ``verify`` says so and still checks the log; ``match`` tells someone who
holds a picture whether it is that item — exact, perceptual (PDQ, with the distance) or not.
"""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
from PIL import Image

from pdq_reference import pdq_hex, picture
from test_bundle_roundtrip import Person, _checks

CHUNK = 48  # no run of this many bytes of the held-back picture may appear anywhere


def _chunks(data: bytes) -> list[bytes]:
    return [data[i:i + CHUNK] for i in range(0, len(data) - CHUNK + 1, CHUNK // 2)]


def _holds_none_of(haystack: bytes, needle: bytes) -> bool:
    return not any(chunk in haystack for chunk in _chunks(needle))


@pytest.fixture(scope="module")
def handover(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("hashonly")
    worker, police = Person(root, "worker").init(), Person(root, "police").init()
    worker.ok("case", "new", "Deling av bilder")
    sources = root / "sources"
    sources.mkdir()
    (sources / "chat.txt").write_text("Han truet med å legge ut bildet.\n", encoding="utf-8")
    picture(11, (640, 480), "privat").save(sources / "bilde.png")
    (sources / "klipp.mp4").write_bytes(bytes(range(256)) * 300)
    worker.ok("add", "--no-stamp", sources / "chat.txt", sources / "bilde.png", sources / "klipp.mp4")
    worker.ok("recipients", "add", "police", police.public_key)
    plain, sealed = root / "case.zip", root / "police.evidencekit"
    done = worker.ok("seal", "--no-stamp", "--plain", "--hash-only", "E-002,E-003", "-o", plain, "--json").json()
    assert done["held_back"] == ["E-002", "E-003"] and done["items"] == ["E-001", "E-002", "E-003"]
    worker.ok("seal", "--no-stamp", "--no-report", "--to", "police", "--items", "E-001", "--hash-only", "E-002",
              "-o", sealed)
    return {"root": root, "worker": worker, "police": police, "plain": plain, "sealed": sealed,
            "picture": (sources / "bilde.png").read_bytes(), "video": (sources / "klipp.mp4").read_bytes(),
            "sources": sources}


def test_the_bundle_holds_no_byte_of_the_held_back_picture(handover: dict) -> None:
    image = handover["picture"]
    plain = handover["plain"].read_bytes()
    assert _holds_none_of(plain, image) and _holds_none_of(plain, handover["video"])
    assert b"Han truet med" in plain  # the search finds what is there: the included chat
    names = zipfile.ZipFile(handover["plain"]).namelist()
    assert [n for n in names if n.startswith("items/")] == ["items/E-001/01-chat.txt"]
    # The report the bundle carries shows no picture of it (nor of anything: the chat has none).
    html = zipfile.ZipFile(handover["plain"]).read("report-en.html").decode()
    assert "<img" not in html and "Content held back on purpose; hashes only." in html
    assert pdq_hex(Image.open(handover["sources"] / "bilde.png")) in html

    # Inside the sealed form too: the recipient decrypts and unpacks every member.
    police = handover["police"]
    opened = handover["root"] / "opened"
    assert police.cli("open", handover["sealed"], "-o", opened).code == 0
    unpacked = b"".join(p.read_bytes() for p in sorted(opened.rglob("*")) if p.is_file())
    assert _holds_none_of(unpacked, image)
    assert sorted(p.relative_to(opened).as_posix() for p in (opened / "items").rglob("*") if p.is_file()) == [
        "items/E-001/01-chat.txt"]


def test_the_manifest_gives_the_hashes_and_verify_says_held_back(handover: dict) -> None:
    manifest = json.loads(zipfile.ZipFile(handover["plain"]).read("manifest.json"))
    assert manifest["version"] == 3
    items = {i["id"]: i for i in manifest["items"]}
    assert "content" not in items["E-001"]
    picture_entry, video_entry = items["E-002"]["files"][0], items["E-003"]["files"][0]
    assert items["E-002"]["content"] == items["E-003"]["content"] == "hashes only"
    assert picture_entry == {"name": "bilde.png", "sha256": hashlib.sha256(handover["picture"]).hexdigest(),
                             "size": len(handover["picture"]),
                             "pdq": pdq_hex(Image.open(handover["sources"] / "bilde.png"))}
    assert video_entry["md5"] == hashlib.md5(handover["video"]).hexdigest() and "pdq" not in video_entry

    police = handover["police"]
    for bundle in (handover["plain"], handover["sealed"]):
        result = police.cli("verify", bundle)
        assert result.code == 0, result.out
        assert result.out.startswith("VALID WITH WARNINGS")  # no timestamps were taken
        assert "  E-002: content held back on purpose; hashes only." in result.out.splitlines()
        report = police.cli("verify", bundle, "--json").json()
        assert "E-002" in report["held_back"] and _checks(report, "failed") == []
        assert "bundle.check_item_held_back" in _checks(report, "ok")
        assert "bundle.check_log_ok" in _checks(report, "ok")  # the log is still checked whole
    counted = police.cli("verify", handover["plain"], "--json").json()
    files_ok = next(c for c in counted["checks"] if c["code"] == "bundle.check_files_ok")
    assert "E-002" not in json.dumps(files_ok)


def test_match_exact_perceptual_and_none(handover: dict) -> None:
    police, root = handover["police"], handover["root"]
    original = handover["sources"] / "bilde.png"
    reencoded = root / "funnet.jpg"
    Image.open(original).convert("RGB").resize((480, 360)).save(reencoded, quality=60)
    other = root / "annet.png"
    picture(12, (640, 480), "noe annet").save(other)
    for bundle in (handover["plain"], handover["sealed"]):
        exact = police.cli("match", original, bundle)
        assert exact.code == 0 and exact.out.startswith("E-002 (bilde.png): match — exactly the same bytes"), exact
        near = police.cli("match", reencoded, bundle, "--json")
        assert near.code == 0, near.err
        found = near.json()["matches"]
        assert [(m["item"], m["match"]) for m in found] == [("E-002", "perceptual")]
        assert 0 <= found[0]["pdq_distance"] <= 31
        assert f"distance {found[0]['pdq_distance']} of 256 bits" in police.cli("match", reencoded, bundle).out
        none = police.cli("match", other, bundle)
        assert none.code == 1 and none.out.startswith("No match"), none


def test_match_refuses_a_bundle_that_does_not_verify(handover: dict) -> None:
    police, root = handover["police"], handover["root"]
    forged = root / "forged.zip"
    data = bytearray(handover["plain"].read_bytes())
    at = data.index(b'"content":"hashes only"')
    data[at + 12] ^= 1  # one byte of the signed manifest
    forged.write_bytes(bytes(data))
    result = police.cli("match", handover["sources"] / "bilde.png", forged)
    assert result.code == 2 and "did not verify, so nothing was matched" in result.out
    assert "Traceback" not in result.err


def test_a_manifest_cannot_say_held_back_and_another_version(handover: dict) -> None:
    # Held-back items exist only in version 3; a version-2 reader must refuse them, not misread.
    from evidencekit._internal import canonical
    from evidencekit._internal.bundle import layout

    manifest = canonical.loads(zipfile.ZipFile(handover["plain"]).read("manifest.json"))
    assert layout.Manifest.from_bytes(canonical.dumps(manifest)).items[1].held_back
    for change in ("version 2", "a path", "no content mark"):
        forged = json.loads(json.dumps(manifest))
        if change == "version 2":
            forged["version"] = 2
        elif change == "a path":
            forged["items"][1]["files"][0]["path"] = "items/E-002/01-bilde.png"
        else:
            del forged["items"][1]["content"]
            del forged["items"][2]["content"]
        with pytest.raises((ValueError, KeyError, TypeError)):
            layout.Manifest.from_bytes(canonical.dumps(forged))
