"""Everything a report says about a case, gathered from the locker into plain records.

Why apart from rendering: what the report claims (which items, which proofs hold, which pictures
are blurred) is decided here, once, and tested directly; the templates only put it into words.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from cryptography import x509

from evidencekit import __version__
from evidencekit._internal import canonical, deadlines
from evidencekit._internal.report import (
    attachments,
    contents,
    duplicates,
    exhibits,
    pictures,
    proves,
    receivers,
    stamps,
    summary,
    timeline,
)
from evidencekit._internal.report import notices as reported
from evidencekit._internal.report.clock import Clock
from evidencekit._internal.report.transcript import Conversation, conversation
from evidencekit._internal.timestamps.bitcoin_headers import HeaderSource
from evidencekit.errors import UserError
from evidencekit.i18n import LANGUAGES, language
from evidencekit.models import Case, Item, ItemFile


@dataclass(frozen=True)
class Options:
    """What a report covers and how it reads.

    ``items``: labels (``E-003``) or items to include, default all; ``show_sensitive``: show
    pictures marked sensitive unblurred; ``name``: the worker's chosen name for the cover
    (default: anonymous); ``zone``: the time zone times are shown in (default Europe/Oslo);
    ``header_sources``/``extra_roots``: what timestamps are checked against, as for ``stamp --verify``;
    ``receiver``: one of ``receivers.RECEIVERS`` to arrange the report for, default the general report;
    ``held_back``: labels whose content is held back (a hash-only bundle): listed with their hashes,
    nothing of their pictures or text.
    """

    lang: str | None = None
    items: Sequence[str | Item] = ()
    show_sensitive: bool = False
    name: str | None = None
    zone: str | None = None
    header_sources: Sequence[HeaderSource] = ()
    extra_roots: Sequence[x509.Certificate] = ()
    receiver: str | None = None
    held_back: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Shown:
    """A picture of an exhibit, or where it is shown instead (a look-alike in another exhibit)."""

    file: ItemFile
    picture: pictures.Picture | None  # None: shown under ``elsewhere`` or unreadable
    elsewhere: int | None = None  # exhibit number where the look-alike is shown
    member: duplicates.Member | None = None
    alike: tuple[tuple[int, duplicates.Member], ...] = ()  # other exhibits' captures of this picture


@dataclass(frozen=True)
class _Wanted:
    """A picture still to be embedded: blurred or not, and its look-alikes in other exhibits."""

    file: ItemFile
    blur: bool
    alike: tuple[tuple[int, duplicates.Member], ...]
    css_scale: float | None = None  # a web page's picture: cut into readable slices


@dataclass(frozen=True)
class Section:
    """One exhibit's page: its pictures, conversation or text, and files not shown."""

    exhibit: exhibits.Exhibit
    pictures: tuple[Shown, ...]
    conversation: Conversation | None
    texts: tuple[tuple[str, str, bool], ...]  # (file name, text, cut short)
    blurred: bool
    held_back: bool = False  # hashes only: no picture, conversation or text of it
    page_text: tuple[str, str, bool, bool] | None = None  # a capture's visible text (see contents.page_text)
    thumbnails: tuple[attachments.Thumbnail, ...] = ()  # pictures sent in a chat

    def thumbnail_of(self, message: int, name: str) -> int | None:
        """The number of the thumbnail of an attachment, to name it beside its message."""
        return next((t.number for t in self.thumbnails if t.message == message and t.name == name), None)


@dataclass(frozen=True)
class ReportData:
    lang: str
    case: Case
    name: str | None
    generated: str
    tool: str
    clock: Clock
    exhibits: tuple[exhibits.Exhibit, ...]
    sections: tuple[Section, ...]
    timeline: timeline.Timeline
    summary: summary.Summary
    proves: proves.Proves
    proofs: tuple[stamps.Proof, ...]
    log_length: int
    log_head: str | None
    withheld: int
    covered: dict[tuple[int, str], str] = field(default_factory=dict)  # (seq, kind) -> exhibit numbers
    # arranged for one receiver (report --for), and the tribunal's time limit when it is near
    arranged: receivers.Arrangement | None = None
    deadline: deadlines.Deadline | None = None
    notices: tuple[reported.Given, ...] = ()  # notices given, in time order: the "Reported" section

    @cached_property
    def number_of(self) -> dict[str, int]:
        """Exhibit numbers by item label, for the lines (timeline) that name items."""
        return {e.label: e.number for e in self.exhibits}


