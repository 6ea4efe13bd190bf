"""``match``: is a file someone holds one of a bundle's items? For recipients of a hash-only
hand-over, who get an intimate picture's hashes but never the picture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from evidencekit.cli._common import Command, argument, emit, json_option, pass_session
from evidencekit.cli.bundles import identity_if_sealed, report_lines
from evidencekit.i18n import t


@click.command("match", cls=Command, help="cli.match_help")
@argument("file", type=click.Path(path_type=Path, dir_okay=False))
@argument("bundle_path", metavar="BUNDLE", type=click.Path(path_type=Path))
@json_option
@pass_session
def match_command(session, file: Path, bundle_path: Path, as_json: bool) -> int:
    from evidencekit import bundle

    identity = None if bundle_path.is_dir() else identity_if_sealed(session, bundle_path)
    try:
        matched = bundle.match(file, bundle_path, identity=identity)
    except bundle.NotMatched as refused:
        found, sentence = refused.report, refused.message()
        emit(as_json, {"verdict": found.verdict, "matches": [], "verification": found.to_json()},
             lambda: iter([*report_lines(found), sentence]))
        return 2

    def lines() -> Iterator[str]:
        for found in matched.found:
            if found.how == "exact":
                yield t("bundle.match_exact", item=found.item, name=found.name)
            else:
                yield t("bundle.match_perceptual", item=found.item, name=found.name, distance=found.distance,
                        threshold=bundle.MATCH_THRESHOLD)
            if found.held_back:
                yield "  " + t("bundle.held_back_line", item=found.item)
        if not matched.found:
            yield t("bundle.match_none" if matched.pdq else "bundle.match_none_exact")

    emit(as_json, matched.to_json(), lines)
    return 0 if matched.found else 1


COMMANDS = [match_command]
