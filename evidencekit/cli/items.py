"""``add``, ``note``, ``list``, ``show``, ``export``: evidence in and out of a case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from evidencekit.cli._common import (
    Command,
    case_option,
    emit,
    json_option,
    no_stamp_option,
    option,
    pass_session,
    passphrase,
    progress_bar,
    stamp_after_change,
)
from evidencekit.i18n import t
from evidencekit.locker import normalise_date
from evidencekit.models import WHO, IncidentFacts, Item
from evidencekit.notices import notice_of

def facts_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What the worker says happened, the same four options wherever evidence comes in."""
    for decorate in reversed((
        option("--note", help="cli.opt_note"),
        option("--incident-date", metavar="DATE", help="cli.opt_incident_date"),
        option("--who", type=click.Choice(WHO), help="cli.opt_who"),
        option("--channel", help="cli.opt_channel"),
    )):
        command = decorate(command)
    return command


def incident_facts(incident_date: str | None, who: str | None, channel: str | None, note: str | None) -> IncidentFacts:
    return IncidentFacts(normalise_date(incident_date) if incident_date else None, who, channel, note)


@click.command(cls=Command, help="cli.add_help")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@facts_options
@option("--together", is_flag=True, help="cli.opt_together")
@case_option
@no_stamp_option
@json_option
@pass_session
def add(session, files: tuple[Path, ...], note: str | None, incident_date: str | None, who: str | None,
        channel: str | None, together: bool, case_ref: str | None, no_stamp: bool, as_json: bool) -> None:
    facts = incident_facts(incident_date, who, channel, note)
    locker = session.locker()
    locker.case(case_ref)  # fail on a missing case before asking for the passphrase
    secret = passphrase()
    total = sum(p.stat().st_size for p in files if p.is_file())
    with progress_bar(total, "items.progress") as advance:
        items = locker.add_files(files, secret, facts, case_ref, together, progress=advance)
    emit(as_json, [i.to_json() for i in items], lambda: item_lines(items))
    stamp_after_change(locker, no_stamp, as_json)


@click.command(cls=Command, help="cli.note_help")
@click.argument("text")
@option("--date", "when", metavar="DATE", help="cli.opt_note_date")
@case_option
@no_stamp_option
@json_option
@pass_session
def note(session, text: str, when: str | None, case_ref: str | None, no_stamp: bool, as_json: bool) -> None:
    locker = session.locker()
    locker.case(case_ref)
    item = locker.add_note(text, passphrase(), when, case_ref)
    emit(as_json, item.to_json(), lambda: item_lines([item]))
    stamp_after_change(locker, no_stamp, as_json)



@click.command("list", cls=Command, help="cli.list_help")
@case_option
@json_option
@pass_session
def list_items(session, case_ref: str | None, as_json: bool) -> None:
    items = session.locker().items(case_ref)

    def lines() -> Iterator[str]:
        if not items:
            yield t("items.none_yet")
        for item in items:
            names = ", ".join(f.name for f in item.files)
            notice = notice_of(item)  # a notice: when and to whom she reported, then its files
            when = notice.date if notice else item.incident.date or item.created[:10]
            what = f"{notice.headline()}  {names}".rstrip() if notice else names
            yield f"{item.label}  {t('kinds.' + item.kind):<12} {when:<10}  {what}"

    emit(as_json, [i.to_json() for i in items], lines)


@click.command(cls=Command, help="cli.show_help")
@click.argument("ref", metavar="ITEM")
@case_option
@json_option
@pass_session
def show(session, ref: str, case_ref: str | None, as_json: bool) -> None:
    item = session.locker().item(ref, case_ref)
    emit(as_json, item.to_json(), lambda: _item_lines(item))


@click.command(cls=Command, help="cli.export_help")
@click.argument("ref", metavar="ITEM")
@option("-o", "--output", "target", required=True, type=click.Path(path_type=Path), help="cli.opt_export_dir")
@case_option
@json_option
@pass_session
def export(session, ref: str, target: Path, case_ref: str | None, as_json: bool) -> None:
    written = session.locker().export_item(ref, target, case_ref)
    emit(as_json, [str(p) for p in written], lambda: (t("items.exported", path=str(p)) for p in written))


@click.command(cls=Command, help="cli.mark_help")
@click.argument("ref", metavar="ITEM")
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


def _item_lines(item: Item) -> Iterator[str]:
    yield f"{item.label}  {t('kinds.' + item.kind)}"
    yield f"  {t('items.stored_at')}: {item.created}"
    facts = item.incident
    for key, value in (("incident_date", facts.date), ("who", facts.who and t("who." + facts.who)),
                       ("channel", facts.channel), ("description", facts.description)):
        if value:
            yield f"  {t('items.' + key)}: {value}"
    notice = notice_of(item)
    for label, value in notice.lines() if notice else []:
        yield f"  {label}: {value}"
    for file in item.files:
        yield f"  - {file.name}  ({file.media_type}, {t('items.bytes', size=file.size)})"
        yield f"    sha256 {file.sha256}"
        if file.modified:
            yield f"    {t('items.modified')}: {file.modified}"
        if file.phash:
            yield f"    {t('items.phash')}: {file.phash}"
    yield f"  {t('items.record_digest')}: {item.record_sha256}"


COMMANDS = [add, note, list_items, show, export, mark]
