"""Case reports for the people who receive evidence: HTML and PDF, in bokmål or English.

Why: a union representative, an HR officer or a lawyer reads; they do not run commands. A
report gives them a numbered exhibit list ("Bilag 1 …") with dates, sources, digests and
timestamp status, a timeline, each exhibit (screenshot, conversation, e-mail headers with the
DKIM result), what the evidence proves and what it does not, and how to check it themselves.

    html = report.render_html(locker, options=report.Options(lang="nb"))
    report.write(locker, Path("sak.pdf"), options=report.Options(lang="nb"))
    report.bundle_html(locker, case_id, items, folder)          # what a bundle carries (printed by the seal)
    report.redact(locker, "E-003", passphrase, boxes=[report.Box.parse("10,20,300,40")], masks=["Kari"])
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from evidencekit._internal.browser import BrowserSession
from evidencekit._internal.report.assemble import Options, ReportData, assemble
from evidencekit._internal.report import render as rendering
from evidencekit._internal.progress import Progress
from evidencekit._internal.report.pdf import print_file
from evidencekit._internal.redact import Box, Link, link
from evidencekit.errors import UserError
from evidencekit.i18n import language
from evidencekit.locker import Locker
from evidencekit.redaction import redact
from evidencekit.models import Item

__all__ = ["Box", "Link", "Options", "ReportData", "build", "bundle_html", "bundle_names", "link", "redact",
           "render_html", "write"]

SUFFIXES = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def build(locker: Locker, case: str | None = None, options: Options = Options()) -> ReportData:
    """What the report will say, as plain records (for tests and other front ends)."""
    return assemble(locker, case, options)


def render_html(locker: Locker, case: str | None = None, options: Options = Options()) -> str:
    """The report as one self-contained HTML document (styles and pictures inside)."""
    return rendering.render(assemble(locker, case, options))


def write(locker: Locker, output: Path, case: str | None = None, options: Options = Options(), *,
          session: BrowserSession | None = None, progress: Progress | None = None) -> Path:
    """Write the report as HTML or PDF, chosen by the file name; an existing file is never replaced.

    ``progress`` hears of the steps ``report`` (gathering the case) and ``print`` (the PDF)."""
    output = Path(output)
    kind = SUFFIXES.get(output.suffix.lower())
    if kind is None:
        raise UserError("report.bad_output", path=str(output))
    if output.exists():
        raise UserError("report.output_exists", path=str(output))
    if not output.parent.is_dir():
        raise UserError("report.output_folder_missing", path=str(output.parent))
    if progress:
        progress("report", 0, 0)
    data = assemble(locker, case, options)
    if kind == "html":
        _write_html(data, output)
        return output
    folder = locker.scratch()  # the page to print holds the evidence: in the locker, swept if killed
    try:
        page = folder / "report.html"
        _write_html(data, page)
        if progress:
            progress("print", 0, 0)
        return print_file(page, output, session)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bundle_names(lang: str) -> tuple[str, str]:
    """The report's file names inside a bundle: ``report-nb.html`` and ``report-nb.pdf``."""
    return f"report-{lang}.html", f"report-{lang}.pdf"


def bundle_html(locker: Locker, case: str, items: Sequence[Item | str], folder: Path, *,
                lang: str | None = None, name: str | None = None, held_back: frozenset[str] = frozenset()) -> Path:
    """The HTML report a bundle carries (``report-nb.html``).

    Sensitive pictures are always blurred here: a bundle travels, and the clear pictures are in
    it anyway for whoever chooses to open them. ``name`` is who prepared it, for the cover.
    Items in ``held_back`` (``seal --hash-only``) show their hashes only, nothing of their content.
    """
    if not items:
        raise UserError("report.nothing_to_report")
    lang = lang or language()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    html_name, _ = bundle_names(lang)
    _write_html(assemble(locker, case, Options(lang=lang, items=tuple(items), name=name, held_back=held_back)), folder / html_name)
    return folder / html_name


def _write_html(data: ReportData, path: Path) -> None:
    """Stream the report into ``path`` (all or nothing: written beside it, then renamed)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as out:
            rendering.write(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
