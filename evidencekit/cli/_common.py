"""What every command shares: translated help, the locker, passphrases, output, and errors.

Help texts are catalog keys, resolved when help is shown, so ``--lang nb`` and
``EVIDENCEKIT_LANG=nb`` give bokmål help. A command module in this package defines its click
commands and lists them in ``COMMANDS``; the package finds it by itself.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evidencekit._internal.visible import escape_json, visible
from evidencekit.errors import UserError
from evidencekit.i18n import t
from evidencekit.locker import Locker, normalise_date
from evidencekit.models import WHO, IncidentFacts

if TYPE_CHECKING:  # the stamping machinery loads only when a command stamps or checks proofs
    from cryptography import x509

    from evidencekit._internal import stamp_queue
    from evidencekit._internal.timestamps.bitcoin_headers import HeaderSource


class TranslatedHelp:
    """``help`` is given as a catalog key and read back as text in the current language."""

    _help_key: str | None = None

    @property
    def help(self) -> str | None:
        return t(self._help_key) if self._help_key else None

    @help.setter
    def help(self, key: str | None) -> None:
        self._help_key = key


class Command(TranslatedHelp, click.Command):
    pass


class Group(TranslatedHelp, click.Group):
    command_class = Command


Group.group_class = Group


class Option(TranslatedHelp, click.Option):
    pass


def option(*decls: str, **attrs: Any) -> Callable[[Any], Any]:
    return click.option(*decls, cls=Option, **attrs)


json_option = option("--json", "as_json", is_flag=True, help="cli.opt_json")
case_option = option("--case", "case_ref", metavar="CASE", help="cli.opt_case")


@dataclass
class Session:
    """Global options of one run, and the locker opened once on first use."""

    home: Path | None
    debug: bool = False
    _locker: Locker | None = field(default=None, repr=False)

    def locker(self) -> Locker:
        if self._locker is None:
            self._locker = Locker.open(self.home)
        return self._locker

    def close(self) -> None:
        if self._locker is not None:
            self._locker.close()


pass_session = click.make_pass_decorator(Session)


def passphrase(confirm: bool = False, unlocked: bool = True) -> str:
    """From ``EVIDENCEKIT_PASSPHRASE``, else from this login session's ``unlock`` (unless
    ``unlocked`` is false or the passphrase is new), else asked (twice when new) on a terminal."""
    given = os.environ.get("EVIDENCEKIT_PASSPHRASE")
    if given is not None:
        return given
    if unlocked and not confirm:
        from evidencekit import unlocking

        session = click.get_current_context(silent=True)
        home = session.find_object(Session).home if session and session.find_object(Session) else None
        remembered = unlocking.passphrase(home)
        if remembered is not None:
            return remembered
    if not sys.stdin.isatty():
        raise UserError("keys.passphrase_needed")
    return str(
        click.prompt(
            t("keys.prompt_new" if confirm else "keys.prompt"),
            hide_input=True,
            confirmation_prompt=t("keys.prompt_repeat") if confirm else False,
            err=True,
        )
    )


def echo(line: str, err: bool = False) -> None:
    """Print one line for people. Names, chat text and error details in it come from outside, so
    their control and bidi characters are shown as ``[U+XXXX]``, never obeyed by the terminal."""
    click.echo(visible(line), err=err)


def emit(as_json: bool, data: Any, human: Callable[[], Iterator[str]]) -> None:
    """Print ``data`` as JSON for scripts, or the lines ``human`` yields for people (one line each)."""
    if as_json:
        click.echo(escape_json(json.dumps(data, ensure_ascii=False, indent=2)))
    else:
        for line in human():
            echo(line)


@contextmanager
def progress_bar(total: int, label_key: str, threshold: int = 64 * 1024 * 1024) -> Iterator[Callable[[int], None]]:
    """A bar on the terminal for long work; silent for small jobs and for scripts."""
    if total < threshold or not sys.stderr.isatty():
        yield lambda _: None
        return
    with click.progressbar(length=total, label=visible(t(label_key)), file=sys.stderr) as bar:
        yield bar.update


no_stamp_option = option("--no-stamp", is_flag=True, help="cli.opt_no_stamp")


def stamp_after_change(locker: Locker, skip: bool, as_json: bool) -> None:
    """Send the queued timestamp requests right after a change; never fails the change.

    The evidence is safe already; the summary goes to stderr when stdout carries JSON.
    """
    lines = iter([t("stamping.skipped")]) if skip else summary_lines(locker.stamp())
    for line in lines:
        echo(line, err=as_json)


def summary_lines(summary: stamp_queue.Summary) -> Iterator[str]:
    counts = summary.counts
    yield t("stamping.summary", queued=counts.get("queued", 0), pending=counts.get("pending", 0),
            complete=counts.get("complete", 0))
    for failure in summary.failures:
        yield f"  - {failure.reason}"


@dataclass(frozen=True)
class ProofTrust:
    """Where block headers come from and which extra TSA roots to trust, as the reader chose."""

    header_sources: list[HeaderSource]
    extra_roots: list[x509.Certificate]


def proof_trust_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--bitcoin-rpc``, ``--esplora`` and ``--tsa-root``, given to the command as one ``trust``."""

    @functools.wraps(command)
    def with_trust(*args: Any, bitcoin_rpc: str | None, esplora: str | None, tsa_roots: tuple[Path, ...],
                   **kwargs: Any) -> Any:
        from evidencekit._internal.timestamps.bitcoin_headers import BitcoinRpc, Esplora
        from evidencekit._internal.timestamps.rfc3161 import load_root_file

        sources: list[HeaderSource] = [s for s in (bitcoin_rpc and BitcoinRpc(bitcoin_rpc),
                                                   esplora and Esplora(esplora)) if s]
        roots = [cert for path in tsa_roots for cert in load_root_file(path)]
        return command(*args, trust=ProofTrust(sources, roots), **kwargs)

    for decorate in reversed((
        option("--bitcoin-rpc", metavar="URL", help="cli.opt_bitcoin_rpc"),
        option("--esplora", metavar="URL", help="cli.opt_esplora"),
        option("--tsa-root", "tsa_roots", metavar="CERT", multiple=True,
               type=click.Path(path_type=Path, readable=False), help="cli.opt_tsa_root"),
    )):
        with_trust = decorate(with_trust)
    return with_trust


