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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evidencekit._internal import dates
from evidencekit._internal.visible import escape_json, visible
from evidencekit.cli import _click_words
from evidencekit.errors import Locked, UserError, WrongPassphrase
from evidencekit.i18n import LANGUAGES, t
from evidencekit.locker import Locker
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


_click_words.install()


class _CommandWords(TranslatedHelp):
    """Usage line and ``--help`` in the reader's language, also when ``--lang`` came after click made them."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [_click_words.placeholder(piece) for piece in super().collect_usage_pieces(ctx)]  # type: ignore[misc]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        help_option: click.Option | None = super().get_help_option(ctx)  # type: ignore[misc]
        if help_option is not None:
            help_option.help = t("click.help_option")
        return help_option


class Command(_CommandWords, click.Command):
    pass


class Group(_CommandWords, click.Group):
    command_class = Command


Group.group_class = Group


class Option(TranslatedHelp, click.Option):
    def make_metavar(self, *args: Any, **kwargs: Any) -> str:  # click 8.2 added ``ctx``
        return _click_words.placeholder(super().make_metavar(*args, **kwargs))

    def get_default(self, ctx: click.Context, call: bool = True) -> Any:
        """A default among ``Words`` is shown in the reader's language (and read back to its key)."""
        value = super().get_default(ctx, call=call)
        if isinstance(self.type, Words) and isinstance(value, str):
            return t(self.type.prefix + value)
        return value


class Argument(click.Argument):
    def make_metavar(self, *args: Any, **kwargs: Any) -> str:  # click 8.2 added ``ctx``
        return _click_words.placeholder(super().make_metavar(*args, **kwargs))


def option(*decls: str, **attrs: Any) -> Callable[[Any], Any]:
    return click.option(*decls, cls=Option, **attrs)


def argument(*decls: str, **attrs: Any) -> Callable[[Any], Any]:
    return click.argument(*decls, cls=Argument, **attrs)


class Words(click.Choice):
    """A choice of words in the reader's language, stored as its English key: ``--who kunde`` and
    ``--who customer`` are the same. ``prefix`` names the catalog keys, e.g. ``"who.word_"``."""

    def __init__(self, keys: tuple[str, ...], prefix: str) -> None:
        self.keys, self.prefix = keys, prefix
        super().__init__(keys)

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return tuple(t(self.prefix + key) for key in self.keys)

    @choices.setter
    def choices(self, _keys: Any) -> None:  # click sets them in __init__; they follow the language
        pass

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        given = str(value).strip().casefold()
        for key in self.keys:
            if given in {key, *(t(self.prefix + key, lang).casefold() for lang in LANGUAGES)}:
                return key
        return super().convert(value, param, ctx)  # fails, listing the words in the reader's language


class When(click.ParamType):
    """A date, time or period as people write it (``03.03.2024``, ``i går 22:10``), read in the local
    zone before anything else happens, so a bad one changes nothing."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dates.Reading:
        return value if isinstance(value, dates.Reading) else dates.read(str(value))


def say_back(reading: dates.Reading) -> None:
    """Tell the worker how her date was read (on stderr: stdout may carry JSON)."""
    echo(t("dates.read_as", when=reading.said), err=True)


json_option = option("--json", "as_json", is_flag=True, help="cli.opt_json")
case_option = option("--case", "case_ref", metavar="CASE", help="cli.opt_case")
kdf_option = option("--kdf", type=Words(("moderate", "interactive"), "cli.kdf_"), default="moderate",
                    show_default=True, help="cli.opt_kdf")


@dataclass
class Session:
    """Global options of one run, and the locker opened once on first use."""

    home: Path | None
    debug: bool = False
    verbose: bool = False
    _locker: Locker | None = field(default=None, repr=False)
    _secret: str | None = field(default=None, repr=False)

    def locker(self) -> Locker:
        """The locker, opened with the passphrase (see :func:`passphrase`): an encrypted locker
        cannot even be listed without it."""
        if self._locker is None:
            self._secret, self._locker = _opened(self.home, self.known_passphrase())
        return self._locker

    def known_passphrase(self) -> str | None:
        """The passphrase this run has, or one it can have without asking (environment, unlock)."""
        return self._secret if self._secret is not None else _given_or_remembered(self.home)

    def use(self, secret: str, locker: Locker) -> None:
        """A locker just made (``init``) or opened with a passphrase typed for it (``unlock``)."""
        self._secret, self._locker = secret, locker

    def close(self) -> None:
        if self._locker is not None:
            self._locker.close()


pass_session = click.make_pass_decorator(Session)


def _session() -> Session | None:
    """This run's session, for helpers the commands call without passing it along."""
    context = click.get_current_context(silent=True)
    return context.find_object(Session) if context else None


def verbose() -> bool:
    """Whether the worker asked for details (``--verbose``) in this run."""
    session = _session()
    return bool(session and session.verbose)


