"""``doctor``: every piece of the installation, named, with the command that fixes a broken one."""

from __future__ import annotations

from collections.abc import Iterator

import click

from evidencekit.cli._common import Command, emit, json_option, option, pass_session
from evidencekit.i18n import t


@click.command("doctor", cls=Command, help="doctor.help")
@option("--online", is_flag=True, help="doctor.opt_online")
@json_option
@pass_session
def doctor(session, online: bool, as_json: bool) -> int:
    from evidencekit import doctor as checks

    found = checks.run(session.home, online=online, passphrase=session.known_passphrase())
    emit(as_json, report_json(found), lambda: report_lines(found))
    return 0 if checks.healthy(found) else 1


def report_json(found: list) -> dict[str, object]:  # list[doctor.Check], imported late
    from evidencekit.doctor import healthy

    return {"healthy": healthy(found), "checks": [c.to_json() for c in found]}


def report_lines(found: list) -> Iterator[str]:
    """One line a piece; under a failing one, the command that fixes it."""
    from evidencekit.doctor import healthy

    for check in found:
        yield f"{t('doctor.status_' + check.status):<6} {check.message()}"
        if check.fix and check.status != "ok":
            yield "       " + t("doctor.fix", command=check.fix)
    yield t("doctor.all_well" if healthy(found) else "doctor.not_well")


COMMANDS = [doctor]
