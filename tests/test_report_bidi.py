"""A right-to-left override cannot reverse what the report shows.

``photo<RLO>gpj.exe`` is displayed by a browser or PDF viewer as ``photoexe.jpg``. A case title,
a chat sender, a message and a file name carrying overrides and escape characters go into a real
report (HTML, and PDF printed by Chromium); every one must be shown as ``[U+202E]`` and the
like, in the page, in attributes and in the running header, and the PDF's text must not read
``exe.jpg``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup

from bundle_support import invoke
from conftest import PASSPHRASE
from evidencekit._internal.report.render import css_string, shown

RLO = "\u202e"
RAW = (RLO, "\u2066", "\x1b", "\x9b")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """One case with an override in its title, a chat sender, a message and a file name; its
    report as HTML and as PDF."""
    folder = tmp_path_factory.mktemp("bidi")
    chat = folder / "WhatsApp Chat with Kari.txt"
    chat.write_text(f"18.03.2022, 14:50 - Kari {RLO}Nordmann: Look at photo{RLO}gpj.exe \x1b[2Jnow\n"
                    f"18.03.2022, 14:57 - Kari {RLO}Nordmann: photo{RLO}gpj.exe (file attached)\n", encoding="utf-8")
    named = folder / f"invoice{RLO}fdp.exe"
    named.write_text("Pay now.\n")
    env = {"EVIDENCEKIT_HOME": str(folder / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
           "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}
    made = {"html": folder / "report.html", "pdf": folder / "report.pdf"}
    for args in (("init", "--kdf", "interactive"), ("case", "new", f"Kari {RLO}\u2066Nordmann"),
                 ("import", chat, "--no-stamp"), ("add", named, "--no-stamp"),
                 ("report", "-o", made["html"]), ("report", "-o", made["pdf"])):
        done = invoke(*args, env=env)
        assert done.code == 0, (args, done.out, done.err)
    yield made


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [value or "" for _, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_shows_every_override(reports: dict[str, Path]) -> None:
    document = reports["html"].read_text(encoding="utf-8")
    assert not [c for c in RAW if c in document]  # not in text, attributes, nor the running header
    parser = _Text()
    parser.feed(document)
    text = "".join(parser.text)
    for expected in ("Kari [U+202E][U+2066]Nordmann", "Kari [U+202E]Nordmann", "photo[U+202E]gpj.exe",
                     "[U+001B][2Jnow", "invoice[U+202E]fdp.exe"):
        assert expected in text, expected
    assert any("invoice[U+202E]fdp.exe" in value for value in parser.attributes + [text])


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext is not installed")
def test_pdf_does_not_read_reversed(reports: dict[str, Path]) -> None:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(reports["pdf"]), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert not [c for c in RAW if c in text]
    for reversed_reading in ("exe.jpg", "exe.pdf", "nnamdroN"):
        assert reversed_reading not in text, reversed_reading
    assert "photo[U+202E]gpj.exe" in "".join(text.split())
    assert "invoice[U+202E]fdp.exe" in "".join(text.split())


def test_our_markup_keeps_its_tags_and_layout() -> None:
    built = shown(Markup(f"<div class=\"text\">line one\n\tphoto{RLO}gpj.exe</div>"))
    assert isinstance(built, Markup)
    assert built == Markup("<div class=\"text\">line one\n\tphoto[U+202E]gpj.exe</div>")
    assert shown(f"a\r\nb{RLO}\x00") == "a\r\nb[U+202E][U+0000]"
    assert shown(3) == 3 and shown(None) is None
    assert css_string(f"Case {RLO}x") == css_string("Case [U+202E]x")
