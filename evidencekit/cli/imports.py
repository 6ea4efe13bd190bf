"""``import`` and ``transcript``: chat and email exports in, and read back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli._common import (
    Command,
    argument,
    case_option,
    emit,
    incident_options,
    json_option,
    no_stamp_option,
    option,
    pass_session,
    passphrase,
    stamp_after_change,
)
from evidencekit._internal.dates import shown, times_in
from evidencekit.cli._progress import progress
from evidencekit.cli.items import item_lines
from evidencekit.i18n import t
from evidencekit.importers.model import describe_gap
from evidencekit.models import IncidentFacts

if TYPE_CHECKING:
    from evidencekit.importers import Conversation


@click.command("import", cls=Command, help="cli.import_help")
@argument("path", type=click.Path(path_type=Path, readable=False))
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
    secret = passphrase()
    with progress(as_json) as bar:
        item = imports.import_export(locker, path, secret, fmt=fmt, tz=tz, date_order=date_order, me=me,
                                     conversations=conversations, dns_records=records, resolve_dns=resolve_dns,
                                     facts=facts, case=case_ref, progress=bar)
    emit(as_json, item.to_json(), lambda: item_lines([item]))
    stamp_after_change(locker, no_stamp, as_json)


def _local(utc: str | None) -> str:
    """A UTC time from a transcript in the worker's words and zone (named once, above the list)."""
    return shown(utc, named=False) if utc else "?"


def _conversation_lines(found: list[Conversation]) -> Iterator[str]:
    if not found:
        yield t("imports.list_empty")
        return
    yield times_in()
    for c in found:
        yield t("imports.list_line", name=c.name or t("imports.list_none"), count=c.messages,
                first=_local(c.first_utc), last=_local(c.last_utc))


@click.command(cls=Command, help="cli.transcript_help")
@argument("ref", metavar="ITEM")
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


COMMANDS = [import_command, transcript]