PASSPHRASE_TRIES = 3


def passphrase(confirm: bool = False, unlocked: bool = True) -> str:
    """The passphrase: from ``EVIDENCEKIT_PASSPHRASE``, else from this login session's
    ``evidencekit unlock`` (unless ``unlocked`` is false or the passphrase is new), else asked
    (twice when new) on a terminal. Without a terminal, an encrypted locker says it is locked.

    An existing passphrase opens the locker as soon as it is typed, and is asked again (three
    tries in all): a typo should not cost the work she came to do."""
    session = _session()
    home = session.home if session else None
    if confirm:
        given = os.environ.get("EVIDENCEKIT_PASSPHRASE")
        if given is not None:
            return given
        if not sys.stdin.isatty():
            raise UserError("keys.passphrase_needed")
        return str(click.prompt(t("keys.prompt_new"), hide_input=True, confirmation_prompt=t("keys.prompt_repeat"),
                                err=True))
    if session is not None and unlocked:
        session.locker()
        assert session._secret is not None
        return session._secret
    secret, locker = _opened(home, _given_or_remembered(home) if unlocked else os.environ.get("EVIDENCEKIT_PASSPHRASE"))
    if session is not None and session._locker is None:
        session.use(secret, locker)
    else:
        locker.close()
        if session is not None:
            session._secret = secret
    return secret


def _given_or_remembered(home: Path | None) -> str | None:
    given = os.environ.get("EVIDENCEKIT_PASSPHRASE")
    if given is not None:
        return given
    from evidencekit import unlocking

    return unlocking.passphrase(home)


def _opened(home: Path | None, known: str | None) -> tuple[str, Locker]:
    """The locker opened with ``known``, or with a passphrase asked for on the terminal; no
    locker yet or one to upgrade is said before anything is asked."""
    if Locker.state(home) != "encrypted":
        Locker.open(home)  # raises: "run init first", "upgrade first"
    if known is not None:
        return known, Locker.open(home, known)
    if not sys.stdin.isatty():
        raise Locked("locker.locked")
    left = PASSPHRASE_TRIES
    while True:
        secret = str(click.prompt(t("keys.prompt"), hide_input=True, err=True))
        left -= 1
        try:
            return secret, Locker.open(home, secret)
        except WrongPassphrase:
            if not left:
                raise
            echo(t("keys.try_again", left=left), err=True)


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


no_stamp_option = option("--no-stamp", is_flag=True, help="cli.opt_no_stamp")


def stamp_after_change(locker: Locker, skip: bool, as_json: bool) -> None:
    """Send the queued timestamp requests right after a change; never fails the change.

    The evidence is safe already; the summary goes to stderr when stdout carries JSON.
    """
    lines = iter([t("stamping.skipped")]) if skip else summary_lines(locker.stamp())
    for line in lines:
        echo(line, err=as_json)


def summary_lines(summary: stamp_queue.Summary) -> Iterator[str]:
    """Where the stamps stand. A server that could not be reached (offline, most often) is one calm
    line: the request waits and is sent again; the addresses and errors only with ``--verbose``."""
    counts = summary.counts
    yield t("stamping.summary", queued=counts.get("queued", 0), pending=counts.get("pending", 0),
            complete=counts.get("complete", 0))
    if summary.failures and not verbose():
        yield t("stamping.waiting")
    elif summary.failures:
        yield from (f"  - {failure.reason}" for failure in summary.failures)


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
        def with_facts(*args: Any, incident_date: dates.Reading | None, where: str | None, channel: str | None,
                       who: str | None, person: str | None, witnesses: tuple[str, ...], reaction: str | None,
                       consequences: str | None, note: str | None = None, **kwargs: Any) -> Any:
            facts = IncidentFacts(incident_date.value if incident_date else None, who, channel, note,
                                  where, person, witnesses, reaction, consequences)
            done = command(*args, facts=facts, **kwargs)
            if incident_date is not None:  # once it is kept: a failed command says one sentence only
                say_back(incident_date)
            return done

        options = (
            *((option("--note", help="cli.opt_note"),) if describe else ()),
            option("--date", "--incident-date", "incident_date", type=When(), metavar="DATE",
                   help="cli.opt_incident_date"),
            option("--where", metavar="PLACE", help="cli.opt_where"),
            option("--channel", help="cli.opt_channel"),
            option("--who", type=Words(WHO, "who.word_"), help="cli.opt_who"),
            option("--person", metavar="NAME", help="cli.opt_person"),
            option("--witness", "witnesses", metavar="NAME", multiple=True, help="cli.opt_witness"),
            option("--reaction", help="cli.opt_reaction"),
            option("--consequences", help="cli.opt_consequences"),
        )
        for add in reversed(options):
            with_facts = add(with_facts)
        return with_facts

    return decorate
