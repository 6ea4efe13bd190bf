"""``stamp`` and ``config``: trusted timestamps for the case, and the servers that give them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from evidencekit._internal import settings
from evidencekit.cli._common import (
    Command,
    argument,
    echo,
    Group,
    ProofTrust,
    case_option,
    emit,
    json_option,
    option,
    pass_session,
    proof_trust_options,
    summary_lines,
)
from evidencekit.i18n import t


@click.command(cls=Command, help="cli.stamp_help")
@option("--upgrade", is_flag=True, help="cli.opt_upgrade")
@option("--verify", is_flag=True, help="cli.opt_verify")
@proof_trust_options
@option("--export", "export_dir", type=click.Path(path_type=Path, file_okay=False), help="cli.opt_export_proofs")
@case_option
@json_option
@pass_session
def stamp(session, upgrade: bool, verify: bool, trust: ProofTrust, export_dir: Path | None, case_ref: str | None, as_json: bool) -> int:
    locker = session.locker()
    if export_dir:
        written = locker.export_proofs(export_dir, case_ref)
        emit(as_json, [str(p) for p in written], lambda: (t("items.exported", path=str(p)) for p in written))
        return 0
    if verify:
        results = locker.verify_stamps(case_ref, trust.header_sources, trust.extra_roots)

        def lines() -> Iterator[str]:
            if not results:
                yield t("stamping.none")
            for row, result in results:
                yield f"#{row.seq:<4} {t('timestamps.status_' + result.status):<16} {row.server}"
                yield f"      {result.reason}"

        data = [{"seq": row.seq, "digest": row.digest, "server": row.server, **result.to_json()}
                for row, result in results]
        emit(as_json, data, lines)
        return 1 if any(r.status == "invalid" for _, r in results) else 0
    progress = _progress_printer(as_json)
    summary = locker.upgrade_stamps(progress) if upgrade else locker.stamp(progress)
    emit(as_json, summary.to_json(), lambda: summary_lines(summary))
    return 0


def _progress_printer(quiet: bool):
    if quiet:
        return None
    return lambda kind, server: echo(t("stamping.asked", server=server), err=True)


@click.group(cls=Group, help="cli.config_help", invoke_without_command=True)
@json_option
@click.pass_context
def config(ctx: click.Context, as_json: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    locker = ctx.obj.locker()
    values = {name: dict(zip(("value", "source"), locker.setting(name))) for name in settings.SETTINGS}
    emit(as_json, values, lambda: (f"{n} = {v['value']}  ({t('stamping.source_' + v['source'])})"
                                    for n, v in values.items()))


@config.command("set", help="cli.config_set_help")
@argument("name", type=click.Choice(list(settings.SETTINGS)))
@argument("value")
@pass_session
def config_set(session, name: str, value: str) -> None:
    session.locker().set_setting(name, value)
    echo(t("stamping.setting_saved", name=name, value=value))


@config.command("unset", help="cli.config_unset_help")
@argument("name", type=click.Choice(list(settings.SETTINGS)))
@pass_session
def config_unset(session, name: str) -> None:
    session.locker().set_setting(name, None)
    echo(t("stamping.setting_reset", name=name))


COMMANDS = [stamp, config]
