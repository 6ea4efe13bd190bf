"""Verifying a plain bundle offline: every digest, the manifest signature, the custody log,
what was withheld, and every timestamp — each finding said precisely.

Nothing in the bundle is trusted for what it claims about itself: digests are recomputed, the
log is re-verified with the key that signed the manifest, and each included record must be the
one that key committed to in the log.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography import x509

from evidencekit._internal import canonical, custody_log, keys, redact, safe_zip
from evidencekit._internal.bundle import layout, minisign
from evidencekit._internal.timestamps.bitcoin_headers import (
    HeaderSource,
    StoredHeader,
    StoredHeaderInfo,
    parse_stored_header,
)
from evidencekit._internal.timestamps.model import ProofResult
from evidencekit._internal.timestamps.ots import verify_ots
from evidencekit._internal.timestamps.rfc3161 import verify_rfc3161
from evidencekit.errors import UserError
from evidencekit.models import BundleCheck, BundleReport

MAX_SMALL_MEMBER = 256 << 20  # manifest, log, records: read whole
HASH_THREADS = max(1, min(4, os.cpu_count() or 1))  # hashlib lets go of the GIL: files hash in parallel


class _Findings:
    def __init__(self) -> None:
        self.checks: list[BundleCheck] = []

    def ok(self, name: str, key: str, **params: object) -> None:
        self.checks.append(BundleCheck(name, "ok", key, params))

    def warn(self, name: str, key: str, **params: object) -> None:
        self.checks.append(BundleCheck(name, "warning", key, params))

    def fail(self, name: str, key: str, **params: object) -> None:
        self.checks.append(BundleCheck(name, "failed", key, params))


def verify(path: Path, header_sources: Sequence[HeaderSource], roots: Sequence[x509.Certificate],
           network: str, shown_as: Path | None = None) -> BundleReport:
    """``shown_as``: the file the user named, when ``path`` is a private decrypted copy of it."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError("bundle.not_a_bundle", path=str(shown_as or path)) from exc
    with archive:
        members = {m.filename: m for m in safe_zip.checked_members(archive)}
        return _verify(archive, path, members, header_sources, roots, network)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_SMALL_MEMBER:
        raise safe_zip.UnsafeArchive("zip.member_too_big", name=info.filename[:200], limit_mb=MAX_SMALL_MEMBER >> 20)
    return b"".join(safe_zip.read_chunks(archive, info))


def _verify(archive: zipfile.ZipFile, path: Path, members: dict[str, zipfile.ZipInfo],
            header_sources: Sequence[HeaderSource], roots: Sequence[x509.Certificate], network: str) -> BundleReport:
    found = _Findings()
    missing = [name for name in layout.UNSIGNED if name not in members]
    if layout.MANIFEST in missing or layout.SIGNER in missing:
        found.fail("signature", "bundle.check_unsigned_missing", names=", ".join(missing))
        return BundleReport(None, None, None, tuple(found.checks))
    manifest_bytes = _read(archive, members[layout.MANIFEST])

    # Who signed, and does the signature hold?
    try:
        signer_file = _read(archive, members[layout.SIGNER])
        signer = minisign.parse_public_key_file(signer_file)
    except (ValueError, UserError):
        found.fail("signature", "bundle.check_signer_unreadable")
        return BundleReport(None, None, None, tuple(found.checks))
    public, fingerprint = keys.public_key_string(signer), keys.fingerprint(signer)
    if layout.SIGNATURE in missing:
        found.fail("signature", "bundle.check_signature_missing")
    else:
        try:
            signature_file = _read(archive, members[layout.SIGNATURE])
            signature = minisign.parse_signature(signature_file)
            holds = minisign.verify(signer, manifest_bytes, signature)
        except (ValueError, UserError):
            holds = False
        if holds:
            found.ok("signature", "bundle.check_signature_ok", fingerprint=fingerprint)
            # minisign signs neither file's "untrusted comment" line: hold them to what
            # evidencekit writes, so that no byte of a bundle can change unnoticed.
            if signature_file != minisign.signature_file(signature):
                found.fail("signature", "bundle.check_unsigned_changed", path=layout.SIGNATURE)
        else:
            found.fail("signature", "bundle.check_signature_bad")
    if signer_file != minisign.public_key_file(signer):
        found.fail("signature", "bundle.check_unsigned_changed", path=layout.SIGNER)
    try:
        manifest = layout.Manifest.from_bytes(manifest_bytes)
    except NotImplementedError as exc:
        raise UserError("bundle.unsupported_version", version=str(exc)) from exc
    except (ValueError, KeyError, TypeError, AttributeError):
        found.fail("manifest", "bundle.check_manifest_unreadable")
        return BundleReport(public, fingerprint, None, tuple(found.checks))
    if manifest.signer != public:
        found.fail("signature", "bundle.check_signer_mismatch")

    _check_files(archive, path, members, manifest, found)
    entries = _check_log(archive, members, manifest, signer, found)
    title = _check_case(archive, members, manifest, entries, found)
    withheld = _check_items(archive, members, manifest, entries, found)
    stamps = _check_timestamps(archive, members, manifest, entries, header_sources, roots, network, found)
    return BundleReport(public, fingerprint, title, tuple(found.checks),
                        tuple(i.label for i in manifest.items), tuple(withheld), tuple(stamps))


