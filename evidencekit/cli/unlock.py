"""``unlock`` and ``lock``: the passphrase once per login session instead of once per command."""

from __future__ import annotations

import click

from evidencekit import unlocking
from evidencekit.cli._common import Command, emit, json_option, pass_session, passphrase
from evidencekit.i18n import t


@click.command(cls=Command, help="cli.unlock_help")
@json_option
@pass_session
def unlock(session, as_json: bool) -> None:
    idle = unlocking.unlock(session.locker(), passphrase(unlocked=False))
    minutes = round(idle / 60)
    emit(as_json, {"unlocked": True, "idle_seconds": idle}, lambda: iter([t("agent.unlocked", minutes=minutes)]))


@click.command(cls=Command, help="cli.lock_help")
@json_option
@pass_session
def lock(session, as_json: bool) -> None:
    was = unlocking.lock(session.home)
    emit(as_json, {"locked": True, "was_unlocked": was},
         lambda: iter([t("agent.locked" if was else "agent.was_not_unlocked")]))


COMMANDS = [unlock, lock]
