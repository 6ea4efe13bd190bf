"""``import``, ``transcript`` and ``timeline``: chat and email exports, read back and in time order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli._common import (
    Command,
    case_option,
    echo,
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
from evidencekit.importers.model import describe_gap
from evidencekit.models import IncidentFacts

if TYPE_CHECKING:
    from evidencekit.importers import Conversation
    from evidencekit.imports import Moment


@click.command("import", cls=Command, help="cli.import_help")
@click.argument("path", type=click.Path(path_type=Path, readable=False))
@option("--format", "fmt", metavar="NAME", default="auto", show_default=True, help="cli.opt_format")
@option("--tz", metavar="ZONE", help="cli.opt_tz")
@option("--date-order", type=click.Choice(["dmy", "mdy", "ymd"]), help="cli.opt_date_order")
@option("--me", metavar="NAME", help="cli.opt_me")
@option("--list", "list_only", is_flag=True, help="cli.opt_list")
@option("--conversation", "conversations", multiple=True, metavar="TEXT", help="cli.opt_conversation")
@option("--dns-record", "dns_records", multiple=True, metavar="SELECTOR._domainkey.DOMAIN=FILE", help="cli.opt_dns_record")
@option("--resolve-dns", is_flag=True, help="cli.opt_resolve_dns")
@incident_options()
@case_option
@no_stamp_option
@json_option
@pass_session
def import_command(session, path: Path, fmt: str, tz: str | None, date_order: str | None, me: str | None,
                   list_only: bool, conversations: tuple[str, ...], dns_records: tuple[str, ...],
                   resolve_dns: bool, facts: IncidentFacts, case_ref: str | None, no_stamp: bool,
                   as_json: bool) -> None:
    from evidencekit import imports
    from evidencekit.importers.email import dns_records_from_files

    records = dns_records_from_files(list(dns_records))
    if list_only:
        found = imports.list_conversations(path, fmt=fmt, tz=tz, date_order=date_order, me=me,
                                           dns_records=records, resolve_dns=resolve_dns)
        emit(as_json, [c.to_json() for c in found], lambda: _conversation_lines(found))
        return
    locker = session.locker()
    locker.case(case_ref)
    item = imports.import_export(locker, path, passphrase(), fmt=fmt, tz=tz, date_order=date_order, me=me,
                                 conversations=conversations, dns_records=records, resolve_dns=resolve_dns,
                                 facts=facts, case=case_ref)
    emit(as_json, item.to_json(), lambda: item_lines([item]))
    stamp_after_change(locker, no_stamp, as_json)


def _local(utc: str | None) -> str:
    """A UTC time from a transcript as the worker's local date and time."""
    if not utc:
        return "?"
    return datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M")


def _conversation_lines(found: list[Conversation]) -> Iterator[str]:
    if not found:
        yield t("imports.list_empty")
    for c in found:
        yield t("imports.list_line", name=c.name or t("imports.list_none"), count=c.messages,
                first=_local(c.first_utc), last=_local(c.last_utc))


@click.command(cls=Command, help="cli.transcript_help")
@click.argument("ref", metavar="ITEM")
@option("--from", "since", metavar="DATE", help="cli.opt_from")
@option("--to", "until", metavar="DATE", help="cli.opt_to_date")
@option("--sender", metavar="NAME", help="cli.opt_sender")
@case_option
@json_option
@pass_session
def transcript(session, ref: str, since: str | None, until: str | None, sender: str | None,
               case_ref: str | None, as_json: bool) -> None:
    from evidencekit import imports

    data = imports.transcript(session.locker(), ref, case_ref)
    data["messages"] = imports.select(data.get("messages", []), since, until, sender)
    emit(as_json, data, lambda: _conversation(data))


def _conversation(data: dict) -> Iterator[str]:
    """The transcript as lines: what it leaves out first, then each message with who sent it."""
    if data.get("conversations"):
        yield t("imports.transcript_shows", names=", ".join(data.get("details", {}).get("conversations_shown") or []))
    if data.get("me"):
        yield t("imports.transcript_me", me=data["me"])
    for gap in data.get("gaps") or []:
        yield t("imports.gap_line", gap=describe_gap(gap))
    for m in data["messages"]:
        text = f"({m.get('text') or ''})" if m.get("system") else m.get("text") or ""
        first, *more = text.replace("\r\n", "\n").split("\n")  # its own lines indented: none passes for a message
        if m.get("system"):
            yield f"[{m.get('time_written')}] {first}"
        else:
            flags = "".join(f" [{t('imports.' + flag)}]" for flag in ("edited", "deleted") if m.get(flag))
            who = f"{m.get('sender')} <{m['sender_id']}>" if m.get("sender_id") and m["sender_id"] != m.get("sender") \
                else m.get("sender")
            yield f"[{m.get('time_written')}] {who}:{flags} {first}"
        yield from (f"    {line}" for line in more)
        for attachment in m.get("attachments") or []:
            if attachment.get("name"):
                yield f"    📎 {attachment['name']}"


@click.command(cls=Command, help="cli.timeline_help")
@case_option
@json_option
@pass_session
def timeline(session, case_ref: str | None, as_json: bool) -> None:
    from evidencekit import imports
    from evidencekit._internal import deadlines

    locker = session.locker()
    moments = imports.timeline(locker, case_ref)
    emit(as_json, [m.to_json() for m in moments], lambda: map(_moment_line, moments))
    warning = deadlines.of_case(locker, case_ref)
    if warning:  # said once, after the lines; on stderr when stdout carries JSON
        echo(warning.sentence(), err=as_json)


def _moment_line(m: Moment) -> str:
    """One line: when, which item, who, the text's first line, then where, the person and witnesses."""
    who = t("who." + m.sender) if m.sender and m.kind != "message" else m.sender  # an item's is a role
    line = f"{m.time or '?':<27} {m.item}  {who + ': ' if who else ''}{m.text.splitlines()[0] if m.text else ''}"
    facts = [m.where, m.person, m.witnesses and t("imports.timeline_witnesses", names=", ".join(m.witnesses))]
    given = [fact for fact in facts if fact]
    return f"{line}  [{' · '.join(given)}]" if given else line


COMMANDS = [import_command, transcript, timeline]