def _check_files(archive: zipfile.ZipFile, path: Path, members: dict[str, zipfile.ZipInfo],
                 manifest: layout.Manifest, found: _Findings) -> None:
    bad = 0
    present = [name for name in manifest.files if name in members]
    digests = _digests(archive, path, [members[name] for name in present])
    for name, meta in manifest.files.items():
        info = members.get(name)
        if info is None:
            found.fail("files", "bundle.check_file_missing", path=name)
            bad += 1
        elif digests[name] != meta.get("sha256") or info.file_size != meta.get("size"):
            found.fail("files", "bundle.check_file_changed", path=name)
            bad += 1
    for name in members:
        if name not in manifest.files and name not in layout.UNSIGNED:
            found.fail("files", "bundle.check_file_unexpected", path=name)
            bad += 1
    if not bad:
        found.ok("files", "bundle.check_files_ok", count=len(manifest.files))


def _digests(archive: zipfile.ZipFile, path: Path, infos: list[zipfile.ZipInfo]) -> dict[str, str | None]:
    """SHA-256 of each member (None when it cannot be read). Stored members, which is all of them
    in a bundle evidencekit wrote, are hashed straight from the file, several at a time: the
    digest in the signed manifest is the check, so zipfile's CRC-32 is skipped for them."""

    def stored(info: zipfile.ZipInfo) -> str | None:
        with open(path, "rb", buffering=0) as raw:
            return _sha256(lambda: safe_zip.stored_views(raw, info) or ())

    held = [i for i in infos if safe_zip.is_stored(i)]
    with ThreadPoolExecutor(HASH_THREADS) as pool:
        results = dict(zip((i.filename for i in held), pool.map(stored, held)))
    for info in infos:  # compressed or encrypted: only in bundles made by something else
        if info.filename not in results:
            results[info.filename] = _sha256(lambda: safe_zip.read_chunks(archive, info))
    return results


def _sha256(chunks: Callable[[], Iterable[bytes | memoryview]]) -> str | None:
    digest = hashlib.sha256()
    try:
        for chunk in chunks():
            digest.update(chunk)
    except safe_zip.UnsafeArchive:
        return None
    return digest.hexdigest()


def _check_log(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], manifest: layout.Manifest,
               signer: bytes, found: _Findings) -> list:
    try:
        stored = layout.read_log(_read(archive, members[layout.LOG_ENTRIES]),
                                 _read(archive, members[layout.LOG_SIGNATURES]))
    except (KeyError, ValueError, UnicodeDecodeError):
        found.fail("log", "bundle.check_log_unreadable")
        return []
    entries, problems = custody_log.verify(stored, signer)
    for problem in problems:
        found.fail("log", f"check.{problem.code}", subject=problem.subject, **problem.params)
    if len(stored) != manifest.log_length or not stored or canonical.sha256_hex(stored[-1][0]) != manifest.log_head:
        found.fail("log", "bundle.check_log_not_manifest")
    elif not problems:
        found.ok("log", "bundle.check_log_ok", count=len(stored))
    return entries


def _check_case(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], manifest: layout.Manifest,
                entries: list, found: _Findings) -> str | None:
    try:
        record = _read(archive, members[layout.CASE_RECORD])
        case = canonical.loads(record)
    except (KeyError, ValueError):
        found.fail("case", "bundle.check_case_unreadable")
        return None
    created = [e for e in entries if e.action == "case.create"]
    if (not created or created[0].record_sha256 != canonical.sha256_hex(record) or not isinstance(case, dict)
            or case.get("id") != manifest.case_id):
        found.fail("case", "bundle.check_case_not_logged")
    return str(case.get("title")) if isinstance(case, dict) else None


