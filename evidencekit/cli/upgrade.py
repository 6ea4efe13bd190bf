"""``upgrade``: turn a locker made before encryption at rest into an encrypted one."""

from __future__ import annotations

import os
import sys

import click

from evidencekit.cli._common import Command, emit, json_option, pass_session
from evidencekit.cli._progress import progress
from evidencekit.errors import UserError
from evidencekit.i18n import t


@click.command(cls=Command, help="cli.upgrade_help")
@json_option
@pass_session
def upgrade(session, as_json: bool) -> None:
    from evidencekit import upgrading

    home = upgrading.needed(session.home)  # "already", or no locker: said before asking for anything
    with progress(as_json) as shown:
        done = upgrading.upgrade(home, _old_passphrase(), shown)
    emit(as_json, {"upgraded": True, "cases": done.cases, "blobs": done.blobs, "bytes": done.size},
         lambda: iter([t("upgrade.done", count=done.cases, files=done.blobs)]))


def _old_passphrase() -> str:
    """The passphrase of the locker to upgrade: from the environment or asked (``unlock`` cannot
    open an old locker, so its login session's agent has none)."""
    given = os.environ.get("EVIDENCEKIT_PASSPHRASE")
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise UserError("upgrade.passphrase_needed")
    return str(click.prompt(t("keys.prompt"), hide_input=True, err=True))


COMMANDS = [upgrade]
