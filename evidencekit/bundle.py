"""Hand-over: seal a case (or some of its items) into one file, open it, verify it.

A plain bundle is a ZIP anyone can open; a sealed one is that ZIP encrypted to chosen
recipients. Verification needs nothing but the file (and, when sealed, the recipient's key),
works offline, and ends in one verdict: valid, valid with warnings, or invalid.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterator

import nacl.signing
from cryptography import x509

from evidencekit import report
from evidencekit._internal import safe_zip
from evidencekit._internal.browser import BrowserSession
from evidencekit._internal.bundle import build, check, envelope
from evidencekit._internal.timestamps.bitcoin_headers import HeaderSource
from evidencekit._internal.timestamps.rfc3161 import default_roots
from evidencekit.errors import UserError
from evidencekit.locker import Locker
from evidencekit.models import BundleCheck, BundleReport, LogEntry


@dataclass(frozen=True)
class Sealed:
    path: Path
    items: tuple[str, ...]
    withheld: int
    recipients: int
    entry: LogEntry

    def to_json(self) -> dict[str, object]:
        return {"path": str(self.path), "items": list(self.items), "withheld": self.withheld,
                "recipients": self.recipients, "log_entry": self.entry.seq}


def seal(
    locker: Locker,
    passphrase: str,
    *,
    items: Sequence[str] = (),
    recipients: Sequence[str] = (),
    output: Path | None = None,
    case: str | None = None,
    with_report: bool = True,
    session: BrowserSession | None = None,
) -> Sealed:
    """Write the bundle, then log the seal; a failure leaves neither a file nor a log entry.

    The bundle carries the report (HTML and PDF, in the current language) on exactly the items
    it holds, so a recipient who only reads still has the exhibit list and the timeline.
    """
    target = locker.case(case)
    chosen = [locker.item(ref, target.id) for ref in items] if items else locker.items(target.id)
    if not chosen:
        raise UserError("bundle.nothing_to_seal")
    recipient_keys = [locker.recipient_key(r) for r in recipients]
    signer = locker.case_signer(target.id, passphrase)
    output = Path(output) if output else Path(_default_name(target.title, bool(recipient_keys)))
    if output.exists():
        raise UserError("bundle.output_exists", path=str(output))
    partial = output.with_name(f".{output.name}.partial")
    work = locker.scratch()
    try:
        extra = report.write_for_bundle(locker, target.id, chosen, work, session=session) if with_report else []
        with open(partial, "xb") as raw:
            if recipient_keys:
                with envelope.SealWriter(raw, recipient_keys) as writer:
                    manifest = build.write(locker, target.id, chosen, signer, writer, extra)  # type: ignore[arg-type]
            else:
                manifest = build.write(locker, target.id, chosen, signer, raw, extra)
            os.fsync(raw.fileno())
        entry = locker.record_seal(target.id, signer, manifest, chosen, len(recipient_keys))
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    withheld = len(locker.items(target.id)) - len(chosen)
    return Sealed(output, tuple(i.label for i in chosen), withheld, len(recipient_keys), entry)


def is_sealed(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return envelope.is_sealed(f.read(len(envelope.MAGIC)))
    except FileNotFoundError as exc:
        raise UserError("bundle.missing", path=str(path)) from exc
    except OSError as exc:
        raise UserError("bundle.unreadable", path=str(path), reason=exc.strerror or str(exc)) from exc


@contextmanager
def plain_zip(path: Path, identity: nacl.signing.SigningKey | None) -> Iterator[Path]:
    """The plain ZIP of a bundle: the file itself, or a private decrypted copy removed afterwards."""
    if not is_sealed(path):
        yield path
        return
    if identity is None:
        raise UserError("bundle.sealed_needs_key")
    with ExitStack() as stack:
        try:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="evidencekit-"))
            plain = Path(scratch) / "bundle.zip"
            with open(path, "rb") as source, open(plain, "wb") as out:
                envelope.open_sealed(source, identity, out)
        except OSError as exc:  # typically a temporary folder too small for the decrypted copy
            raise UserError("bundle.no_room_to_decrypt", path=str(path),
                            reason=exc.strerror or type(exc).__name__) from exc
        yield plain


def verify(
    path: Path,
    *,
    identity: nacl.signing.SigningKey | None = None,
    header_sources: Sequence[HeaderSource] = (),
    extra_roots: Sequence[x509.Certificate] = (),
    network: str = "mainnet",
) -> BundleReport:
    """Check a bundle; a damaged envelope is a finding (invalid), not an error."""
    sealed = is_sealed(path)
    try:
        with plain_zip(path, identity) as plain:
            report = check.verify(plain, header_sources, [*default_roots(), *extra_roots], network, shown_as=path)
    except envelope.Damaged as damage:
        return BundleReport(None, None, None, (BundleCheck("envelope", "failed", damage.key, damage.params),))
    if sealed:
        envelope_ok = BundleCheck("envelope", "ok", "bundle.check_envelope_ok")
        report = BundleReport(report.signer_public_key, report.signer_fingerprint, report.case_title,
                              (envelope_ok, *report.checks), report.included, report.withheld, report.timestamps)
    return report


def open_bundle(path: Path, target: Path, identity: nacl.signing.SigningKey | None = None) -> list[Path]:
    """Unpack into ``target`` (which must not exist or be empty); all of it, or nothing."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError("bundle.target_not_empty", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with plain_zip(path, identity) as plain:
            written = _extract(plain, staging, shown_as=path)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / p.relative_to(staging) for p in written]


def _extract(plain: Path, into: Path, shown_as: Path) -> list[Path]:
    try:
        archive = zipfile.ZipFile(plain)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError("bundle.not_a_bundle", path=str(shown_as)) from exc  # never the decrypted copy
    written = []
    with archive:
        for info in safe_zip.checked_members(archive):
            destination = into / info.filename
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
                with open(destination, "xb") as out:
                    for chunk in safe_zip.read_chunks(archive, info):
                        out.write(chunk)
            except OSError as exc:  # a file where a folder must go, a name too long, a full disk
                raise UserError("bundle.unpack_failed", name=info.filename[:200],
                                reason=exc.strerror or type(exc).__name__) from exc
            written.append(destination)
    return written


def _default_name(title: str, sealed: bool) -> str:
    slug = re.sub(r"[^\w-]+", "-", title, flags=re.UNICODE).strip("-").lower()[:40] or "case"
    return f"{slug}-{date.today().isoformat()}.{'sealed' if sealed else 'zip'}"
