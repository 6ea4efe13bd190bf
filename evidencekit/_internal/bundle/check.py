"""Verifying a bundle offline: the container, every digest, the signatures, the custody log,
what was withheld, and every timestamp — each finding said precisely.

Reading and judging are apart. :func:`read_zip` streams a bundle ZIP once (from a file or
straight out of the decryption), checks its layout exactly (``container.py``), hashes every
member, keeps the small ones that are judged (manifest, log, records, proofs) and, for ``open``,
writes each member where it is unpacked. :func:`read_folder` reads an unpacked bundle the same
way. :func:`judge` then checks what was read. So ``verify`` and ``open`` read every byte the
same way and can never disagree.

Nothing in the bundle is trusted for what it claims about itself: digests are recomputed, the
log is re-verified with the key that signed the manifest, and each included record must be the
one that key committed to in the log.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography import x509

from evidencekit._internal import canonical, custody_log, keys, redact
from evidencekit._internal.bundle import container, layout, minisign
from evidencekit._internal.timestamps.bitcoin_headers import (
    HeaderSource,
    StoredHeader,
    StoredHeaderInfo,
    parse_stored_header,
)
from evidencekit._internal.timestamps.model import ProofResult
from evidencekit._internal.timestamps.ots import verify_ots
from evidencekit._internal.timestamps.rfc3161 import verify_rfc3161
from evidencekit.errors import UserError, is_no_room
from evidencekit.models import BundleCheck, BundleReport

MAX_KEPT = 64 << 20  # manifest, log, records, proofs: held in memory to be judged
KEPT_PREFIXES = ("records/", layout.TIMESTAMPS)
KEPT_NAMES = (*layout.UNSIGNED, layout.LOG_ENTRIES, layout.LOG_SIGNATURES, layout.SIGNER_PEM)


@dataclass
class Contents:
    """What a bundle holds, as read: each member's size and SHA-256, the bytes of the ones judged,
    and what was wrong with the container, if anything."""

    sizes: dict[str, int] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    kept: dict[str, bytes] = field(default_factory=dict)
    problem: container.Malformed | None = None
    container_digest: bytes | None = None
    too_big: list[str] = field(default_factory=list)

    def add(self, name: str, size: int, sha256: str, data: bytes | None) -> None:
        self.sizes[name] = size
        self.digests[name] = sha256
        if data is not None:
            self.kept[name] = data


def _kept(name: str) -> bool:
    return name in KEPT_NAMES or name.startswith(KEPT_PREFIXES)


def read_zip(source: BinaryIO, unpack_into: Path | None = None) -> Contents:
    """Stream the container once; with ``unpack_into``, write each member there as it passes."""
    contents = Contents()
    with container.Reader(source) as reader:
        try:
            for member in reader.members():
                keep = _kept(member.name) and member.size <= MAX_KEPT
                if _kept(member.name) and not keep:
                    contents.too_big.append(member.name)
                parts: list[bytes] = []
                try:
                    out = _unpack_target(unpack_into, member.name) if unpack_into else None
                except OSError as exc:  # a file where a folder must go, a name too long
                    raise _unpack_failed(exc, member.name) from exc
                try:
                    for chunk in reader.data():
                        if keep:
                            parts.append(chunk)
                        if out is not None:
                            _write(out, chunk, member.name)
                finally:
                    if out is not None:
                        out.close()
                contents.add(member.name, member.size, str(member.sha256), b"".join(parts) if keep else None)
            contents.container_digest = reader.digest
        except container.Malformed as problem:
            contents.problem = problem
    return contents


def _write(out: BinaryIO, chunk: bytes, name: str) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise _unpack_failed(exc, name) from exc


def _unpack_failed(error: OSError, name: str) -> Exception:
    """One sentence naming the member; a full disk stays itself, for the caller to name where."""
    if is_no_room(error):
        return error
    return UserError("bundle.unpack_failed", name=name[:200], reason=error.strerror or type(error).__name__)


def _unpack_target(root: Path, name: str) -> BinaryIO:
    destination = root.joinpath(*name.split("/"))  # the name was checked by the container reader
    destination.parent.mkdir(parents=True, exist_ok=True)
    return open(destination, "xb")


def read_folder(folder: Path) -> Contents:
    """An unpacked bundle: every regular file under ``folder``; links and odd files are problems."""
    contents = Contents()
    for root, dirs, names in os.walk(folder):
        for name in sorted(names) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            path = Path(root, name)
            relative = path.relative_to(folder).as_posix()
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                contents.problem = container.Malformed("bundle.folder_not_a_file", name=relative[:200])
                continue
            keep = _kept(relative) and info.st_size <= MAX_KEPT
            digest, data = _hash_file(path, keep)
            contents.add(relative, info.st_size, digest, data)
    return contents


def _hash_file(path: Path, keep: bool) -> tuple[str, bytes | None]:
    with open(path, "rb") as f:
        if keep:
            data = f.read()
            return hashlib.sha256(data).hexdigest(), data
        return hashlib.file_digest(f, "sha256").hexdigest(), None


class _Findings:
    def __init__(self) -> None:
        self.checks: list[BundleCheck] = []

    def ok(self, check: str, key: str, needs: tuple[str, ...] = (), **params: object) -> None:
        """A check that held, said only if none it ``needs`` failed: a ✓ under a ✗ it rests on would
        tell the reader two opposite things."""
        if not any(c.status == "failed" and c.name in needs for c in self.checks):
            self.checks.append(BundleCheck(check, "ok", key, params))

    def warn(self, check: str, key: str, **params: object) -> None:
        self.checks.append(BundleCheck(check, "warning", key, params))

    def fail(self, check: str, key: str, **params: object) -> None:
        self.checks.append(BundleCheck(check, "failed", key, params))

    def report(self, public: str | None = None, fingerprint: str | None = None, title: str | None = None,
               **rest: object) -> BundleReport:
        return BundleReport(public, fingerprint, title, tuple(self.checks), **rest)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Judged:
    report: BundleReport
    signer: bytes | None  # the manifest's signer, when the manifest signature holds


def judge(contents: Contents, header_sources: Sequence[HeaderSource], roots: Sequence[x509.Certificate],
          network: str) -> Judged:
    found = _Findings()
    if contents.problem is not None:
        found.fail("container", contents.problem.key, **contents.problem.params)
    for name in contents.too_big:
        found.fail("files", "zip.member_too_big", name=name[:200], limit_mb=MAX_KEPT >> 20)
    kept = contents.kept
    missing = [name for name in (layout.MANIFEST, layout.SIGNER) if name not in kept]
    if missing:
        found.fail("signature", "bundle.check_unsigned_missing", names=", ".join(missing))
        return Judged(found.report(), None)
    manifest_bytes = kept[layout.MANIFEST]
    try:
        signer_file = minisign.parse_public_key_file(kept[layout.SIGNER])
    except ValueError:
        found.fail("signature", "bundle.check_signer_unreadable")
        return Judged(found.report(), None)
    signer = signer_file.key
    public, fingerprint = signer_file.string, keys.fingerprint(signer)
    holds = _check_signed(kept, layout.MANIFEST, layout.SIGNATURE, signer_file, found)
    if holds:
        found.ok("signature", "bundle.check_signature_ok", fingerprint=fingerprint)
    if not signer_file.is_evidencekit_key:  # someone's own minisign key (``minisign -G``)
        found.fail("signature", "bundle.check_signer_foreign", key_id=signer_file.key_id_text)
    elif kept[layout.SIGNER] != minisign.public_key_file(signer):
        found.fail("signature", "bundle.check_unsigned_changed", path=layout.SIGNER)
    try:
        manifest = layout.Manifest.from_bytes(manifest_bytes)
    except NotImplementedError as exc:
        older = str(exc).isdigit() and int(str(exc)) < layout.VERSION
        raise UserError("bundle.old_version" if older else "bundle.unsupported_version", version=str(exc)) from exc
    except (ValueError, KeyError, TypeError, AttributeError):
        found.fail("manifest", "bundle.check_manifest_unreadable")
        return Judged(found.report(public, fingerprint), signer if holds else None)
    if manifest.signer != public:
        found.fail("signature", "bundle.check_signer_mismatch")
    if kept.get(layout.SUMS) != layout.sha256sums(manifest.files):
        found.fail("files", "bundle.check_unsigned_changed", path=layout.SUMS)
    _check_signed(kept, layout.SUMS, layout.SUMS_SIGNATURE, signer_file, found)
    _check_signer_pem(kept, manifest, found)

    _check_files(contents, manifest, found)
    entries = _check_log(kept, manifest, signer, found)
    title = _check_case(kept, manifest, entries, found)
    withheld = _check_items(kept, manifest, entries, found)
    held_back = tuple(i.label for i in manifest.items if i.held_back)
    stamps = _check_timestamps(kept, manifest, entries, header_sources, roots, network, found)
    report = found.report(public, fingerprint, title, included=tuple(i.label for i in manifest.items),
                          withheld=tuple(withheld), timestamps=tuple(stamps), held_back=held_back)
    return Judged(report, signer if holds else None)


def _check_signed(kept: dict[str, bytes], path: str, signature_path: str, signer: minisign.PublicKey,
                  found: _Findings) -> bool:
    """A minisign signature of ``path``; its unsigned comment line is held to what evidencekit writes."""
    signature_file = kept.get(signature_path)
    if signature_file is None:
        found.fail("signature", "bundle.check_signature_missing", path=signature_path)
        return False
    try:
        signature = minisign.parse_signature(signature_file)
        holds = minisign.verify(signer, kept.get(path, b""), signature)
    except (ValueError, UserError):
        holds = False
    if not holds:
        found.fail("signature", "bundle.check_signature_bad", path=path)
        return False
    if signature_file != minisign.signature_file(signature):
        found.fail("signature", "bundle.check_unsigned_changed", path=signature_path)
    return True


def _check_signer_pem(kept: dict[str, bytes], manifest: layout.Manifest, found: _Findings) -> None:
    """signer.pem is what a person checks the custody log with by hand: it must be exactly the
    manifest's signer, or a forger could swap in a key of their own."""
    try:
        named = keys.parse_public_key(manifest.signer)
    except UserError:
        return  # not a case key: the signer mismatch or the foreign key is a finding already
    if kept.get(layout.SIGNER_PEM) != layout.signer_pem(named):
        found.fail("signature", "bundle.check_signer_pem", path=layout.SIGNER_PEM)


