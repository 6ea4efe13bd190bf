"""``init`` and ``keys``: the worker's identity key."""

from __future__ import annotations

from collections.abc import Iterator

import click

from evidencekit._internal.keys import require_strong_passphrase
from evidencekit.cli._common import Command, Group, emit, json_option, kdf_option, pass_session, passphrase
from evidencekit.errors import LockerError, UserError
from evidencekit.i18n import t
from evidencekit.locker import Locker
from evidencekit.models import KeyInfo


@click.command(cls=Command, help="cli.init_help")
@kdf_option
@json_option
@pass_session
def init(session, kdf: str, as_json: bool) -> None:
    state = Locker.state(session.home)
    if state == "plain":
        raise LockerError("locker.needs_upgrade")
    if state != "none":
        raise UserError("keys.identity_exists")
    secret = passphrase(confirm=True)
    require_strong_passphrase(secret)  # before the locker exists: a refusal leaves nothing behind
    session.use(secret, Locker.create(session.home, secret, kdf))
    info = session.locker().identity()
    emit(as_json, info.to_json(), lambda: _key_lines(info, "keys.created"))


@click.group(cls=Group, help="cli.keys_help")
def keys() -> None:
    pass


@keys.command("show", help="cli.keys_show_help")
@json_option
@pass_session
def keys_show(session, as_json: bool) -> None:
    info = session.locker().identity()
    emit(as_json, info.to_json(), lambda: _key_lines(info, "keys.heading"))


def _key_lines(info: KeyInfo, heading: str) -> Iterator[str]:
    yield t(heading)
    yield f"  {t('keys.public_key')}: {info.public_key}"
    yield f"  {t('keys.fingerprint')}: {info.fingerprint}"


COMMANDS = [init, keys]
