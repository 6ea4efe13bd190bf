"""``case``: create, list, choose and show cases."""

from __future__ import annotations

from collections.abc import Iterator

import click

from evidencekit._internal.dates import shown
from evidencekit.cli._common import (
    Group,
    argument,
    case_option,
    emit,
    json_option,
    no_stamp_option,
    option,
    pass_session,
    passphrase,
    stamp_after_change,
)
from evidencekit.i18n import t
from evidencekit.models import Case


@click.group(cls=Group, help="cli.case_help")
def case() -> None:
    pass


@case.command("new", help="cli.case_new_help")
@argument("title")
@option("--anonymous", is_flag=True, help="cli.opt_anonymous")
@json_option
@pass_session
def case_new(session, title: str, anonymous: bool, as_json: bool) -> None:
    created = session.locker().create_case(title, passphrase(), anonymous=anonymous)
    emit(as_json, created.to_json(), lambda: _case_lines(created, "cases.created"))


@case.command("list", help="cli.case_list_help")
@json_option
@pass_session
def case_list(session, as_json: bool) -> None:
    cases = session.locker().cases()

    def lines() -> Iterator[str]:
        if not cases:
            yield t("cases.none_yet")
        for c in cases:
            marker = "*" if c.current else " "
            anonymous = f" ({t('cases.anonymous')})" if c.anonymous else ""
            yield f"{marker} {c.id}  {c.title}{anonymous}  {t('cases.item_count', count=c.item_count)}"

    emit(as_json, [c.to_json() for c in cases], lines)


@case.command("use", help="cli.case_use_help")
@argument("ref", metavar="CASE")
@json_option
@pass_session
def case_use(session, ref: str, as_json: bool) -> None:
    chosen = session.locker().use_case(ref)
    emit(as_json, chosen.to_json(), lambda: _case_lines(chosen, "cases.now_using"))


@case.command("show", help="cli.case_show_help")
@argument("ref", metavar="CASE", required=False)
@json_option
@pass_session
def case_show(session, ref: str | None, as_json: bool) -> None:
    from evidencekit._internal import deadlines
    from evidencekit._internal.report.clock import Clock

    locker = session.locker()
    chosen = locker.case(ref)
    description = locker.case_description(chosen.id)
    warning = deadlines.of_case(locker, chosen.id)
    data = {**chosen.to_json(), "description": description and description.to_json(),
            "deadline": warning and warning.to_json()}

    def lines() -> Iterator[str]:
        yield from _case_lines(chosen, "cases.heading")
        if description:
            written = Clock.of(None).show(description.written)
            yield f"  {t('cases.description')} ({t('cases.description_written', when=written, seq=description.seq)}):"
            yield from (f"    {line}" for line in description.text.splitlines())
        if warning:
            yield f"  ! {warning.sentence()}"

    emit(as_json, data, lines)


@case.command("describe", help="cli.case_describe_help")
@argument("text")
@case_option
@no_stamp_option
@json_option
@pass_session
def case_describe(session, text: str, case_ref: str | None, no_stamp: bool, as_json: bool) -> None:
    locker = session.locker()
    chosen = locker.case(case_ref)  # an unknown case fails before the passphrase is asked
    written = locker.describe_case(text, passphrase(), chosen.id)
    emit(as_json, written.to_json(), lambda: iter([t("cases.described", title=chosen.title, seq=written.seq)]))
    stamp_after_change(locker, no_stamp, as_json)


def _case_lines(c: Case, heading: str) -> Iterator[str]:
    yield t(heading, title=c.title, id=c.id)
    yield f"  {t('cases.created_at')}: {shown(c.created)}"
    yield f"  {t('cases.items')}: {c.item_count}"
    yield f"  {t('cases.signed_by')}: {t('cases.anonymous_key') if c.anonymous else t('cases.identity_key')}"
    yield f"  {t('keys.fingerprint')}: {c.key.fingerprint}"


COMMANDS = [case]