def incident_options(describe: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """What the worker says happened, the same options wherever evidence comes in, given to the
    command as one ``facts``. ``describe`` adds ``--note`` where the evidence is not itself her account."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def with_facts(*args: Any, incident_date: str | None, where: str | None, channel: str | None,
                       who: str | None, person: str | None, witnesses: tuple[str, ...], reaction: str | None,
                       consequences: str | None, note: str | None = None, **kwargs: Any) -> Any:
            facts = IncidentFacts(normalise_date(incident_date) if incident_date else None, who, channel, note,
                                  where, person, witnesses, reaction, consequences)
            return command(*args, facts=facts, **kwargs)

        options = (
            *((option("--note", help="cli.opt_note"),) if describe else ()),
            option("--date", "--incident-date", "incident_date", metavar="DATE", help="cli.opt_incident_date"),
            option("--where", metavar="PLACE", help="cli.opt_where"),
            option("--channel", help="cli.opt_channel"),
            option("--who", type=click.Choice(WHO), help="cli.opt_who"),
            option("--person", metavar="NAME", help="cli.opt_person"),
            option("--witness", "witnesses", metavar="NAME", multiple=True, help="cli.opt_witness"),
            option("--reaction", help="cli.opt_reaction"),
            option("--consequences", help="cli.opt_consequences"),
        )
        for add in reversed(options):
            with_facts = add(with_facts)
        return with_facts

    return decorate
