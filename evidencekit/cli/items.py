"""``add``, ``note``, ``list``, ``show``, ``export``: evidence in and out of a case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit._internal.progress import running
from evidencekit.capture import export_wacz
from evidencekit.cli._common import (
    Command,
    argument,
    case_option,
    emit,
    incident_options,
    json_option,
    no_stamp_option,
    option,
    pass_session,
    passphrase,
    stamp_after_change,
)
from evidencekit.cli._progress import progress
from evidencekit._internal.report.clock import Clock
from evidencekit._internal.timeline import brand
from evidencekit.i18n import t
from evidencekit.models import PERIOD, IncidentFacts, Item
from evidencekit.notices import notice_of

if TYPE_CHECKING:
    from evidencekit.timeline import Glance


@click.command(cls=Command, help="cli.add_help")
@argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@incident_options()
@option("--together", is_flag=True, help="cli.opt_together")
@option("--again", is_flag=True, help="items.opt_again")
@case_option
@no_stamp_option
@json_option
@pass_session
def add(session, files: tuple[Path, ...], facts: IncidentFacts, together: bool, again: bool, case_ref: str | None,
        no_stamp: bool, as_json: bool) -> None:
    locker = session.locker()
    locker.case(case_ref)  # fail on a missing case before asking for the passphrase
    secret = passphrase()
    total = sum(p.stat().st_size for p in files if p.is_file())
    with progress(as_json) as bar:
        items = locker.add_files(files, secret, facts, case_ref, together, progress=running(bar, "store", total),
                                 again=again)
    emit(as_json, [i.to_json() for i in items], lambda: item_lines(items))
    stamp_after_change(locker, no_stamp, as_json)


@click.command(cls=Command, help="cli.note_help")
@argument("text")
@incident_options(describe=False)
@case_option
@no_stamp_option
@json_option
@pass_session
def note(session, text: str, facts: IncidentFacts, case_ref: str | None, no_stamp: bool, as_json: bool) -> None:
    locker = session.locker()
    locker.case(case_ref)
    item = locker.add_note(text, passphrase(), facts, case_ref)
    emit(as_json, item.to_json(), lambda: item_lines([item]))
    stamp_after_change(locker, no_stamp, as_json)


@click.command("list", cls=Command, help="cli.list_help")
@option("--tz", "zone", metavar="ZONE", help="timeline.opt_tz")
@case_option
@json_option
@pass_session
def list_items(session, zone: str | None, case_ref: str | None, as_json: bool) -> None:
    from evidencekit import timeline

    locker = session.locker()
    clock = Clock.of(zone)
    glances = [timeline.glance(locker, item) for item in locker.items(case_ref)]

    def lines() -> Iterator[str]:
        if not glances:
            yield t("items.none_yet")
            return
        yield t("timeline.zone_line_list", zone=clock.name)
        for g in glances:
            who = g.item.incident.who and t("who." + g.item.incident.who)
            said_by = " · ".join(part for part in (who, g.channel) if part)
            when = _when(clock, g.happened) if g.happened else t("items.undated")
            yield (f"{g.item.label}  {t('kinds.' + g.item.kind):<14} {when:<23}  "
                   f"{said_by + ': ' if said_by else ''}{g.summary}")

    emit(as_json, [{**g.item.to_json(), **g.to_json(clock)} for g in glances], lines)


@click.command(cls=Command, help="cli.show_help")
@argument("ref", metavar="ITEM")
@option("--tz", "zone", metavar="ZONE", help="timeline.opt_tz")
@case_option
@json_option
@pass_session
def show(session, ref: str, zone: str | None, case_ref: str | None, as_json: bool) -> None:
    from evidencekit import timeline

    locker = session.locker()
    item = locker.item(ref, case_ref)
    text = locker.note_text(item)
    seen = timeline.glance(locker, item, limit=200)
    clock = Clock.of(zone)
    emit(as_json, {**item.to_json(), **seen.to_json(clock), **({"text": text} if item.kind == "diary" else {})},
         lambda: _item_lines(item, text, seen, clock))


def _when(clock: Clock, value: str) -> str:
    """A date or time in the zone, a period as FROM – TO; a period within one day shows the day once."""
    shown = clock.show(value)
    start, _, end = value.partition(PERIOD)
    if end and clock.day(start) == clock.day(end) and len(shown.split(" – ")[0]) > 10:
        first, last = shown.split(" – ")
        return f"{first} – {last[11:]}"
    return shown


@click.command(cls=Command, help="cli.export_help")
@argument("ref", metavar="ITEM")
@option("-o", "--output", "target", required=True, type=click.Path(path_type=Path), help="cli.opt_export_dir")
@option("--wacz", is_flag=True, help="cli.opt_export_wacz")
@case_option
@json_option
@pass_session
def export(session, ref: str, target: Path, wacz: bool, case_ref: str | None, as_json: bool) -> None:
    if wacz:
        written = [export_wacz(session.locker(), ref, target, case_ref)]
    else:
        written = session.locker().export_item(ref, target, case_ref)
    emit(as_json, [str(p) for p in written], lambda: (t("items.exported", path=str(p)) for p in written))


@click.command(cls=Command, help="cli.mark_help")
@argument("ref", metavar="ITEM")
@option("--sensitive/--not-sensitive", default=True, help="cli.opt_sensitive")
@case_option
@json_option
@pass_session
def mark(session, ref: str, sensitive: bool, case_ref: str | None, as_json: bool) -> None:
    locker = session.locker()
    locker.item(ref, case_ref)
    item = locker.mark_sensitive(ref, passphrase(), sensitive, case_ref)
    emit(as_json, item.to_json(),
         lambda: iter([t("items.marked_sensitive" if item.sensitive else "items.marked_not_sensitive", item=item.label)]))


def item_lines(items: list[Item]) -> Iterator[str]:
    for item in items:
        for file in item.files:
            yield t("items.added", item=item.label, name=file.name, sha=file.sha256[:16])


def _fact_lines(facts: IncidentFacts, clock: Clock) -> Iterator[tuple[str, str]]:
    """Each fact the worker gave, as (label, value) in the reader's language, in a fixed order."""
    for key, value in (("incident_date", facts.date and _when(clock, facts.date)), ("where", facts.where), ("channel", facts.channel),
                       ("who", facts.who and t("who." + facts.who)), ("person", facts.person),
                       ("witnesses", ", ".join(facts.witnesses)), ("reaction", facts.reaction),
                       ("consequences", facts.consequences), ("description", facts.description)):
        if value:
            yield t("items." + key), value


