"""The report as HTML: the templates in ``evidencekit/data/report/`` filled from a ReportData.

Why Jinja with autoescape on: every string in a report comes from evidence — chat messages,
page titles, file names — written by the very people the report is about. Escaping by default
means none of it can become markup; the only raw text is our own stylesheet. For the same reason
every printed value passes ``shown`` (the environment's ``finalize``, so no template can forget
it): a right-to-left override in a sender or file name is written as ``[U+202E]`` instead of
turning ``photo…gpj.exe`` into ``photo…exe.jpg`` on screen and on paper.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, TextIO

import jinja2
from markupsafe import Markup

from evidencekit._internal.capture.model import ROLES
from evidencekit._internal.report.assemble import ReportData
from evidencekit._internal.report.duplicates import Member
from evidencekit._internal.report.exhibits import Exhibit
from evidencekit._internal.timeline import brand
from evidencekit._internal.visible import visible
from evidencekit.i18n import t
from evidencekit.models import DIARY_FILE, TRANSCRIPT_FILE
from evidencekit.notices import notice_of

TEMPLATE = "report.html.j2"
OWN_NAMES = {**ROLES, DIARY_FILE: "diary_note", TRANSCRIPT_FILE: "transcript"}  # file names evidencekit gives
LONG_RUN = 1000  # characters without white space; longer runs are laid out by ``unbroken``'s rule


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("evidencekit", "data/report"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,
    )
    env.filters["css_string"] = css_string
    env.tests["unbroken"] = unbroken
    return env


def unbroken(text: Any) -> bool:
    """Whether ``text`` holds a run of ``LONG_RUN`` characters or more without white space.

    Chromium finds line breaks in Thai, Khmer, Lao and Burmese with a dictionary, at a cost that
    grows much faster than an unbroken run (a Khmer word of 16,384 characters cost 1.5 s, of
    32,768 10 s, of 65,536 31 s; runs of 1,000 cost nothing measurable). The report gives such text the class ``unbroken``, whose
    ``word-break: break-all`` breaks between any two characters without the dictionary. The text
    itself is untouched (no inserted break characters), so what is copied from the report is
    what was in the evidence; ordinary messages keep their word-by-word wrapping.
    """
    return isinstance(text, str) and len(text) >= LONG_RUN and any(len(w) >= LONG_RUN for w in text.split())


def shown(value: Any) -> Any:
    """A value as the report prints it: control and bidi characters visible (see
    :mod:`evidencekit._internal.visible`). TAB and line breaks stay, being only layout in HTML.
    Markup we built (macros, the stylesheet) keeps its tags; the marker needs no escaping."""
    if not isinstance(value, str):
        return value
    text = visible(value, keep_layout=True)
    return Markup(text) if isinstance(value, Markup) else text


@cache
def stylesheet() -> str:
    return (resources.files("evidencekit") / "data" / "report" / "report.css").read_text(encoding="utf-8")


def css_string(text: str) -> Markup:
    """A CSS string literal that is safe inside ``<style>``: every character but ASCII letters and
    digits written as a hex escape (its trailing space is part of the escape), so no quote, brace
    or ``</style>`` can break out. Control and bidi characters are made visible first: in a running
    header an escaped override would still act."""
    body = "".join(c if c.isascii() and c.isalnum() else f"\\{ord(c):06x} " for c in visible(str(text)))
    return Markup(f'"{body}"')


def size(count: int, lang: str) -> str:
    value, unit = float(count), "B"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    shown = f"{int(value)}" if unit == "B" else f"{value:.1f}"
    return f"{shown.replace('.', ',') if lang == 'nb' else shown} {unit}"


def source_line(exhibit: Exhibit, lang: str) -> str:
    """Where an exhibit came from, in one line."""
    if exhibit.link is not None:
        return exhibit.link.message(lang)
    if exhibit.kind == "web":
        if exhibit.title:
            return t("report.source_web_titled", lang, url=exhibit.url or "-", title=exhibit.title)
        return t("report.source_web", lang, url=exhibit.url or "-")
    if exhibit.format:
        original = exhibit.item.files[0].name if exhibit.item.files else "-"  # imports keep the export first
        return t("report.source_import", lang, format=brand(exhibit.format), name=original)
    if exhibit.kind == "diary":
        return t("report.source_diary", lang)
    notice = notice_of(exhibit.item)
    if notice is not None:
        return t("report.source_notice", lang, summary=notice.summary(lang))
    return t("report.source_file", lang, names=", ".join(f.name for f in exhibit.item.files))


def alike_detail(member: Member | None, lang: str) -> str:
    if member is None:
        return ""
    if member.same_bytes:
        return t("report.alike_same_bytes", lang)
    if member.same_pixels:
        return t("report.alike_same_pixels", lang)
    if member.differs_in is not None:
        left, top, right, bottom = member.differs_in
        return t("report.alike_differs", lang, left=left, top=top, right=right, bottom=bottom)
    return t("report.alike_other_size", lang)


def file_role(name: str, lang: str) -> str:
    """What a file evidencekit named itself holds (``diary.txt``, ``page-full.png`` …), so a
    reader does not take an English file name for part of the evidence's own words."""
    role = OWN_NAMES.get(name)
    return t(f"report.file_role_{role}", lang) if role else ""


def _names(data: ReportData) -> dict[str, Any]:
    lang = data.lang
    return {
        "data": data,
        "css": Markup(stylesheet()),
        "_": lambda key, **params: t(f"report.{key}", lang, **params),
        "tt": lambda key, **params: t(key, lang, **params),
        "when": lambda value, seconds=False: data.clock.show(value, seconds),
        "day": data.clock.day,
        "size": lambda count: size(count, lang),
        "kind_name": lambda kind: t(f"report.kind_{kind}", lang),
        "source_line": lambda exhibit: source_line(exhibit, lang),
        "alike_detail": lambda member: alike_detail(member, lang),
        "file_role": lambda name: file_role(name, lang),
        "brand": brand,
    }


def render(data: ReportData) -> str:
    """The whole report as one self-contained HTML document."""
    return environment().get_template(TEMPLATE).render(**_names(data))


def write(data: ReportData, out: TextIO) -> None:
    """The same document written piece by piece, so a report of hundreds of screenshots is never
    held twice in memory."""
    for piece in environment().get_template(TEMPLATE).generate(**_names(data)):
        out.write(piece)
