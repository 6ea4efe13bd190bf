"""The ``evidencekit`` command: parses arguments, calls the library, renders results.

Errors meant for people are printed as one sentence with their exit code; anything else is a bug
and says so, with the traceback only under ``--debug``. Every message goes through ``echo``: the
names and paths in it may come from outside and must not act on the terminal.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import click

from evidencekit import __version__
from evidencekit.cli._common import Group, Session, echo, option
from evidencekit._internal.interrupt import quiet_browser_leftovers, terminate_as_interrupt
from evidencekit.errors import EvidencekitError, damaged_database, disk_full
from evidencekit.i18n import LANGUAGES, set_language, t


def _show_version(ctx: click.Context, _param: click.Parameter, wanted: bool) -> None:
    if wanted:
        echo(t("cli.version", version=__version__))
        ctx.exit()


@click.group(cls=Group, help="cli.main_help")
@option("--home", type=click.Path(path_type=Path), envvar="EVIDENCEKIT_HOME", help="cli.opt_home")
@option("--lang", type=click.Choice(LANGUAGES), is_eager=True, expose_value=False,
        callback=lambda _ctx, _param, lang: set_language(lang), help="cli.opt_lang")
@option("--debug", is_flag=True, help="cli.opt_debug")
@option("--verbose", "-v", is_flag=True, help="cli.opt_verbose")
@option("--version", is_flag=True, is_eager=True, expose_value=False, callback=_show_version, help="cli.opt_version")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, debug: bool, verbose: bool) -> None:
    session = Session(home, debug, verbose)
    ctx.obj = session
    ctx.call_on_close(session.close)


for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        for _command in importlib.import_module(f"{__name__}.{_module.name}").COMMANDS:
            cli.add_command(_command)


# click 8.2+ answers a group given no command with its help, raised as a usage error
_HELP_WITHOUT_COMMAND = getattr(click.exceptions, "NoArgsIsHelpError", ())


def main() -> None:
    debug = "--debug" in sys.argv
    terminate_as_interrupt()
    try:
        status = cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        quiet_browser_leftovers()
        echo(t("cli.aborted"), err=True)
        sys.exit(130)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "evidencekit"
        lines = exc.format_message().replace("\t", "    ").splitlines() or [""]  # help, or a list of choices
        if not isinstance(exc, _HELP_WITHOUT_COMMAND):
            lines[-1] = t("cli.usage_error", message=lines[-1], command=command)
        for line in lines:
            echo(line, err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        echo(exc.format_message(), err=True)
        sys.exit(exc.exit_code)
    except EvidencekitError as exc:
        if debug:
            raise
        echo(exc.message(), err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if debug:
            raise
        named = disk_full(exc) or damaged_database(exc)  # not bugs: a full disk or a damaged locker
        if named is not None:  # that no code closer to the write or read named
            echo(named.message(), err=True)
            sys.exit(named.exit_code)
        echo(t("cli.unexpected", error=f"{type(exc).__name__}: {exc}"), err=True)
        sys.exit(70)
    sys.exit(status if isinstance(status, int) else 0)
