"""A chat holding one unbroken 65,536-character word reports in seconds, and the word is all there.

Chromium breaks lines in Thai and Khmer with a dictionary, at a cost growing much faster than an
unbroken run: such a Khmer word held a PDF up for half a minute (a longer one, for minutes). Runs
of ``render.LONG_RUN`` characters get ``word-break: break-all``; the text itself is unchanged.
"""

from __future__ import annotations

import random
import re
import shutil
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import quiet_locker_env, run_cli
from evidencekit._internal.report.render import LONG_RUN, unbroken

WORD = "".join(random.Random(65536).choice(string.ascii_letters) for _ in range(65536))
KHMER = ("សួស្តីបង" * 8192)[:65536]
THAI = ("สวัสดีครับ" * 6554)[:65536]
AFTER = "Written after the long words."


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """One WhatsApp export with the three words, imported and reported as HTML and PDF."""
    folder = tmp_path_factory.mktemp("long-word")
    chat = folder / "WhatsApp Chat with Per.txt"
    chat.write_text("".join(f"18/03/2022, 14:5{n} - Per: {text}\n"
                            for n, text in enumerate(["Hello", WORD, KHMER, THAI, AFTER])), encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        for name, value in quiet_locker_env(folder / "locker").items():
            env.setenv(name, value)
        made = {"html": folder / "report.html", "pdf": folder / "report.pdf"}
        for args in (("init", "--kdf", "interactive"), ("case", "new", "Long word case"),
                     ("import", chat, "--no-stamp"), ("report", "-o", made["html"]), ("report", "-o", made["pdf"])):
            done = run_cli(*args)  # each within the suite's deadline for one command
            assert done.code == 0, (args, done.err)
        yield made


def test_html_holds_every_word_marked_for_breaking_anywhere(reports: dict[str, Path]) -> None:
    html = reports["html"].read_text(encoding="utf-8")
    for word in (WORD, KHMER, THAI):
        assert f'<div class="text unbroken">{word}</div>' in html
    assert f'<div class="text">{AFTER}</div>' in html  # ordinary messages keep word-by-word wrapping


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext is not installed")
def test_pdf_holds_the_word(reports: dict[str, Path]) -> None:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(reports["pdf"]), "-"], capture_output=True,
                          text=True, check=True).stdout
    lines = [line for line in text.splitlines() if re.fullmatch(r"[A-Za-z]+", line)]
    assert WORD in "".join(lines)  # broken over lines and pages, every letter there in order
    assert AFTER in text
    assert "សួស្តី" in text and "สวัสดีครับ" in text  # complex scripts: pdftotext drops some shaped glyphs


def test_only_long_runs_are_unbroken() -> None:
    assert unbroken("x" * LONG_RUN) and unbroken(f"see {'y' * LONG_RUN} here")
    assert not unbroken("x" * (LONG_RUN - 1)) and not unbroken(" ".join(["z" * 999] * 100)) and not unbroken(None)
