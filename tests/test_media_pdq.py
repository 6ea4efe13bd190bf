"""PDQ beside pHash for every picture: the hash the locker records is PDQ as an independent
implementation computes it, it is shown by ``show``, and it groups look-alikes in the report.

The shared corpus holds no pictures, so the pictures are generated: sizes that exercise every
filter window (1, 4, 5, 8, 11, 16, 24 pixels) and both orientations. The reference is
``tests/pdq_reference.py``, written from the published algorithm in numpy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from conftest import run_cli
from evidencekit._internal import media
from evidencekit._internal.report import duplicates
from evidencekit.models import ItemFile
from pdq_reference import pdq_hex, picture

SIZES = [(64, 64), (100, 70), (640, 480), (800, 600), (333, 777), (1366, 768), (1280, 3000), (2000, 1000)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_pdq_equals_the_independent_implementation(size: tuple[int, int], tmp_path: Path) -> None:
    image = picture(sum(size), size, "Du er ubrukelig")
    path = tmp_path / "shot.png"
    image.save(path)
    found = media.describe(path, path.name)
    assert found.media_type == "image/png" and found.phash
    assert found.pdq == pdq_hex(image)


def test_a_file_that_is_no_picture_has_no_perceptual_hash(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("hei", encoding="utf-8")
    assert media.describe(path, path.name) == media.Described("text/plain")


def test_pdq_is_recorded_and_shown(case_home: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    picture(7, (640, 480), "hei").save(shot)
    assert run_cli("add", shot, "--json").code == 0
    listed = run_cli("list", "--json").json()[0]["files"][0]
    assert listed["pdq"] == pdq_hex(Image.open(shot))
    shown = run_cli("show", "E-001")
    assert shown.code == 0 and f"PDQ hash (for hash matching): {listed['pdq']}" in shown.out


def test_pdq_groups_a_reencoded_copy_and_not_another_picture(tmp_path: Path) -> None:
    original = picture(3, (800, 600), "skjermbilde")
    original.save(tmp_path / "a.png")
    original.save(tmp_path / "b.jpg", quality=70)
    picture(4, (800, 600), "noe annet").save(tmp_path / "c.png")
    files = []
    for name in ("a.png", "b.jpg", "c.png"):
        found = media.describe(tmp_path / name, name)
        files.append(ItemFile(name, found.media_type, 1, "0" * 64, pdq=found.pdq))  # PDQ alone, no pHash
    assert duplicates.alike(files[0], files[1])
    assert not duplicates.alike(files[0], files[2])
    print("PDQ distances: re-encoded", media.pdq_distance(files[0].pdq, files[1].pdq),
          "other", media.pdq_distance(files[0].pdq, files[2].pdq))


def test_a_long_page_is_scaled_first_and_stays_within_a_few_bits(tmp_path: Path) -> None:
    # Past PDQ_MAX_PIXELS the picture is box-scaled before hashing (time and memory on long
    # captures); the hash then differs from a full-size one by a few bits, far inside a match.
    image = picture(1, (1280, 8000), "en lang side")
    assert image.width * image.height > media.PDQ_MAX_PIXELS
    assert media.pdq_distance(media.pdq(image), pdq_hex(image)) <= 8


def test_a_picture_bomb_is_refused_by_every_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One guard serves the stored-file description, the report's pictures and the page's previews:
    a small file that decodes to 400 million pixels is refused by each, never decoded."""
    from evidencekit._internal.native_host import thumbnail
    from evidencekit._internal.report import pictures

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200_000_000)  # media's limit (test_capture_web lifts it for its own pictures)
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb)
    assert bomb.stat().st_size < 1 << 20
    assert media.describe(bomb, bomb.name) == media.Described("image/png")  # a type from the name, no hashes
    assert pictures.decode(bomb.read_bytes()) is None
    with open(bomb, "rb") as f:
        assert thumbnail.data_url(f) is None
