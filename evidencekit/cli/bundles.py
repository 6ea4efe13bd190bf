"""``seal``, ``open``, ``verify`` and ``recipients``: handing evidence over and checking it.

Heavy modules (bundles pull in the report and its templates) are imported inside the commands
that use them, here as in the other command modules, so every other command starts quickly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click

from evidencekit._internal.dates import shown
from evidencekit.cli._common import (
    Command,
    Group,
    ProofTrust,
    argument,
    case_option,
    echo,
    emit,
    json_option,
    no_stamp_option,
    option,
    pass_session,
    proof_trust_options,
    passphrase,
    stamp_after_change,
)
from evidencekit.cli._progress import progress
from evidencekit.errors import UserError
from evidencekit.i18n import t
from evidencekit.locker import Locker
from evidencekit.models import BundleReport

VERDICT_KEYS = {"valid": "bundle.verdict_valid", "valid_with_warnings": "bundle.verdict_warnings",
                "invalid": "bundle.verdict_invalid"}
MARKS = {"ok": "✓", "warning": "!", "failed": "✗"}


@click.command(cls=Command, help="cli.seal_help")
@option("--items", metavar="E-001,E-004", help="cli.opt_items")
@option("--hash-only", metavar="E-004,E-007", help="cli.opt_hash_only")
@option("--to", "recipients", multiple=True, metavar="RECIPIENT", help="cli.opt_to")
@option("--plain", is_flag=True, help="cli.opt_plain")
@option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="cli.opt_bundle_output")
@option("--report/--no-report", default=True, show_default=True, help="cli.opt_bundle_report")
@option("--name", help="report.cli_opt_name")
@case_option
@no_stamp_option
@json_option
@pass_session
def seal(session, items: str | None, hash_only: str | None, recipients: tuple[str, ...], plain: bool,
         output: Path | None, report: bool, name: str | None, case_ref: str | None, no_stamp: bool,
         as_json: bool) -> None:
    from evidencekit import bundle

    locker = session.locker()
    locker.case(case_ref)
    refs = [r.strip() for r in (items or "").split(",") if r.strip()]
    held = [r.strip() for r in (hash_only or "").split(",") if r.strip()]
    secret = passphrase()
    with progress(as_json) as bar:
        sealed = bundle.seal(locker, secret, items=refs, recipients=recipients, output=output, case=case_ref,
                             with_report=report, plain=plain, name=name, hash_only=held, progress=bar)

    def lines() -> Iterator[str]:
        yield t("bundle.sealed", path=str(sealed.path), count=len(sealed.items), withheld=sealed.withheld)
        if sealed.held_back:
            yield t("bundle.sealed_held_back", items=", ".join(sealed.held_back))
        if sealed.recipients:
            yield t("bundle.sealed_to", names=", ".join(sealed.recipients))
        else:
            yield t("bundle.sealed_unencrypted")

    emit(as_json, sealed.to_json(), lines)
    stamp_after_change(locker, no_stamp, as_json)


def identity_if_sealed(session, path: Path):
    """Only a sealed bundle needs the recipient's own key; never create a locker just to ask."""
    from evidencekit import bundle

    if not bundle.is_sealed(path):
        return None
    if Locker.state(session.home) == "none":
        raise UserError("bundle.sealed_needs_key")
    return session.locker().identity_signer(passphrase())


def _network() -> str:
    return os.environ.get("EVIDENCEKIT_BITCOIN_NETWORK", "mainnet")


@click.command("open", cls=Command, help="cli.open_help")
@argument("path", type=click.Path(path_type=Path, dir_okay=False))
@option("-o", "--output", type=click.Path(path_type=Path, file_okay=False), help="cli.opt_open_output")
@option("--unverified", is_flag=True, help="cli.opt_open_unverified")
@proof_trust_options
@json_option
@pass_session
def open_command(session, path: Path, output: Path | None, unverified: bool, trust: ProofTrust, as_json: bool) -> int:
    from evidencekit import bundle

    target = output or path.with_name(path.name.rsplit(".", 1)[0] + "-opened")
    identity = identity_if_sealed(session, path)
    try:
        with progress(as_json) as bar:
            opened = bundle.open_bundle(path, target, identity, unverified=unverified,
                                        header_sources=trust.header_sources, extra_roots=trust.extra_roots,
                                        network=_network(), progress=bar)
    except bundle.Refused as refused:
        found, sentence = refused.report, refused.message()
        emit(as_json, {"opened": False, "verification": found.to_json()},
             lambda: iter([*report_lines(found), sentence]))
        return 1
    done = "bundle.opened" if opened.verified else "bundle.opened_unverified"
    emit(as_json, {"opened": True, "verified": opened.verified, "folder": str(opened.folder),
                   "files": [str(p) for p in opened.files], "verification": opened.report.to_json()},
         lambda: iter([*report_lines(opened.report), t(done, count=len(opened.files), path=str(opened.folder))]))
    return 0 if opened.verified else 1


@click.command(cls=Command, help="cli.verify_help")
@argument("path", type=click.Path(path_type=Path, exists=False))
@proof_trust_options
@json_option
@pass_session
def verify(session, path: Path, trust: ProofTrust, as_json: bool) -> int:
    from evidencekit import bundle

    identity = None if path.is_dir() else identity_if_sealed(session, path)
    with progress(as_json) as bar:
        report = bundle.verify(path, identity=identity, header_sources=trust.header_sources,
                               extra_roots=trust.extra_roots, network=_network(), progress=bar)
    emit(as_json, report.to_json(), lambda: report_lines(report))
    return 1 if report.verdict == "invalid" else 0


def report_lines(report: BundleReport) -> Iterator[str]:
    yield t(VERDICT_KEYS[report.verdict])
    if report.case_title:
        yield t("bundle.case_line", title=report.case_title)
    if report.signer_fingerprint:
        yield t("bundle.signer_line", fingerprint=report.signer_fingerprint)
    for item in report.withheld:
        yield "  " + t("bundle.withheld_line", item=item["id"], added=shown(str(item["added"])))
    for label in report.held_back:
        yield "  " + t("bundle.held_back_line", item=label)
    for check in report.checks:
        yield f"  {MARKS[check.status]} {check.message()}"


@click.group(cls=Group, help="cli.recipients_help")
def recipients() -> None:
    pass


@recipients.command("add", help="cli.recipients_add_help")
@argument("name")
@argument("public_key", nargs=-1, required=True)
@json_option
@pass_session
def recipients_add(session, name: str, public_key: tuple[str, ...], as_json: bool) -> None:
    info = session.locker().add_recipient(name, " ".join(public_key))  # the line as pasted, even unquoted
    emit(as_json, {"name": name, **info.to_json()},
         lambda: iter([t("bundle.recipient_added", name=name, fingerprint=info.fingerprint)]))


@recipients.command("list", help="cli.recipients_list_help")
@json_option
@pass_session
def recipients_list(session, as_json: bool) -> None:
    book = session.locker().recipients()
    emit(as_json, [{"name": n, **k.to_json()} for n, k in book],
         lambda: (f"{n}  {k.fingerprint}  {k.public_key}" for n, k in book) if book
         else iter([t("bundle.no_recipients_yet")]))


@recipients.command("remove", help="cli.recipients_remove_help")
@argument("name")
@pass_session
def recipients_remove(session, name: str) -> None:
    session.locker().remove_recipient(name)
    echo(t("bundle.recipient_removed", name=name))


COMMANDS = [seal, open_command, verify, recipients]
