"""Redaction: boxes burned into pictures (exactly the boxed pixels black, every other pixel and
no metadata kept), masks in transcripts and text files, everything else left out; the original
stays untouched and linked by its record digest; a bundle with only the redaction verifies and
says the original was withheld."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from conftest import PASSPHRASE, quiet_locker_env, run_cli
from evidencekit import bundle, report
from evidencekit._internal import custody_log, keys
from evidencekit._internal.bundle import layout
from evidencekit._internal.redact import MASK, burn, check_burned
from evidencekit.errors import UserError
from evidencekit.locker import Locker, Source
from evidencekit.models import IncidentFacts
from locker_files import make_locker, open_locker
from report_fixtures import WHATSAPP, import_item, needs_corpus, picture

BOXES = [report.Box.parse("10,20,100,40"), report.Box.parse("560,380,80,40")]  # the second reaches the corner


def _png_with_metadata() -> bytes:
    image = Image.open(io.BytesIO(picture(3, text="Kari Nordmann"))).convert("RGBA")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Kari Nordmann")
    info.add_itxt("Comment", "taken at Kari's desk")
    out = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image.save(out, "PNG", pnginfo=info, icc_profile=srgb)
    return out.getvalue()


def _jpeg_turned() -> bytes:
    """A photo stored sideways with EXIF orientation 6 (shown turned) and a comment."""
    image = Image.open(io.BytesIO(picture(4, size=(300, 200)))).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010E] = "Kari Nordmann"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"Kari", quality=95)
    return out.getvalue()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    needs_corpus()
    folder = tmp_path_factory.mktemp("redact") / "locker"
    with pytest.MonkeyPatch.context() as env:
        for name, value in quiet_locker_env(folder).items():
            env.setenv(name, value)
        with make_locker(folder) as locker:
            locker.create_case("Redaction case", PASSPHRASE)
            facts = IncidentFacts("2025-03-05", "colleague", "Slack", "Kari saw it too")
            locker.add_items([("file", [Source("photo.png", data=_png_with_metadata())], {"method": "file"}, facts)],
                             PASSPHRASE)  # E-001
            locker.add_items([("file", [Source("sideways.jpg", data=_jpeg_turned())], {"method": "file"},
                               IncidentFacts())], PASSPHRASE)  # E-002
            import_item(locker, WHATSAPP, "chat", IncidentFacts(description="Elon and Dmitry S wrote this"))  # E-003
            mixed = [Source("page.html", data=b"<p>Kari Nordmann</p>"),
                     Source("notes.txt", data="Kari was there.\n".encode()),
                     Source("pic.png", data=picture(5)), Source("data.json", data=b'{"name": "Kari"}'),
                     Source("other.png", data=picture(6))]
            locker.add_items([("file", mixed, {"method": "file"}, IncidentFacts())], PASSPHRASE)  # E-004
        yield folder


def _bytes(locker: Locker, sha256: str) -> bytes:
    with locker.blobs.open(sha256) as blob:
        return blob.read()


def _chunks(png: bytes) -> list[bytes]:
    kinds, at = [], 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        kinds.append(kind)
        at += 12 + length
    return kinds


def test_boxes_replace_exactly_the_boxed_pixels_and_nothing_else(home: Path) -> None:
    with open_locker(home) as locker:
        original = locker.item("E-001")
        before = _bytes(locker, original.files[0].sha256)
        made = report.redact(locker, "E-001", PASSPHRASE, boxes=BOXES)
        assert made.kind == "redaction" and [f.name for f in made.files] == ["photo.png"]
        assert made.acquired["derived_from"] == {"item": "E-001", "record_sha256": original.record_sha256}
        assert made.acquired["redactions"] == [{"file": "photo.png", "from": "photo.png",
                                                "boxes": [[10, 20, 100, 40], [560, 380, 80, 40]]}]
        redacted = _bytes(locker, made.files[0].sha256)
        # The original is untouched: same record, same bytes, the whole case still checks.
        assert locker.item("E-001") == original
        assert _bytes(locker, original.files[0].sha256) == before
        assert locker.check().ok
        assert [e.subject for e in locker.log() if e.action == "item.add"][-1] == made.label
    clear = np.array(Image.open(io.BytesIO(before)).convert("RGBA"))
    shown = np.array(Image.open(io.BytesIO(redacted)))
    assert shown.shape == clear.shape
    boxed = np.zeros(clear.shape[:2], bool)
    for box in BOXES:
        boxed[box.y:box.y + box.height, box.x:box.x + box.width] = True
    assert (shown[boxed] == [0, 0, 0, 255]).all()
    assert (shown[~boxed] == clear[~boxed]).all()
    assert set(_chunks(redacted)) == {b"IHDR", b"IDAT", b"IEND"}  # no text, iCCP, eXIf or other chunk
    assert b"Kari" not in redacted


def test_check_burned_refuses_leftovers() -> None:
    image = Image.open(io.BytesIO(picture(9))).convert("RGB")
    good = burn(image, BOXES[:1])
    out = io.BytesIO()
    good.save(out, "PNG")
    assert check_burned(image, out.getvalue(), BOXES[:1])
    leaky = good.copy()
    leaky.putpixel((15, 25), image.getpixel((15, 25)))  # one original pixel inside the box
    out = io.BytesIO()
    leaky.save(out, "PNG")
    assert not check_burned(image, out.getvalue(), BOXES[:1])
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Kari")
    out = io.BytesIO()
    good.save(out, "PNG", pnginfo=info)
    assert not check_burned(image, out.getvalue(), BOXES[:1])
    changed = good.copy()
    changed.putpixel((300, 300), (1, 2, 3))  # a pixel outside the boxes altered
    out = io.BytesIO()
    changed.save(out, "PNG")
    assert not check_burned(image, out.getvalue(), BOXES[:1])


def test_a_turned_jpeg_is_boxed_as_shown_and_loses_its_exif(home: Path) -> None:
    with open_locker(home) as locker:
        made = report.redact(locker, "E-002", PASSPHRASE, boxes=[report.Box.parse("sideways.jpg:0,0,50,290")])
        [file] = made.files
        data = _bytes(locker, file.sha256)
        original = Image.open(io.BytesIO(_bytes(locker, locker.item("E-002").files[0].sha256)))
    assert file.name == "sideways.png" and file.media_type == "image/png"
    from PIL import ImageOps

    turned = np.array(ImageOps.exif_transpose(original).convert("RGB"))
    shown = Image.open(io.BytesIO(data))
    assert shown.size == (200, 300) and not shown.getexif()
    pixels = np.array(shown)
    assert (pixels[:290, :50] == 0).all() and (pixels[:, 50:] == turned[:, 50:]).all()
    assert b"Kari" not in data and b"Exif" not in data


def test_masks_hide_every_occurrence_in_transcript_text_and_record(home: Path) -> None:
    with open_locker(home) as locker:
        original = locker.item("E-003")
        made = report.redact(locker, "E-003", PASSPHRASE, masks=["dmitry", "ELON"])
        contents = {f.name: _bytes(locker, f.sha256).decode("utf-8") for f in made.files}
        record = locker.db.execute("SELECT record FROM items WHERE number = ?", (made.number,)).fetchone()[0]
        source = json.loads(_bytes(locker, original.files[1].sha256))
    assert set(contents) == {f"WhatsApp Chat with {MASK} S EN+Media Android.txt", "transcript.json"}
    assert made.acquired["left_out"] == []
    for text in (*contents.values(), *contents, bytes(record).decode("utf-8")):
        assert "dmitry" not in text.casefold() and "elon" not in text.casefold()
    masked = json.loads(contents["transcript.json"])
    assert len(masked["messages"]) == len(source["messages"]) == masked["message_count"]
    assert masked["messages"][1]["sender"] == f"{MASK} S" and masked["messages"][1]["text"] == "Hello"
    assert made.incident.description == f"{MASK} and {MASK} S wrote this"
    assert made.acquired["masks"] == {"count": 2, "replaced": made.acquired["masks"]["replaced"]}
    assert made.acquired["masks"]["replaced"] > 50


def test_files_that_cannot_be_redacted_are_left_out(home: Path) -> None:
    with open_locker(home) as locker:
        both = report.redact(locker, "E-004", PASSPHRASE, boxes=[report.Box.parse("pic.png:0,0,10,10")],
                             masks=["Kari"])
        only_box = report.redact(locker, "E-004", PASSPHRASE, boxes=[report.Box.parse("pic.png:0,0,10,10")])
        notes = next(f for f in both.files if f.name == "notes.txt")
        assert _bytes(locker, notes.sha256) == f"{MASK} was there.\n".encode()
    assert [f.name for f in both.files] == ["notes.txt", "pic.png"]
    assert {(e["name"], e["reason"]) for e in both.acquired["left_out"]} == {
        ("page.html", "cannot_redact"), ("data.json", "cannot_redact"), ("other.png", "picture_no_box")}
    assert [f.name for f in only_box.files] == ["pic.png"]
    assert ("notes.txt", "text_no_mask") in {(e["name"], e["reason"]) for e in only_box.acquired["left_out"]}
    assert "Kari" not in json.dumps(both.acquired)


@pytest.mark.parametrize("args, says", [
    (["E-001", "--box", "10,10"], "is not a box"),
    (["E-001", "--box", "600,400,100,100"], "does not lie inside photo.png"),
    (["E-001", "--mask", "Nobody at all"], "does not occur in the text of E-001"),
    (["E-003", "--mask", "x"], "too short to mask safely"),
    (["E-003"], "Say what to hide"),
    (["E-003", "--box", "1,1,5,5"], "has no pictures"),
    (["E-004", "--box", "1,1,5,5"], "say which one, for example --box pic.png:1,1,5,5"),
    (["E-004", "--box", "1,1,5,5x"], "is not a box"),
    (["E-004", "--box", "nope.png:1,1,5,5"], "has no picture called nope.png"),
    (["E-099", "--mask", "Kari"], "E-099"),
])
def test_bad_input_is_one_sentence_and_changes_nothing(home: Path, args: list[str], says: str) -> None:
    with open_locker(home) as locker:
        count, log = len(locker.items()), len(locker.log())
    result = run_cli("redact", *args, "--no-stamp")
    assert result.code == 2, result
    assert says in result.err and len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    with open_locker(home) as locker:
        assert (len(locker.items()), len(locker.log())) == (count, log)


def test_bundle_with_only_the_redaction_verifies_and_names_the_withheld_original(home: Path, tmp_path: Path) -> None:
    made = run_cli("redact", "E-001", "--box", "10,20,100,40", "--no-stamp", "--json")
    assert made.code == 0, made.err
    label = made.json()["id"]
    with open_locker(home) as locker:
        original = locker.item("E-001")
        sealed = bundle.seal(locker, PASSPHRASE, items=[label], output=tmp_path / "only-redaction.zip")
        clear_strips = report.build(locker, options=report.Options(items=["E-001"])).sections[0].pictures[0]
        html = report.render_html(locker, options=report.Options(items=[label]))
    verdict = bundle.verify(sealed.path)
    assert verdict.verdict != "invalid", [c.to_json() for c in verdict.checks]
    assert "E-001" in {w["id"] for w in verdict.withheld} and verdict.included == (label,)
    said = [c.message("en") for c in verdict.checks if c.name == "redactions"]
    assert said and said[0].startswith(f"{label}: redaction of E-001 (original withheld, committed at 20")
    with zipfile.ZipFile(sealed.path) as archive:
        names = set(archive.namelist())
    assert {"report-en.html", "report-en.pdf"} <= names  # the report travels in the bundle
    # What the lead's verifier line will do: read the redaction's record and the verified log.
    with zipfile.ZipFile(sealed.path) as archive:
        record = json.loads(archive.read(layout.record_path(label)))
        stored = layout.read_log(archive.read(layout.LOG_ENTRIES), archive.read(layout.LOG_SIGNATURES))
        manifest = json.loads(archive.read(layout.MANIFEST))
    entries, problems = custody_log.verify(stored, keys.parse_public_key(manifest["signer"]))
    assert not problems
    included = {i["id"]: i["record_sha256"] for i in manifest["items"]}
    link = report.link(label, record["acquired"], entries, included)
    assert link is not None and link.status == "withheld" and link.record_sha256 == original.record_sha256
    assert link.message("en").startswith(f"{label}: redaction of E-001 (original withheld, committed at 20")
    assert "(originalen holdes tilbake, registrert" in link.message("nb")
    # A forged claim (a record digest the log never held) is called out.
    forged = {**record["acquired"], "derived_from": {"item": "E-001", "record_sha256": "0" * 64}}
    assert report.link(label, forged, entries, {}).status == "not_logged"  # type: ignore[union-attr]
    # The report on the redaction alone says so, and never carries the clear picture.
    assert f"{label}: redaction of E-001 (original withheld, committed at" in html
    assert clear_strips.picture is not None
    assert all(strip not in html for strip in clear_strips.picture.strips)


def test_a_redaction_of_a_sensitive_picture_is_blurred_too(home: Path) -> None:
    with open_locker(home) as locker:
        made = report.redact(locker, "E-001", PASSPHRASE, boxes=BOXES[:1])
        locker.mark_sensitive("E-001", PASSPHRASE)
        try:
            data = report.build(locker, options=report.Options(items=[made.label]))
            shown = report.build(locker, options=report.Options(items=[made.label], show_sensitive=True))
        finally:
            locker.mark_sensitive("E-001", PASSPHRASE, sensitive=False)
    assert data.sections[0].blurred and data.sections[0].pictures[0].picture.blurred  # type: ignore[union-attr]
    assert not shown.sections[0].pictures[0].picture.blurred  # type: ignore[union-attr]
    with pytest.raises(UserError):
        report.Box.parse("1,2,0,4")
