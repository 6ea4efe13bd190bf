"""``setup``: the one guided command after installing (language, identity, connectors, extension)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from evidencekit.cli._common import Command, echo, emit, json_option, kdf_option, option, pass_session, passphrase
from evidencekit.cli.doctor import report_json, report_lines
from evidencekit.errors import UserError
from evidencekit.i18n import LANGUAGES, language, set_language, t


@click.command("setup", cls=Command, help="setup.help")
@option("--yes", is_flag=True, help="setup.opt_yes")
@kdf_option
@option("--extension-dir", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
        help="setup.opt_extension_dir")
@json_option
@pass_session
@click.pass_context
def setup(ctx: click.Context, session, yes: bool, kdf: str, extension_dir: Path | None, as_json: bool) -> int:
    from evidencekit import doctor, installation
    from evidencekit._internal.native_host import install as hosts

    asking = not yes and not as_json and sys.stdin.isatty()
    if asking and ctx.parent is not None and ctx.parent.params.get("lang") is None \
            and not os.environ.get("EVIDENCEKIT_LANG"):
        set_language(click.prompt(t("setup.ask_language"), type=click.Choice(LANGUAGES), default=language(),
                                  err=True))

    chosen: str | None = None  # the new locker's passphrase, so doctor below can look inside it

    def ask() -> str:
        nonlocal chosen
        if yes and os.environ.get("EVIDENCEKIT_PASSPHRASE") is None:
            raise UserError("setup.passphrase_env")
        for line in t("setup.passphrase_warning").split("\n"):
            echo(line, err=True)
        chosen = passphrase(confirm=True)
        return chosen

    identity = installation.ensure_identity(session.home, ask, session.locker, kdf)
    browsers = hosts.present()
    connectors = [entry for browser in browsers for entry in hosts.install(browser, None, session.home)]
    files = installation.write_extension(extension_dir or installation.default_extension_dir())
    changed = identity.created or files.changed or any(c.changed for c in connectors)
    checks = doctor.run(session.home, passphrase=chosen if chosen is not None else session.known_passphrase())
    data = {"language": language(), "changed": changed, "identity": {**identity.key.to_json(), "created": identity.created},
            "connectors": [c.to_json() for c in connectors], "extension": files.to_json(), "doctor": report_json(checks)}

    def lines() -> Iterator[str]:
        yield t("setup.identity_created" if identity.created else "setup.identity_present",
                fingerprint=identity.key.fingerprint)
        if not browsers:
            yield t("setup.no_browsers")
        for entry in connectors:
            label = doctor.BROWSER_LABELS[entry.browser]
            yield t("setup.connector_written" if entry.changed else "setup.connector_present", browser=label,
                    path=str(entry.manifest))
        yield t("setup.extension_written" if files.changed else "setup.extension_present", folder=str(files.folder),
                zip=str(files.zip))
        if files.xpi is None:
            yield t("setup.no_web_ext")
        for page in dict.fromkeys(installation.EXTENSIONS_PAGE[b] for b in browsers):
            key = "setup.next_firefox" if page.startswith("about:") else "setup.next_chromium"
            yield from t(key, page=page, folder=str(files.folder), xpi=str(files.xpi)).split("\n")
        yield t("setup.changed" if changed else "setup.unchanged")
        yield ""
        yield from report_lines(checks)

    emit(as_json, data, lines)
    return 0 if doctor.healthy(checks) else 1


COMMANDS = [setup]
