"""``report`` and ``redact``: a case report for the people who receive evidence, and redacted copies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import click

from evidencekit.cli._common import (
    Command,
    ProofTrust,
    argument,
    case_option,
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
from evidencekit.i18n import LANGUAGES, language, t


@click.command("report", cls=Command, help="report.cli_report_help")
@option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="report.cli_opt_output")
@option("--lang", "report_lang", type=click.Choice(LANGUAGES), help="report.cli_opt_lang")
@option("--items", metavar="E-001,E-004", help="cli.opt_items")
@option("--show-sensitive", is_flag=True, help="report.cli_opt_show_sensitive")
@option("--prepared-by", "--name", "name", metavar="NAME", help="report.cli_opt_name")
@option("--tz", "zone", metavar="ZONE", help="report.cli_opt_tz")
@option("--for", "receiver", metavar="tribunal|police|employer|union", help="receivers.cli_opt_for")
@proof_trust_options
@case_option
@json_option
@pass_session
def report(session, output: Path | None, report_lang: str | None, items: str | None, show_sensitive: bool,
           name: str | None, zone: str | None, receiver: str | None, trust: ProofTrust, case_ref: str | None,
           as_json: bool) -> None:
    locker = session.locker()
    target = locker.case(case_ref)
    from evidencekit import report as reports

    options = reports.Options(
        lang=report_lang or language(),
        items=tuple(r.strip() for r in (items or "").split(",") if r.strip()),
        show_sensitive=show_sensitive,
        name=name,
        zone=zone,
        header_sources=trust.header_sources,
        extra_roots=trust.extra_roots,
        receiver=receiver.strip().lower() if receiver else None,
    )
    output = output or Path(f"report-{target.id}-{date.today().isoformat()}.pdf")
    with progress(as_json) as bar:
        written = reports.write(locker, output, target.id, options, progress=bar)
    count = len(options.items) or len(locker.items(target.id))
    emit(as_json, {"path": str(written), "exhibits": count, "lang": options.lang},
         lambda: iter([t("report.cli_report_written", count=count, path=str(written))]))


@click.command(cls=Command, help="report.cli_redact_help")
@argument("ref", metavar="ITEM")
@option("--box", "boxes", multiple=True, metavar="X,Y,W,H", help="report.cli_opt_box")
@option("--mask", "masks", multiple=True, metavar="TEXT", help="report.cli_opt_mask")
@case_option
@no_stamp_option
@json_option
@pass_session
def redact(session, ref: str, boxes: tuple[str, ...], masks: tuple[str, ...], case_ref: str | None,
           no_stamp: bool, as_json: bool) -> None:
    locker = session.locker()
    original = locker.item(ref, case_ref)  # an unknown item fails before the passphrase is asked
    from evidencekit import report as reports

    parsed = [reports.Box.parse(b) for b in boxes]
    item = reports.redact(locker, ref, passphrase(), boxes=parsed, masks=masks, case=case_ref)
    left = item.acquired.get("left_out", [])

    def lines() -> Iterator[str]:
        yield t("report.cli_redacted", item=item.label, original=original.label, done=len(item.files),
                left=len(left))
        for entry in left:
            yield t("report.cli_left_out", name=entry["name"], reason=t(f"report.left_{entry['reason']}"))

    emit(as_json, item.to_json(), lines)
    stamp_after_change(locker, no_stamp, as_json)


COMMANDS = [report, redact]
