"""``unlock`` and ``lock``: the passphrase once per login session instead of once per command."""

from __future__ import annotations

import os
from collections.abc import Iterator

import click

from evidencekit import unlocking
from evidencekit.cli._common import Command, emit, json_option, pass_session, passphrase
from evidencekit.errors import Locked, UserError
from evidencekit.i18n import t


@click.command(cls=Command, help="cli.unlock_help")
@json_option
@pass_session
def unlock(session, as_json: bool) -> None:
    try:
        secret = passphrase(unlocked=False)  # the one typed now, never an earlier unlock's
    except Locked as exc:  # no terminal to ask on: "unlock first" would send her in a circle
        raise UserError("agent.needs_terminal") from exc
    idle = unlocking.unlock(session.locker(), secret)
    minutes = round(idle / 60)
    emit(as_json, {"unlocked": True, "idle_seconds": idle}, lambda: iter([t("agent.unlocked", minutes=minutes)]))


@click.command(cls=Command, help="cli.lock_help")
@json_option
@pass_session
def lock(session, as_json: bool) -> None:
    was = unlocking.lock(session.home)
    in_environment = os.environ.get("EVIDENCEKIT_PASSPHRASE") is not None

    def lines() -> Iterator[str]:
        yield t("agent.locked" if was else "agent.was_not_unlocked")
        if in_environment:
            yield t("agent.still_in_environment")

    emit(as_json, {"locked": True, "was_unlocked": was, "passphrase_in_environment": in_environment}, lines)


COMMANDS = [unlock, lock]