def _check_files(contents: Contents, manifest: layout.Manifest, found: _Findings) -> None:
    bad = 0
    for name, meta in manifest.files.items():
        if name not in contents.digests:
            found.fail("files", "bundle.check_file_missing", path=name)
            bad += 1
        elif contents.digests[name] != meta.get("sha256") or contents.sizes[name] != meta.get("size"):
            found.fail("files", "bundle.check_file_changed", path=name)
            bad += 1
    for name in contents.digests:
        if name not in manifest.files and name not in layout.UNSIGNED:
            found.fail("files", "bundle.check_file_unexpected", path=name)
            bad += 1
    if not bad:
        found.ok("files", "bundle.check_files_ok", count=len(manifest.files))


def _check_log(kept: dict[str, bytes], manifest: layout.Manifest, signer: bytes, found: _Findings) -> list:
    try:
        stored = layout.read_log(kept[layout.LOG_ENTRIES], kept[layout.LOG_SIGNATURES])
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


def _check_case(kept: dict[str, bytes], manifest: layout.Manifest, entries: list, found: _Findings) -> str | None:
    try:
        record = kept[layout.CASE_RECORD]
        case = canonical.loads(record)
    except (KeyError, ValueError):
        found.fail("case", "bundle.check_case_unreadable")
        return None
    created = [e for e in entries if e.action == "case.create"]
    if (not created or created[0].record_sha256 != canonical.sha256_hex(record) or not isinstance(case, dict)
            or case.get("id") != manifest.case_id):
        found.fail("case", "bundle.check_case_not_logged")
    return str(case.get("title")) if isinstance(case, dict) else None


