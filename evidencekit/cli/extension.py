"""``native-host`` and ``extension``: the browser extension's link to the locker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import platformdirs

from evidencekit._internal.native_host import install as setup
from evidencekit.cli._common import Command, Group, argument, emit, json_option, option, pass_session
from evidencekit.errors import UserError
from evidencekit.i18n import t

LABELS = {"chromium": "Chromium", "chrome": "Google Chrome", "edge": "Microsoft Edge", "brave": "Brave",
          "firefox": "Firefox"}


def _origin(args: tuple[str, ...]) -> str | None:
    """Who started the host: Chrome passes the extension's origin, Firefox its add-on id second."""
    for arg in args:
        if arg.startswith("chrome-extension://"):
            return arg
    if len(args) >= 2 and args[1] == setup.GECKO_ID:
        return f"moz-extension:{args[1]}"
    return None


@click.command("native-host", cls=Command, help="extension.native_host_help", hidden=True,
               context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@argument("args", nargs=-1, type=click.UNPROCESSED)
@pass_session
def native_host(session, args: tuple[str, ...]) -> int:
    from evidencekit import native_host as host  # the host's machinery loads only when a browser starts it

    return host.serve(session.home, _origin(args))


@click.group(cls=Group, help="extension.group_help")
def extension() -> None:
    pass


browser_option = option("--browser", type=click.Choice(["all", *setup.BROWSERS]), default="all",
                        show_default=True, help="extension.opt_browser")
profile_option = option("--profile-dir", type=click.Path(path_type=Path, file_okay=False),
                        metavar="DIR", help="extension.opt_profile_dir")


@extension.command("install", help="extension.install_help")
@browser_option
@profile_option
@json_option
@pass_session
def extension_install(session, browser: str, profile_dir: Path | None, as_json: bool) -> None:
    done = setup.install(browser, profile_dir, session.home)

    def lines() -> Iterator[str]:
        for entry in done:
            yield t("extension.installed", browser=LABELS[entry.browser], path=str(entry.manifest))
        if any(e.browser != "firefox" for e in done):
            try:
                yield t("extension.next_steps_chromium", path=str(setup.source_dir()))
            except UserError as error:  # the connector is written; say where the files are missing
                yield error.message()
        if any(e.browser == "firefox" for e in done):
            yield t("extension.next_steps_firefox")

    emit(as_json, [e.to_json() for e in done], lines)


@extension.command("uninstall", help="extension.uninstall_help")
@browser_option
@profile_option
@json_option
@pass_session
def extension_uninstall(session, browser: str, profile_dir: Path | None, as_json: bool) -> None:
    removed = setup.uninstall(browser, profile_dir)

    def lines() -> Iterator[str]:
        if not removed:
            yield t("extension.nothing_removed")
        for entry in removed:
            yield t("extension.removed", browser=LABELS[entry.browser], path=str(entry.manifest))

    emit(as_json, [e.to_json() for e in removed], lines)


@extension.command("path", help="extension.path_help")
@option("--browser", type=click.Choice(["chromium", "firefox"]), default="chromium", show_default=True,
        help="extension.opt_path_browser")
@json_option
def extension_path(browser: str, as_json: bool) -> None:
    if browser == "firefox":
        folder = setup.firefox_dir(Path(platformdirs.user_cache_dir("evidencekit", appauthor=False))
                                   / "extension-firefox")
    else:
        folder = setup.source_dir()
    emit(as_json, {"browser": browser, "path": str(folder)}, lambda: iter([str(folder)]))


COMMANDS = [native_host, extension]