def chosen_items(locker: Any, case_id: str, wanted: Sequence[str | Item]) -> list[Item]:
    """The items to report on, read fresh from the locker (marks may have changed), in order."""
    if not wanted:
        return locker.items(case_id)
    labels = {locker.item(w.label if isinstance(w, Item) else str(w), case_id).label for w in wanted}
    return [i for i in locker.items(case_id) if i.label in labels]


def assemble(locker: Any, case: str | None, options: Options) -> ReportData:
    lang = options.lang or language()
    if lang not in LANGUAGES:
        raise UserError("report.bad_lang", lang=lang, known=", ".join(LANGUAGES))
    if options.receiver is not None and options.receiver not in receivers.RECEIVERS:
        raise UserError("receivers.unknown", value=options.receiver, known=", ".join(receivers.RECEIVERS))
    clock = Clock.of(options.zone, lang)
    target = locker.case(case)
    if target.anonymous and options.name:
        raise UserError("report.name_on_anonymous")
    items = chosen_items(locker, target.id, options.items)
    if not items:
        raise UserError("report.nothing_to_report")
    entries = locker.log(target.id)
    found = stamps.proofs(locker.verify_stamps(target.id, options.header_sources, options.extra_roots))
    listed = exhibits.number(items, entries, found)
    conversations: dict[str, Conversation] = {}
    transcripts: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    texts: dict[str, list[tuple[str, str, bool]]] = {}
    page_texts: dict[str, tuple[str, str, bool, bool] | None] = {}
    for exhibit in listed:
        if exhibit.label in options.held_back:
            continue
        data = contents.transcript(locker, exhibit.item)
        if data is not None:
            conversations[exhibit.label] = conversation(data, lang, clock)
            transcripts[exhibit.label] = data
        elif exhibit.kind == "web":
            page_texts[exhibit.label] = contents.page_text(locker, exhibit.item)
        else:
            shown = [(f.name, *contents.text(locker, f)) for f in exhibit.item.files if contents.is_text(f)]
            texts[exhibit.label] = shown  # type: ignore[assignment]
            if exhibit.kind == "diary" and shown:
                notes[exhibit.label] = shown[0][1]
    sensitive = _sensitive(locker, listed)
    sections, blurred, grouped = _sections(locker, listed, conversations, texts, options.show_sensitive, sensitive,
                                           options.held_back)
    sections = [replace(section, page_text=page_texts.get(section.exhibit.label),
                        thumbnails=attachments.thumbnails(locker, section.exhibit.item, transcripts[section.exhibit.label],
                                                          section.exhibit.label in sensitive and not options.show_sensitive)
                        if section.exhibit.kind == "chat" and section.exhibit.label in transcripts else ())
                for section in sections]
    withheld = len(locker.items(target.id)) - len(items)
    head = entries[-1].digest if entries else None
    given = reported.build(listed, clock)  # notices: a section of their own, and a line in the timeline
    notes.update({g.label: g.notice.headline(lang) for g in given})
    line = timeline.build(listed, transcripts, notes, clock)
    return ReportData(
        lang=lang,
        case=target,
        name=options.name.strip() if options.name and options.name.strip() else None,
        generated=canonical.utc_now(),
        tool=f"evidencekit {__version__}",
        clock=clock,
        exhibits=tuple(listed),
        sections=tuple(sections),
        timeline=line,
        summary=summary.build(listed, transcripts, conversations, withheld, clock),
        proves=proves.build(listed, conversations, log_length=len(entries), log_head=head,
                            fingerprint=target.key.fingerprint, withheld=withheld,
                            blurred=blurred, grouped=grouped, lang=lang, clock=clock),
        proofs=tuple(found),
        log_length=len(entries),
        log_head=head,
        withheld=withheld,
        covered=_covered(listed),
        arranged=receivers.arrange(locker, options.receiver, listed, locker.case_description(target.id),
                                   given) if options.receiver else None,
        deadline=deadlines.deadline(locker, items, clock),
        notices=given,
    )


def _covered(listed: Sequence[exhibits.Exhibit]) -> dict[tuple[int, str], str]:
    """For the list of proofs: which exhibits each (log entry, kind) proof speaks for."""
    by_proof: dict[tuple[int, str], list[int]] = {}
    for exhibit in listed:
        for proof in exhibit.proofs:
            by_proof.setdefault((proof.seq, proof.kind), []).append(exhibit.number)
    return {key: proves.numbers(value) for key, value in by_proof.items()}