def _check_items(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], manifest: layout.Manifest,
                 entries: list, found: _Findings) -> list[dict[str, object]]:
    logged = {e.subject: e for e in entries if e.action == "item.add"}
    good = 0
    for item in manifest.items:
        entry = logged.get(item.label)
        try:
            record_bytes = _read(archive, members[item.record])
            record = canonical.loads(record_bytes)
            recorded_files = [(f["sha256"], f["size"]) for f in record["files"]]
        except (KeyError, ValueError, TypeError):
            found.fail("items", "bundle.check_item_unreadable", item=item.label)
            continue
        digest = canonical.sha256_hex(record_bytes)
        if entry is None or entry.record_sha256 != digest or digest != item.record_sha256:
            found.fail("items", "bundle.check_item_not_logged", item=item.label)
        elif record.get("case") != manifest.case_id or record.get("item") != item.label:
            found.fail("items", "bundle.check_item_other_case", item=item.label)
        elif recorded_files != [(f["sha256"], f["size"]) for f in item.files]:
            found.fail("items", "bundle.check_item_files_differ", item=item.label)
        else:
            good += 1
            _check_redaction(item.label, record, entries, manifest, found)
    included = {i.label for i in manifest.items}
    withheld = [{"id": label, "added": e.time} for label, e in logged.items() if label not in included]
    if good == len(manifest.items):
        found.ok("items", "bundle.check_items_ok", count=good)
    if withheld:
        found.ok("withheld", "bundle.check_withheld", count=len(withheld))
    if len(withheld) != manifest.withheld:
        found.fail("withheld", "bundle.check_withheld_mismatch", claimed=manifest.withheld, found=len(withheld))
    return withheld


def _check_redaction(label: str, record: dict, entries: list, manifest: layout.Manifest, found: _Findings) -> None:
    """A redacted copy names its original by record digest; the log says whether that one exists."""
    acquired = record.get("acquired")
    found_link = redact.link(label, acquired if isinstance(acquired, dict) else {}, entries,
                             {i.label: i.record_sha256 for i in manifest.items})
    if found_link is None:
        return
    report = found.fail if found_link.status == "not_logged" else found.ok
    report("redactions", found_link.key, **found_link.params())


def _check_timestamps(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], manifest: layout.Manifest,
                      entries: list, header_sources: Sequence[HeaderSource], roots: Sequence[x509.Certificate],
                      network: str, found: _Findings) -> list[dict[str, object]]:
    stored = [StoredHeader(header, network=network, name=name)  # type: ignore[arg-type]
              for name, info in members.items()
              if name.startswith(layout.TIMESTAMPS) and name.endswith(".header.json")
              and (header := _stored_header(archive, info)) is not None]
    sources = [*header_sources, *stored]
    digests = {e.seq: e.digest for e in entries}
    results = []
    for stamp in manifest.timestamps:
        seq, path = stamp.get("seq"), str(stamp.get("path"))
        if digests.get(seq) != stamp.get("digest") or path not in members:
            found.fail("timestamps", "bundle.check_stamp_not_log", path=path)
            continue
        proof, digest = _read(archive, members[path]), bytes.fromhex(str(stamp["digest"]))
        result: ProofResult = (verify_ots(proof, digest, sources) if stamp.get("kind") == "ots"
                               else verify_rfc3161(proof, digest, roots))
        results.append({"path": path, "seq": seq, "servers": stamp.get("servers"), **result.to_json()})
        params = {"path": path, "reason": result.reason}
        if result.status == "verified":
            found.ok("timestamps", "bundle.check_stamp_ok", **params)
        elif result.status == "invalid":
            found.fail("timestamps", "bundle.check_stamp_invalid", **params)
        else:
            found.warn("timestamps", "bundle.check_stamp_open", **params)
    if not manifest.timestamps:
        found.warn("timestamps", "bundle.check_no_stamps")
    return results


def _stored_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> StoredHeaderInfo | None:
    """A header file carried in the bundle, read once; one that does not parse is simply not used."""
    try:
        return parse_stored_header(_read(archive, info).decode("utf-8", "replace"))
    except UserError:
        return None
