"""``capture`` and ``browser``: web pages into the case, and logged-in browser profiles."""

from __future__ import annotations

import shutil

import click

from evidencekit.cli._common import (
    Command,
    argument,
    echo,
    Group,
    case_option,
    emit,
    incident_options,
    json_option,
    no_stamp_option,
    option,
    pass_session,
    passphrase,
    stamp_after_change,
)
from evidencekit.cli.items import item_lines
from evidencekit.i18n import t
from evidencekit.models import IncidentFacts, Item


@click.command(cls=Command, help="cli.capture_help")
@argument("url", required=False)
@incident_options()
@option("--profile", metavar="NAME", help="cli.opt_profile")
@option("--scroll/--no-scroll", default=True, show_default=True, help="cli.opt_scroll")
@option("--max-height", type=click.IntRange(500, 200_000), default=40_000, show_default=True, help="cli.opt_max_height")
@option("--wait-for", metavar="SELECTOR", help="cli.opt_wait_for")
@option("--timeout", type=click.IntRange(1, 600), default=30, show_default=True, help="cli.opt_capture_timeout")
@option("--allow-error-status", is_flag=True, help="cli.opt_allow_error_status")
@option("--ignore-https-errors", is_flag=True, help="cli.opt_ignore_https_errors")
@option("--interactive", is_flag=True, help="cli.opt_interactive")
@case_option
@no_stamp_option
@json_option
@pass_session
def capture(session, url: str | None, facts: IncidentFacts, profile: str | None, scroll: bool, max_height: int, wait_for: str | None,
            timeout: int, allow_error_status: bool, ignore_https_errors: bool, interactive: bool, case_ref: str | None, no_stamp: bool, as_json: bool) -> None:
    from evidencekit import capture as web  # the capture machinery loads when a page is captured
    from evidencekit._internal.capture import CaptureOptions, run_interactive

    locker = session.locker()
    locker.case(case_ref)
    options = CaptureOptions(scroll=scroll, max_height=max_height, wait_for=wait_for,
                             navigation_timeout_ms=timeout * 1000, allow_error_status=allow_error_status,
                             ignore_https_errors=ignore_https_errors,
                             profile_dir=locker.profile_dir(profile) if profile else None)
    secret = passphrase()
    if interactive:
        items: list[Item] = []

        def keep(result) -> None:
            try:
                items.append(web.store(locker, result, secret, facts, case_ref, method="web-capture-interactive"))
            finally:
                shutil.rmtree(result.files[0].path.parent, ignore_errors=True)
            for line in item_lines(items[-1:]):
                echo(line, err=as_json)

        run_interactive(workdir_for=lambda _n: locker.scratch(), on_capture=keep, start_url=url,
                        options=options, say=lambda text: echo(text, err=True))
        emit(as_json, [i.to_json() for i in items], lambda: iter([t("capture.interactive_done", count=len(items))]))
    else:
        if not url:
            raise click.UsageError(t("cli.capture_url_needed"))
        item = web.capture(locker, url, secret, facts=facts, options=options, case=case_ref,
                           on_stage=None if as_json else lambda stage: echo(t(f"capture.stage_{stage}", url=url), err=True))
        emit(as_json, item.to_json(), lambda: item_lines([item]))
    stamp_after_change(locker, no_stamp, as_json)


@click.group(cls=Group, help="cli.browser_help")
def browser() -> None:
    pass


@browser.command("login", help="cli.browser_login_help")
@argument("profile", metavar="NAME")
@argument("url", required=False)
@pass_session
def browser_login(session, profile: str, url: str | None) -> None:
    from evidencekit._internal.capture import open_for_login

    open_for_login(session.locker().profile_dir(profile), url, say=lambda text: echo(text, err=True))
    echo(t("cli.profile_saved", name=profile))


COMMANDS = [capture, browser]
