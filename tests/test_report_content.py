"""The case report: a web capture, a WhatsApp import, a signed e-mail, a diary note and a
sensitive picture, reported in bokmål and English, as HTML and as PDF printed by Chromium.

The PDF is read back with poppler's ``pdftotext`` (exhibit numbers, digests, running headers)
and ``pdftoppm`` (every page renders); pages are also written under ``tests/artifacts/`` for
people to look at.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import string
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageFilter, ImageStat

from evidencekit import report
from evidencekit._internal.report.render import css_string
from evidencekit.i18n import catalog
from report_fixtures import HOSTILE, ReportCase, report_case

ARTIFACTS = Path(__file__).parent / "artifacts"
needs_poppler = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
                                   reason="poppler-utils (pdftotext, pdftoppm) are not installed")


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory):
    with report_case(tmp_path_factory.mktemp("report")) as built:
        yield built


def options(case: ReportCase, lang: str, **more: object) -> report.Options:
    return report.Options(lang=lang, extra_roots=case.roots, header_sources=case.header_sources, **more)


@pytest.fixture(scope="module")
def html(case: ReportCase) -> dict[str, str]:
    with case.locker() as locker:
        return {lang: report.render_html(locker, options=options(case, lang)) for lang in ("en", "nb")}


@pytest.fixture(scope="module")
def pdfs(case: ReportCase, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdf")
    written = {}
    with case.locker() as locker:
        for lang in ("en", "nb"):
            written[lang] = report.write(locker, folder / f"report-{lang}.pdf", options=options(case, lang))
    return written


class _Text(HTMLParser):
    """The text a reader sees: everything outside <style> and <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "script")
        self.sources += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(document: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(document)
    return " ".join(" ".join(parser.parts).split()), parser.sources


def fixed_fragments(domain: str) -> list[str]:
    """The literal pieces (between placeholders) of every English sentence of a catalog."""
    pieces = []
    for text in catalog("en", domain).values():
        for literal, *_ in string.Formatter().parse(text):
            literal = " ".join(literal.split()).strip(" .,:;()–-")
            if len(literal.split()) >= 3:
                pieces.append(literal)
    return pieces


def pdf_text(path: Path, *pages: int, layout: bool = False) -> str:
    args = ["pdftotext", *(["-layout"] if layout else []), "-enc", "UTF-8"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


# -- HTML ---------------------------------------------------------------------------------------

def test_both_languages_hold_every_exhibit_and_digest(case: ReportCase, html: dict[str, str]) -> None:
    with case.locker() as locker:
        items = locker.items()
    for lang, word in (("en", "Exhibit"), ("nb", "Bilag")):
        text, _ = visible(html[lang])
        for number, item in enumerate(items, start=1):
            assert f"{word} {number}" in text
            assert item.label in text
            for file in item.files:
                assert file.sha256 in text, (lang, item.label, file.name)
        assert case.home.as_posix() not in html[lang]  # no path of this machine in the report
    en, _ = visible(html["en"])
    assert "What this proves — and what it does not" in en
    assert "Hva dette beviser – og hva det ikke beviser" in visible(html["nb"])[0]
    assert "Bilagsliste" in visible(html["nb"])[0] and "Tidslinje" in visible(html["nb"])[0]


def test_no_fixed_english_sentence_remains_in_bokmal(html: dict[str, str]) -> None:
    nb, _ = visible(html["nb"])
    leftovers = [p for domain in ("report", "timestamps") for p in fixed_fragments(domain) if p in nb]
    assert not leftovers, leftovers
    for word in ("Exhibit", "Timeline", "Summary", "Signing key", "Trusted timestamp", "anonymous"):
        assert word not in nb, word
    assert '<html lang="nb">' in html["nb"]


def test_what_this_proves_is_written_from_the_facts(case: ReportCase, html: dict[str, str]) -> None:
    en, _ = visible(html["en"])
    assert re.search(r"Exhibits 1–6 existed no later than \d{4}-\d\d-\d\d \d\d:\d\d:\d\d: "
                     r"the time-stamping authority CN=Loopback TSA", en)
    assert re.search(r"Exhibits 1–6 existed before Bitcoin block \d+", en)
    assert "Exhibit 4: DKIM signature of football.example.com verified." in en
    assert "Exhibit 1: a browser asking for http://127.0.0.1:" in en
    assert "could have been edited before it was imported" in en
    assert "not that what it says happened" in en  # the diary note
    assert "no verified trusted timestamp" not in en
    nb, _ = visible(html["nb"])
    assert "Bilag 4: DKIM-signaturen til football.example.com er bekreftet." in nb


def test_transcripts_and_email_headers_are_shown(html: dict[str, str]) -> None:
    en, _ = visible(html["en"])
    assert "Dmitry S" in en and "карточка компании" in en and "Viewed once only image" in en
    assert "Joe SixPack <joe@football.example.com>" in en and "Is dinner ready?" in en
    assert "We lost the game." in en
    assert "read in Europe/Oslo, the default zone" in en  # where the chat's UTC times came from


def test_timeline_is_in_time_order(case: ReportCase) -> None:
    with case.locker() as locker:
        data = report.build(locker, options=options(case, "en"))
    keys = [data.clock.sort_key(e.when) for e in data.timeline.events]
    assert keys == sorted(keys)
    kinds = {e.kind for e in data.timeline.events}
    assert {"incident", "note", "capture", "message", "mail"} <= kinds
    assert data.timeline.events[0].kind == "mail"  # the 2003 e-mail comes first
    assert data.summary.by_who[0] == ("colleague", 2)


def test_report_is_self_contained_and_escapes_evidence(html: dict[str, str]) -> None:
    for document in html.values():
        _, sources = visible(document)
        assert sources and all(s.startswith("data:image/") for s in sources)
        assert "default-src 'none'" in document
        assert "<script" not in document.lower()
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in document
    assert HOSTILE in visible(html["en"])[0]
    css = str(css_string(HOSTILE))
    assert css.startswith('"') and css.endswith('"') and all(c not in css[1:-1] for c in '"<>{};/')


# -- pictures: look-alikes and sensitive ones ---------------------------------------------------

def _strips(section: object) -> list[str]:
    pictures = section.pictures  # type: ignore[attr-defined]
    return [s for shown in pictures if shown.picture for s in shown.picture.strips]


def test_look_alike_screenshots_are_shown_once(case: ReportCase, html: dict[str, str]) -> None:
    with case.locker() as locker:
        data = report.build(locker, options=options(case, "en"))
    first, again = data.sections[0], data.sections[1]
    [shown] = first.pictures
    assert [number for number, _ in shown.alike] == [2]
    [other] = again.pictures
    assert other.picture is None and other.elsewhere == 1
    assert other.member is not None and other.member.same_pixels
    strip = shown.picture.strips[0]  # type: ignore[union-attr]
    assert html["en"].count(strip) == 1
    text, _ = visible(html["en"])
    assert "looks the same as the one shown in exhibit 1" in text
    assert "Exhibit 2 (page-full.png) looks the same as this picture" in text


def _edges(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]


def test_sensitive_picture_is_blurred_unless_asked(case: ReportCase, html: dict[str, str]) -> None:
    label = case.labels["sensitive"]
    with case.locker() as locker:
        blurred = report.build(locker, options=options(case, "en"))
        clear = report.build(locker, options=options(case, "en", show_sensitive=True))
        original = Image.open(io.BytesIO(locker.blobs.open(locker.item(label).files[0].sha256).read()))
    section = next(s for s in blurred.sections if s.exhibit.label == label)
    clear_section = next(s for s in clear.sections if s.exhibit.label == label)
    assert section.blurred and section.pictures[0].picture.blurred  # type: ignore[union-attr]
    assert not clear_section.blurred
    for strip in _strips(clear_section):
        assert strip not in html["en"] and strip not in html["nb"]  # the clear picture never travels
    shown = Image.open(io.BytesIO(base64.b64decode(_strips(section)[0].split(",", 1)[1])))
    assert _edges(shown) < _edges(original.convert("RGB").resize(shown.size)) / 5
    assert "Blurred: this picture is marked sensitive." in visible(html["en"])[0]
    assert "Exhibit 6: pictures are blurred in this report" in visible(html["en"])[0]


# -- PDF ---------------------------------------------------------------------------------------

@needs_poppler
def test_pdf_text_has_exhibits_digests_and_running_headers(case: ReportCase, pdfs: dict[str, Path]) -> None:
    with case.locker() as locker:
        items = locker.items()
    for lang, word, page_word in (("en", "Exhibit", "Page"), ("nb", "Bilag", "Side")):
        text = pdf_text(pdfs[lang])
        for number, item in enumerate(items, start=1):
            assert f"{word} {number}" in text
            for file in item.files:
                assert file.sha256 in text, (lang, item.label, file.name)
        total = page_count(pdfs[lang])
        headed = 0
        for page in range(1, total + 1):
            lines = [line for line in pdf_text(pdfs[lang], page, layout=True).splitlines() if line.strip()]
            head = lines[0]
            assert f"{page_word} {page} / {total}" in head, (lang, page, head)
            opens = [m for m in re.finditer(rf"^\s*{word} (\d+): ", "\n".join(lines[1:4]), re.M)]
            if opens:  # an exhibit's first page: its number is in the running header
                assert f"{word} {opens[0].group(1)}" in head, (lang, page, head)
                headed += 1
        assert headed == len(items), (lang, headed)


@needs_poppler
def test_pdf_pages_render_and_are_kept_to_look_at(case: ReportCase, pdfs: dict[str, Path],
                                                   html: dict[str, str]) -> None:
    for lang, pdf in pdfs.items():
        folder = ARTIFACTS / f"report-pdf-{lang}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / "page")], check=True,
                       capture_output=True)
        pages = sorted(folder.glob("page-*.png"))
        assert len(pages) == page_count(pdf)
        for png in pages:
            with Image.open(png) as image:
                assert image.convert("L").getextrema()[0] < 128, png  # something dark (text) is on it
    _html_pages(html["nb"], ARTIFACTS / "report-html-nb")


def _html_pages(document: str, folder: Path) -> None:
    """The HTML as a reader's browser shows it (screen styles), cut into page-sized PNGs."""
    from capture_pages.site import session_or_skip

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session = session_or_skip()
    try:
        with session.context(viewport={"width": 1000, "height": 1400}, java_script_enabled=False) as context:
            page = context.new_page()
            page.set_content(document)
            shot = Image.open(io.BytesIO(page.screenshot(full_page=True)))
    finally:
        session.close()
    for n, top in enumerate(range(0, shot.height, 1400), start=1):
        shot.crop((0, top, shot.width, min(shot.height, top + 1400))).save(folder / f"page-{n:02d}.png")
    assert shot.height > 1400
