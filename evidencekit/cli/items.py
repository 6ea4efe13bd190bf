"""``add``, ``note``, ``list``, ``show``, ``export``: evidence in and out of a case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from evidencekit._internal.dates import shown
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
from evidencekit.i18n import t
from evidencekit.models import IncidentFacts, Item
from evidencekit.notices import notice_of


@click.command(cls=Command, help="cli.add_help")
@argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@incident_options()
@option("--together", is_flag=True, help="cli.opt_together")
@case_option
@no_stamp_option
@json_option
@pass_session
def add(session, files: tuple[Path, ...], facts: IncidentFacts, together: bool, case_ref: str | None,
        no_stamp: bool, as_json: bool) -> None:
    locker = session.locker()
    locker.case(case_ref)  # fail on a missing case before asking for the passphrase
    secret = passphrase()
    total = sum(p.stat().st_size for p in files if p.is_file())
    with progress(as_json) as bar:
        items = locker.add_files(files, secret, facts, case_ref, together, progress=running(bar, "store", total))
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
@argument("ref", metavar="ITEM")
@case_option
@json_option
@pass_session
def show(session, ref: str, case_ref: str | None, as_json: bool) -> None:
    locker = session.locker()
    item = locker.item(ref, case_ref)
    text = locker.note_text(item)
    emit(as_json, {**item.to_json(), **({"text": text} if item.kind == "diary" else {})},
         lambda: _item_lines(item, text))


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


def _fact_lines(facts: IncidentFacts) -> Iterator[tuple[str, str]]:
    """Each fact the worker gave, as (label, value) in the reader's language, in a fixed order."""
    for key, value in (("incident_date", facts.date and shown(facts.date)), ("where", facts.where), ("channel", facts.channel),
                       ("who", facts.who and t("who." + facts.who)), ("person", facts.person),
                       ("witnesses", ", ".join(facts.witnesses)), ("reaction", facts.reaction),
                       ("consequences", facts.consequences), ("description", facts.description)):
        if value:
            yield t("items." + key), value


def _item_lines(item: Item, text: str) -> Iterator[str]:
    yield f"{item.label}  {t('kinds.' + item.kind)}"
    yield f"  {t('items.stored_at')}: {shown(item.created)}"
    for label, value in _fact_lines(item.incident):
        yield f"  {label}: {value}"
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
            yield f"    {t('items.modified')}: {file.modified}"
        if file.phash:
            yield f"    {t('items.phash')}: {file.phash}"
        if file.pdq:
            yield f"    {t('items.pdq')}: {file.pdq}"
    yield f"  {t('items.record_digest')}: {item.record_sha256}"


COMMANDS = [add, note, list_items, show, export, mark]
