"""``log`` and ``check``: the custody log, and proof that nothing changed."""

from __future__ import annotations

from collections.abc import Iterator

import click

from evidencekit._internal.dates import shown, times_in
from evidencekit.cli._common import Command, case_option, emit, json_option, option, pass_session
from evidencekit.i18n import t


@click.command(cls=Command, help="cli.log_help")
@case_option
@json_option
@pass_session
def log(session, case_ref: str | None, as_json: bool) -> None:
    entries = session.locker().log(case_ref)

    def lines() -> Iterator[str]:
        yield times_in()
        for e in entries:
            subject = f" {e.subject}" if e.subject else ""
            yield f"#{e.seq:<4} {shown(e.time, named=False)}  {t('actions.' + e.action)}{subject}  {e.digest[:16]}"

    emit(as_json, [e.to_json() for e in entries], lines)


@click.command(cls=Command, help="cli.check_help")
@case_option
@option("--all", "every_case", is_flag=True, help="cli.opt_all_cases")
@json_option
@pass_session
def check(session, case_ref: str | None, every_case: bool, as_json: bool) -> int:
    locker = session.locker()
    refs = [c.id for c in locker.cases()] if every_case else [case_ref]
    reports = [locker.check(ref) for ref in refs]

    def lines() -> Iterator[str]:
        for report in reports:
            yield report.summary(locker.case(report.case_id).title)
            for problem in report.problems:
                yield f"  - {problem.message()}"

    emit(as_json, [r.to_json() for r in reports] if every_case else reports[0].to_json(), lines)
    return 0 if all(r.ok for r in reports) else 1


COMMANDS = [log, check]
