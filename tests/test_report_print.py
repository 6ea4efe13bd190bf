"""The printed report, measured from the PDF Chromium makes: the demo's real captures, a WhatsApp
export with pictures and a diary note, in bokmål and English and arranged for the tribunal.

* every page renders to PNG (``pdftoppm``); the tribunal's arrangement is checked in its HTML;
* capture slices print the pages' smallest text (12 CSS px in the demo's stylesheet) at 9 pt or
  more: the slice's scale is read from the PDF (``pdfimages -list``: its pixels per inch on paper)
  and the caption's pixel range, on landscape pages; the page's visible text that follows is real
  text of 9 pt or more (``pdftotext -bbox``: word heights in pt);
* chat pictures are numbered thumbnails with their digests; the cover's period comes from the
  messages and her dates only; one file more is "1 fil", not "1 filer"; the cover names who
  prepared it; no English placeholder or invented file name is left unexplained in bokmål.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import run_cli

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("pdftoppm", "pdftotext", "pdfimages", "pdfinfo")),
                                reason="poppler-utils (pdftoppm, pdftotext, pdfimages, pdfinfo) is not installed")

DEMO_CSS = Path(__file__).resolve().parents[1] / "evidencekit" / "data" / "demo" / "demo.css"
CHAT = ("30.03.2024, 23:50 - Per Hansen: Se her\n"
        "30.03.2024, 23:51 - Per Hansen: IMG-20240330-WA0001.jpg (file attached)\n"
        "31.03.2024, 01:55 - Per Hansen: IMG-20240331-WA0002.jpg (file attached)\n"
        "31.03.2024, 03:10 - Kari: Slutt\n")


def _picture(colour: str) -> bytes:
    image = Image.new("RGB", (800, 600), colour)
    ImageDraw.Draw(image).text((40, 40), colour, fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("print")
    assert run_cli("demo", "-o", folder / "demo", env={"EVIDENCEKIT_LANG": "en"}).code == 0
    env = {"EVIDENCEKIT_HOME": str(folder / "demo" / "locker"), "EVIDENCEKIT_PASSPHRASE": "demo",
           "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}
    export = folder / "WhatsApp Chat with Per Hansen.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("WhatsApp Chat with Per Hansen.txt", CHAT)
        archive.writestr("IMG-20240330-WA0001.jpg", _picture("orange"))
        archive.writestr("IMG-20240331-WA0002.jpg", _picture("skyblue"))
    done = run_cli("import", export, "--tz", "Europe/Oslo", "--me", "Kari", "--channel", "whatsapp", "--no-stamp", env=env)
    assert done.code == 0, done.err
    made = {}
    for name, args, suffix in (("nb", ["--lang", "nb"], "pdf"), ("en", ["--lang", "en"], "pdf"),
                               ("tribunal", ["--lang", "nb", "--for", "tribunal"], "html")):
        made[name] = folder / f"{name}.{suffix}"
        done = run_cli("report", *args, "--prepared-by", "Kari Nordmann", "-o", made[name], env=env)
        assert done.code == 0, done.err
    return made


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"^Page +\d+ size: +([\d.]+) x ([\d.]+)", info, re.M)]


def test_every_page_renders(reports: dict[str, Path], tmp_path: Path) -> None:
    for name, pdf in ((name, path) for name, path in reports.items() if path.suffix == ".pdf"):
        pages = _page_sizes(pdf)
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / name)], check=True)
        rendered = sorted(tmp_path.glob(f"{name}-*.png"))
        assert len(rendered) == len(pages) > 5
        for png in rendered:
            with Image.open(png) as page:
                assert page.getbbox() is not None and page.convert("L").getextrema()[0] < 128  # ink on it


def test_capture_slices_print_text_at_9_pt_or_more(reports: dict[str, Path]) -> None:
    smallest_css = min(int(px) for px in re.findall(r"font-size:\s*(\d+)px", DEMO_CSS.read_text()))
    for pdf in (reports["nb"], reports["en"]):
        pages = _page_sizes(pdf)
        listed = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
        images = [row.split() for row in listed.splitlines()[2:]]
        on_landscape = [row for row in images if pages[int(row[0]) - 1][0] > pages[int(row[0]) - 1][1]]
        text = _text(pdf)
        ranges = [(int(a), int(b)) for a, b in re.findall(r"(?:pixels|piksler) (\d+)–(\d+) (?:from the top|ovenfra)", text)]
        assert len(on_landscape) == len(ranges) >= 4  # one slice per landscape page, each with its position
        for row, (top, bottom) in zip(on_landscape, ranges):
            embedded_height, ppi = int(row[4]), float(row[13])
            points_per_css_px = 72 / ppi * embedded_height / (bottom - top)  # the demo captures at scale 1
            assert smallest_css * points_per_css_px >= 9, (row, top, bottom)
        assert re.search(r"(Del|Part) 2 (av|of) \d+ \((piksler|pixels) \d+–\d+", text)


def test_the_page_text_follows_as_real_text_of_9_pt(reports: dict[str, Path]) -> None:
    bbox = subprocess.run(["pdftotext", "-bbox", str(reports["nb"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    heights = []
    for page in bbox.split("<page ")[1:]:
        words = re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', page)
        texts = [html.unescape(w[2]) for w in words]
        if "Kari!" in texts and "kveldsvakt" in texts:  # the demo chat page's own words, as text
            heights += [float(bottom) - float(top) for top, bottom, word in words if word in ("kveldsvakt", "fredag?")]
    assert heights and min(heights) >= 9, heights


def test_chat_pictures_cover_period_counts_and_words(reports: dict[str, Path]) -> None:
    nb, en = (_text(reports[name]) for name in ("nb", "en"))
    tribunal = html.unescape(re.sub(r"<[^>]+>", " ", reports["tribunal"].read_text(encoding="utf-8")))
    flat = " ".join(nb.split())
    assert "Bilder i samtalen" in flat and "bilde 1 · med melding #1" in flat and "bilde 2 · med melding #2" in flat
    assert "Pictures in the conversation" in en and "picture 2" in en
    assert "Utarbeidet av Kari Nordmann" in flat
    assert "Tidsrom 30.03.2024 – 31.03.2024" in flat  # not stretched to the captures of today
    assert "og 1 fil til (se bilaget)" in flat and "og 6 filer til" in flat and "1 filer" not in flat
    assert "and 1 more file (see the exhibit)" in " ".join(en.split())
    for english in ("sha256sum FILE", "BUNDLE.zip", " GMT ·"):
        assert english not in flat, english
    assert "sha256sum FIL" in flat and "Notatets ord (lagret som filen diary.txt)" in flat
    assert "dagboknotat" in flat.split("Bilagsliste")[1].split("Tidslinje")[0]  # the kind unbroken in the table
    assert "Kari Nordmann" in tribunal and "Bilagene dekker 30.03.2024 – 31.03.2024" in " ".join(tribunal.split())
