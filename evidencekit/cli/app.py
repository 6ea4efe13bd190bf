"""``app``: open the worker's case page ("My case") in the browser that has the extension."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import click

from evidencekit._internal.browser import BrowserNotFound, find_browser, has_display
from evidencekit._internal.native_host.install import EXTENSION_ID
from evidencekit.cli._common import Command, emit, json_option, option, pass_session
from evidencekit.i18n import t

CASE_PAGE = f"chrome-extension://{EXTENSION_ID}/case.html"


def _open(url: str) -> str | None:
    """Start the browser on the page, detached (it outlives this command); its path, or None."""
    if not has_display():
        return None
    try:
        program = find_browser()
    except BrowserNotFound:
        return None
    try:
        subprocess.Popen([str(program.path), url], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return None
    return str(program.path)


@click.command(cls=Command, help="extension.app_help")
@option("--no-open", is_flag=True, help="extension.app_opt_no_open")
@json_option
@pass_session
def app(session, no_open: bool, as_json: bool) -> None:
    browser = None if no_open else _open(CASE_PAGE)

    def lines() -> Iterator[str]:
        if browser:
            yield t("extension.app_opened", browser=browser)
        else:
            yield t("extension.app_manual", url=CASE_PAGE)

    emit(as_json, {"url": CASE_PAGE, "opened": browser is not None, "browser": browser}, lines)


COMMANDS = [app]
