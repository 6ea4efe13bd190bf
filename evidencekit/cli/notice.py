"""``notice``: record that, when and to whom the worker reported what happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from evidencekit._internal.dates import Reading, shown
from evidencekit.cli._common import (
    Command,
    When,
    argument,
    case_option,
    emit,
    json_option,
    no_stamp_option,
    option,
    pass_session,
    passphrase,
    say_back,
    stamp_after_change,
)
from evidencekit.cli.items import item_lines
from evidencekit.i18n import t
from evidencekit.models import Item
from evidencekit.notices import notice_of, record_notice


@click.command(cls=Command, help="notices.cli_help")
@argument("files", nargs=-1, type=click.Path(path_type=Path, readable=False))
@option("--to", "to", required=True, metavar="RECEIVER", help="notices.cli_opt_to")
@option("--date", "when", required=True, type=When(), metavar="DATE", help="notices.cli_opt_date")
@option("--name", metavar="WHO", help="notices.cli_opt_name")
@option("--reference", metavar="CASE-NO", help="notices.cli_opt_reference")
@option("--note", help="notices.cli_opt_note")
@case_option
@no_stamp_option
@json_option
@pass_session
def notice(session, files: tuple[Path, ...], to: str, when: Reading, name: str | None, reference: str | None,
           note: str | None, case_ref: str | None, no_stamp: bool, as_json: bool) -> None:
    locker = session.locker()
    locker.case(case_ref)  # a missing case fails before the passphrase is asked
    item = record_notice(locker, passphrase(), to, when.value, name, reference, note, files, case_ref)
    emit(as_json, item.to_json(), lambda: _recorded(item))
    say_back(when)
    stamp_after_change(locker, no_stamp, as_json)


def _recorded(item: Item) -> Iterator[str]:
    given = notice_of(item)
    assert given is not None  # record_notice made it
    yield t("notices.recorded", item=item.label, headline=given.headline(), date=shown(given.date))
    yield from item_lines([item])


COMMANDS = [notice]