def _check_items(kept: dict[str, bytes], manifest: layout.Manifest, entries: list,
                 found: _Findings) -> list[dict[str, object]]:
    logged = {e.subject: e for e in entries if e.action == "item.add"}
    good = 0
    for item in manifest.items:
        entry = logged.get(item.label)
        try:
            record_bytes = kept[item.record]
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
        elif item.held_back and not _same_pdq(record["files"], item.files):
            found.fail("items", "bundle.check_item_hashes_differ", item=item.label)
        elif not item.held_back and not all(manifest.files.get(f["path"], {}).get("sha256") == f["sha256"]
                                            for f in item.files):
            found.fail("items", "bundle.check_item_files_differ", item=item.label)
        else:
            good += 1
            if item.held_back:  # said as what it is: the record is checked, the content is not here
                found.ok("items", "bundle.check_item_held_back", item=item.label)
            _check_redaction(item.label, record, entries, manifest, found)
    included = {i.label for i in manifest.items}
    withheld = [{"id": label, "added": e.time} for label, e in logged.items() if label not in included]
    if good == len(manifest.items):  # their files and the log they are committed in must hold too
        found.ok("items", "bundle.check_items_ok", needs=("files", "log"), count=good)
    if withheld:
        found.ok("withheld", "bundle.check_withheld", needs=("log",), count=len(withheld))
    if len(withheld) != manifest.withheld:
        found.fail("withheld", "bundle.check_withheld_mismatch", claimed=manifest.withheld, found=len(withheld))
    return withheld