def _item_lines(item: Item, text: str, seen: Glance, clock: Clock) -> Iterator[str]:
    yield f"{item.label}  {t('kinds.' + item.kind)}"
    yield f"  {t('timeline.zone_line_show', zone=clock.name)}"
    if seen.happened and not item.incident.date:
        yield f"  {t('items.happened')}: {_when(clock, seen.happened)}"
    yield f"  {t('items.stored_at')}: {clock.show(item.created)}"
    for label, value in _fact_lines(item.incident, clock):
        yield f"  {label}: {value}"
    if seen.channel and not item.incident.channel:
        yield f"  {t('items.channel')}: {seen.channel}"
    acquired = item.acquired
    if item.kind == "web":
        for key, value in (("web_url", acquired.get("final_url") or acquired.get("requested_url")),
                           ("web_requested", acquired.get("requested_url")
                            if acquired.get("requested_url") != acquired.get("final_url") else None),
                           ("web_title", acquired.get("title"))):
            if value:
                yield f"  {t('items.' + key)}: {value}"
    if acquired.get("method") == "import":
        source = (acquired.get("source") or {}).get("name")
        yield f"  {t('items.imported_from', format=brand(str(acquired.get('format') or '?')), name=source or '-')}"
    notice = notice_of(item)
    for label, value in notice.lines() if notice else []:
        yield f"  {label}: {value}"
    if text:
        yield f"  {t('items.note_text')}:"
        yield from (f"    {line}" for line in text.splitlines())
    for file in item.files:
        yield f"  - {file.name}  ({file.media_type}, {t('items.bytes', size=file.size)})"
        yield f"    sha256 {file.sha256}"
        if file.modified:
            yield f"    {t('items.modified')}: {clock.show(file.modified)}"
        if file.phash:
            yield f"    {t('items.phash')}: {file.phash}"
        if file.pdq:
            yield f"    {t('items.pdq')}: {file.pdq}"
    yield f"  {t('items.record_digest')}: {item.record_sha256}"


COMMANDS = [add, note, list_items, show, export, mark]
