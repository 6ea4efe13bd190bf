"""``case``: create, list, choose and show cases."""

from __future__ import annotations

from collections.abc import Iterator

import click

from evidencekit.cli._common import Group, emit, json_option, option, pass_session, passphrase
from evidencekit.i18n import t
from evidencekit.models import Case


@click.group(cls=Group, help="cli.case_help")
def case() -> None:
    pass


@case.command("new", help="cli.case_new_help")
@click.argument("title")
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
@click.argument("ref", metavar="CASE")
@json_option
@pass_session
def case_use(session, ref: str, as_json: bool) -> None:
    chosen = session.locker().use_case(ref)
    emit(as_json, chosen.to_json(), lambda: _case_lines(chosen, "cases.now_using"))


@case.command("show", help="cli.case_show_help")
@click.argument("ref", metavar="CASE", required=False)
@json_option
@pass_session
def case_show(session, ref: str | None, as_json: bool) -> None:
    chosen = session.locker().case(ref)
    emit(as_json, chosen.to_json(), lambda: _case_lines(chosen, "cases.heading"))


def _case_lines(c: Case, heading: str) -> Iterator[str]:
    yield t(heading, title=c.title, id=c.id)
    yield f"  {t('cases.created_at')}: {c.created}"
    yield f"  {t('cases.items')}: {c.item_count}"
    yield f"  {t('cases.signed_by')}: {t('cases.anonymous_key') if c.anonymous else t('cases.identity_key')}"
    yield f"  {t('keys.fingerprint')}: {c.key.fingerprint}"


COMMANDS = [case]