def _same_pdq(recorded: list, listed: Sequence[dict]) -> bool:
    """Where the logged record has a file's PDQ, the manifest must give the same one."""
    return all(not isinstance(r, dict) or not r.get("pdq") or r.get("pdq") == f.get("pdq")
               for r, f in zip(recorded, listed))


def _check_redaction(label: str, record: dict, entries: list, manifest: layout.Manifest, found: _Findings) -> None:
    """A redacted copy names its original by record digest; the log says whether that one exists."""
    acquired = record.get("acquired")
    found_link = redact.link(label, acquired if isinstance(acquired, dict) else {}, entries,
                             {i.label: i.record_sha256 for i in manifest.items})
    if found_link is None:
        return
    report = found.fail if found_link.status == "not_logged" else found.ok
    report("redactions", found_link.key, **found_link.params())


def _check_timestamps(kept: dict[str, bytes], manifest: layout.Manifest, entries: list,
                      header_sources: Sequence[HeaderSource], roots: Sequence[x509.Certificate],
                      network: str, found: _Findings) -> list[dict[str, object]]:
    stored = [StoredHeader(header, network=network, name=name)  # type: ignore[arg-type]
              for name, data in kept.items()
              if name.startswith(layout.TIMESTAMPS) and name.endswith(".header.json")
              and (header := _stored_header(data)) is not None]
    sources = [*header_sources, *stored]
    digests = {e.seq: e.digest for e in entries}
    results = []
    proven: dict[int, str] = {}
    for stamp in manifest.timestamps:
        seq, path = stamp.get("seq"), str(stamp.get("path"))
        stamped = kept.get(str(stamp.get("stamped")))
        if (digests.get(seq) != stamp.get("digest") or path not in kept or stamped is None
                or canonical.sha256_hex(stamped) != stamp.get("digest")):
            found.fail("timestamps", "bundle.check_stamp_not_log", path=path)
            continue
        proof, digest = kept[path], bytes.fromhex(str(stamp["digest"]))
        result: ProofResult = (verify_ots(proof, digest, sources) if stamp.get("kind") == "ots"
                               else verify_rfc3161(proof, digest, roots))
        results.append({"path": path, "seq": seq, "servers": stamp.get("servers"), **result.to_json()})
        params = {"path": path, "reason": result.reason}
        if result.status == "verified":
            found.ok("timestamps", "bundle.check_stamp_ok", **params)
            if (existed_by := result.existed_by) is not None and isinstance(seq, int):
                proven[seq] = min(existed_by, proven.get(seq, existed_by))
        elif result.status == "invalid":
            found.fail("timestamps", "bundle.check_stamp_invalid", **params)
        else:
            found.warn("timestamps", "bundle.check_stamp_open", **params)
    if not manifest.timestamps:
        found.warn("timestamps", "bundle.check_no_stamps")
    for problem in custody_log.time_problems(entries, proven):
        found.fail("log", f"check.{problem.code}", subject=problem.subject, **problem.params)
    return results


def _stored_header(data: bytes) -> StoredHeaderInfo | None:
    """A header file carried in the bundle; one that does not parse is simply not used."""
    try:
        return parse_stored_header(data.decode("utf-8", "replace"))
    except UserError:
        return None
