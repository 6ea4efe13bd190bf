"""``timestamp verify``: check one ``.ots`` or ``.tsr`` proof against the file it is about."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli._common import Group, ProofTrust, argument, emit, json_option, option, proof_trust_options
from evidencekit.errors import NotFound
from evidencekit.i18n import t

if TYPE_CHECKING:  # the proof libraries load only when a proof is checked, not with every command
    from evidencekit.timestamps import ProofResult


@click.group(cls=Group, help="timestamps.cli_group_help")
def timestamp() -> None:
    pass


@timestamp.command(help="timestamps.cli_verify_help")
@argument("proof", type=click.Path(path_type=Path, readable=False))
@option("--file", "target", required=True, metavar="TARGET",
        type=click.Path(path_type=Path, readable=False), help="timestamps.cli_opt_file")
@option("--block-header", "header", metavar="HEADER", type=click.Path(path_type=Path, readable=False),
        help="timestamps.cli_opt_block_header")
@proof_trust_options
@json_option
def verify(proof: Path, target: Path, header: Path | None, trust: ProofTrust, as_json: bool) -> int:
    from evidencekit.timestamps import StoredHeader, default_roots, verify_proof_file

    if not proof.is_file():
        raise NotFound("timestamps.proof_missing", path=str(proof))
    try:
        data = proof.read_bytes()
    except OSError:
        raise NotFound("timestamps.proof_missing", path=str(proof)) from None
    # A header file named here is the reader's own choice, so it is trusted like their node.
    given = [StoredHeader.from_file(header, given_by_reader=True)] if header is not None else []
    sources = [*trust.header_sources, *given]
    roots = [*default_roots(), *trust.extra_roots]
    result = verify_proof_file(data, target, header_sources=sources, roots=roots)
    emit(as_json, {"proof": str(proof), "file": str(target), **result.to_json()},
         lambda: _lines(result))
    return 0 if result.verified else 1


def _lines(result: ProofResult) -> Iterator[str]:
    from evidencekit.timestamps import OtsDetails, TsaDetails

    yield f"{t('timestamps.kind_' + result.kind)}: {t('timestamps.status_' + result.status)}"
    yield result.reason
    details = result.details
    rows: list[tuple[str, object]] = []
    if isinstance(details, OtsDetails):
        rows = [("cli_block_height", details.block_height), ("cli_block_hash", details.block_hash),
                ("cli_block_time", details.attested_time), ("cli_header_source", details.header_source)]
    elif isinstance(details, TsaDetails):
        rows = [("cli_tsa", details.tsa_name), ("cli_gen_time", details.gen_time),
                ("cli_serial", details.serial), ("cli_policy", details.policy)]
    for key, value in rows:
        if value is not None:
            yield f"  {t('timestamps.' + key)}: {value}"
    if result.status == "pending":
        yield t("timestamps.cli_pending_not_verified")


COMMANDS = [timestamp]