def _original_sensitive(locker: Any, exhibit: exhibits.Exhibit) -> bool:
    """A redaction of a sensitive item is treated as sensitive too (boxes rarely hide all of it)."""
    link = exhibit.link
    if link is None or link.status == "not_logged":
        return False
    try:
        return bool(locker.item(link.original, exhibit.item.case_id).sensitive)
    except UserError:
        return False


def _sensitive(locker: Any, listed: Sequence[exhibits.Exhibit]) -> set[str]:
    """Labels of the exhibits whose pictures are blurred unless asked otherwise."""
    return {e.label for e in listed if e.item.sensitive or _original_sensitive(locker, e)}


def _shown_whole(exhibit: exhibits.Exhibit, conversations: dict[str, Conversation]) -> list[ItemFile]:
    """The pictures shown at full size: none for a chat, whose pictures are its thumbnails."""
    return [] if exhibit.kind == "chat" and exhibit.label in conversations else contents.pictures(exhibit.item)


def _sections(locker: Any, listed: Sequence[exhibits.Exhibit], conversations: dict[str, Conversation],
              texts: dict[str, list[tuple[str, str, bool]]], show_sensitive: bool, sensitive: set[str],
              held_back: frozenset[str] = frozenset()) -> tuple[list[Section], list[int], bool]:
    """Each exhibit's pictures (look-alikes shown once, sensitive ones blurred) and contents."""
    number = {e.label: e.number for e in listed}
    candidates = [(e.label, f) for e in listed if e.kind != "redaction" and e.label not in held_back
                  for f in _shown_whole(e, conversations)]
    groups = duplicates.group(locker, candidates)
    shown_by: dict[tuple[str, str], duplicates.Group] = {}
    member_of: dict[tuple[str, str], tuple[duplicates.Group, duplicates.Member]] = {}
    for group in groups:
        shown_by[(group.shown.label, group.shown.file.sha256)] = group
        for member in group.others:
            member_of[(member.label, member.file.sha256)] = (group, member)
    plan: list[tuple[exhibits.Exhibit, list[Shown | _Wanted]]] = []
    for exhibit in listed:
        planned: list[Shown | _Wanted] = []
        for file in [] if exhibit.label in held_back else _shown_whole(exhibit, conversations):
            key = (exhibit.label, file.sha256)
            if key in member_of:
                group, member = member_of[key]
                planned.append(Shown(file, None, number[group.shown.label], member))
                continue
            group = shown_by.get(key)
            labels = {m.label for m in group.members} if group else {exhibit.label}
            alike = tuple((number[m.label], m) for m in group.others) if group else ()
            planned.append(_Wanted(file, not show_sensitive and bool(labels & sensitive), alike,
                                   _css_scale(exhibit) if exhibit.kind == "web" else None))
        plan.append((exhibit, planned))
    # Decoding, scaling and encoding pictures is most of a report's work; Pillow does it outside
    # the GIL, so pictures are prepared side by side.
    wanted = [w for _, planned in plan for w in planned if isinstance(w, _Wanted)]
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        made = dict(zip(map(id, wanted), pool.map(lambda w: pictures.embed(locker, w.file, w.blur, w.css_scale), wanted)))
    sections, blurred = [], []
    for exhibit, planned in plan:
        shown = [p if isinstance(p, Shown) else Shown(p.file, made[id(p)], alike=p.alike) for p in planned]
        blur_any = any(isinstance(p, _Wanted) and p.blur for p in planned)
        if blur_any:
            blurred.append(exhibit.number)
        sections.append(Section(exhibit, tuple(shown), conversations.get(exhibit.label),
                                tuple(texts.get(exhibit.label, ())), blur_any, exhibit.label in held_back))
    return sections, blurred, bool(groups)


def _css_scale(exhibit: exhibits.Exhibit) -> float:
    """Picture pixels per CSS pixel of a capture: the page's picture width over its CSS width,
    else the window's device scale factor, else 1."""
    page, viewport = exhibit.acquired.get("page") or {}, exhibit.acquired.get("viewport") or {}
    try:
        if page.get("image_width") and page.get("page_width"):
            return max(0.25, float(page["image_width"]) / float(page["page_width"]))
        return max(0.25, float(viewport.get("device_scale_factor") or 1))
    except (TypeError, ValueError, AttributeError):
        return 1.0
