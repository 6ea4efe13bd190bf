"""``demo``: the whole job on built-in sample pages."""

from __future__ import annotations

from pathlib import Path

import click

from evidencekit.cli._common import Command, echo, emit, json_option, option
from evidencekit.cli.bundles import report_lines
from evidencekit.i18n import t


@click.command(cls=Command, help="cli.demo_help")
@option("-o", "--output", type=click.Path(path_type=Path, file_okay=False), default=Path("evidencekit-demo"),
        show_default=True, help="cli.opt_demo_output")
@json_option
def demo(output: Path, as_json: bool) -> int:
    from evidencekit import demo as sample

    result = sample.run(output, say=lambda line: echo(line, err=as_json))
    data = {"home": str(result.home), "bundle": str(result.bundle), "items": [i.to_json() for i in result.items],
            "verification": result.report.to_json()}

    def lines():
        yield from report_lines(result.report)
        yield from t("demo.next_steps", home=str(result.home), bundle=str(result.bundle),
                     passphrase=sample.PASSPHRASE).split("\n")  # emit would show a break inside a line

    emit(as_json, data, lines)
    return 1 if result.report.verdict == "invalid" else 0


COMMANDS = [demo]
