"""``timeline``: everything in the case in the order it happened, in one zone."""

from __future__ import annotations

from collections.abc import Iterator

import click

from evidencekit.cli._common import Command, case_option, echo, emit, json_option, option, pass_session
from evidencekit.i18n import t


@click.command(cls=Command, help="cli.timeline_help")
@option("--tz", "zone", metavar="ZONE", help="timeline.opt_tz")
@case_option
@json_option
@pass_session
def timeline(session, zone: str | None, case_ref: str | None, as_json: bool) -> None:
    from evidencekit import timeline as timelines
    from evidencekit._internal import deadlines

    locker = session.locker()
    line = timelines.build(locker, case_ref, zone)
    emit(as_json, [timelines.to_json(e, line.clock) for e in line.events], lambda: _lines(line))
    warning = deadlines.of_case(locker, case_ref)
    if warning:  # said once, after the lines; on stderr when stdout carries JSON
        echo(warning.sentence(), err=as_json)


def _lines(line) -> Iterator[str]:
    """The zone named once, then one line per event: when, item, kind, who · channel: text, facts."""
    if not line.events:
        yield t("timeline.empty")
        return
    yield t("timeline.zone_line", zone=line.clock.name)
    for e in line.events:
        who = t("who." + e.who) if e.who and e.own else e.who  # her statements carry a role, messages a sender
        said_by = " · ".join(part for part in (who, e.channel) if part)
        kind = t("report.event_" + e.kind) + (f" {t('timeline.own')}" if e.own else "")
        text = f"{line.clock.show(e.when):<22} {e.item}  [{kind}] {said_by + ': ' if said_by else ''}{e.text}"
        facts = [e.where, e.person, e.witnesses and t("imports.timeline_witnesses", names=", ".join(e.witnesses))]
        given = [fact for fact in facts if fact]
        yield f"{text}  [{' · '.join(given)}]" if given else text


COMMANDS = [timeline]
