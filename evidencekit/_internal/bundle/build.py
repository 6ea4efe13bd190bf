"""Writing a bundle: the chosen items, their records, the whole custody log, the proofs (with
the exact bytes each one stamped), the report, SHA256SUMS, and a signed manifest that lists
every member with its digest.

The whole log travels even when items are withheld: it carries only digests of salted records,
so the recipient learns how many items exist and when they were added, never what they hold.

An item held back (``seal --hash-only``, for intimate pictures) travels as its record and its
files' digests only: SHA-256, PDQ for a picture and MD5 for a video, the hashes that matching
services such as StopNCII compare. Its bytes are never read into the bundle.

Members are written in one pass, each with its CRC-32 in its local header (see
``container.py``). The CRC-32 of each stored file is computed first, in a quick pass that runs
while the report is printed; the copy then checks each file's SHA-256 as it goes, so a damaged
locker makes no bundle.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import nacl.signing

from evidencekit import __version__
from evidencekit._internal import canonical, custody_log, keys, media, stamp_queue
from evidencekit._internal.background import Behind
from evidencekit._internal.bundle import container, layout, minisign
from evidencekit._internal.timestamps.rfc3161 import default_roots
from evidencekit.errors import UserError
from evidencekit.models import Item, ItemFile

CHUNK = 1 << 20


@dataclass(frozen=True)
class Written:
    manifest: bytes
    container_digest: bytes


@dataclass(frozen=True)
class _Stored:
    path: str
    open: Callable[[], BinaryIO]  # the stored bytes, through the locker's one reader
    sha256: str
    size: int
    label: str
    name: str


def write(
    locker,  # evidencekit.locker.Locker; not imported to keep the dependency one-way
    case_id: str,
    items: Sequence[Item],
    signer: nacl.signing.SigningKey,
    out: BinaryIO,
    report: Callable[[], Sequence[Path]] = lambda: (),
    held_back: frozenset[str] = frozenset(),
) -> Written:
    """Write the bundle ZIP to ``out`` (which need not be seekable).

    ``report`` returns the report's files when they are ready (it may still be printing while
    the items are copied); they go in at the top level under their own names. Items labelled in
    ``held_back`` go in as their record and their files' hashes, without their bytes.
    """
    stored_log = custody_log.read(locker.db, case_id)
    logged = {e.subject for e in custody_log.entries(locker.db, case_id) if e.action == "item.add"}
    files: dict[str, dict[str, object]] = {}
    manifest_items = []
    writer = container.Writer(out, time.time())

    def put(path: str, data: bytes) -> None:
        writer.add(path, data)
        files[path] = {"sha256": canonical.sha256_hex(data), "size": len(data)}

    stored: list[_Stored] = []
    records: list[tuple[str, bytes]] = []
    for item in items:
        record = locker.db.execute(
            "SELECT record FROM items WHERE case_id = ? AND number = ?", (case_id, item.number)
        ).fetchone()[0]
        records.append((layout.record_path(item.label), bytes(record)))
        item_files = []
        for index, file in enumerate(item.files, start=1):
            if item.label in held_back:
                item_files.append(_hashes(locker, item.label, file))
                continue
            path = layout.item_file_path(item.label, index, file.name)
            stored.append(_Stored(path, partial(locker.blobs.open, file.sha256), file.sha256, file.size, item.label, file.name))
            item_files.append({"path": path, "name": file.name, "sha256": file.sha256, "size": file.size})
        manifest_items.append(layout.ManifestItem(item.label, layout.record_path(item.label), item.record_sha256,
                                                  tuple(item_files), item.label in held_back))
    crcs = {s.path: _crc(s) for s in stored}

    put(layout.README, layout.readme())
    put(layout.SIGNER_PEM, layout.signer_pem(bytes(signer.verify_key)))  # for checking by hand
    entries, signatures = layout.log_files(stored_log)
    put(layout.LOG_ENTRIES, entries)
    put(layout.LOG_SIGNATURES, signatures)
    put(layout.CASE_RECORD, locker.db.execute("SELECT record FROM cases WHERE id = ?", (case_id,)).fetchone()[0])
    for path, record in records:
        put(path, record)
    for blob in stored:
        _copy(writer, blob, crcs[blob.path])
        files[blob.path] = {"sha256": blob.sha256, "size": blob.size}
    proofs = stamp_queue.proof_files(locker.db, case_id)
    bodies = {canonical.sha256_hex(body): body for body, _ in stored_log}
    for proof in proofs:
        put(layout.TIMESTAMPS + proof.name, proof.data)
        stamped = layout.stamped_path(proof.seq, proof.digest)
        if stamped not in files and proof.digest in bodies:
            put(stamped, bodies[proof.digest])
    for name, data in stamp_queue.header_files(locker.db, proofs).items():
        put(layout.TIMESTAMPS + name, data)
    put(layout.TSA_ROOTS, layout.tsa_roots(default_roots()))  # for checking by hand
    for path in report():
        put(path.name, path.read_bytes())
    manifest = layout.Manifest(
        created=canonical.utc_now(),
        tool=f"evidencekit {__version__}",
        case_id=case_id,
        signer=keys.public_key_string(bytes(signer.verify_key)),
        log_length=len(stored_log),
        log_head=canonical.sha256_hex(stored_log[-1][0]),
        items=tuple(manifest_items),
        files=files,
        timestamps=tuple(
            {"path": layout.TIMESTAMPS + p.name, "kind": p.kind, "seq": p.seq, "digest": p.digest,
             "servers": list(p.servers), "stamped": layout.stamped_path(p.seq, p.digest)}
            for p in proofs
        ),
        withheld=len(logged - {i.label for i in items}),
    ).to_bytes()
    sha256sums = layout.sha256sums(files)
    comment = f"evidencekit manifest of case {case_id}"
    writer.add(layout.SUMS, sha256sums)
    writer.add(layout.SUMS_SIGNATURE, minisign.sign(signer, sha256sums, comment))
    writer.add(layout.MANIFEST, manifest)
    writer.add(layout.SIGNATURE, minisign.sign(signer, manifest, comment))
    writer.add(layout.SIGNER, minisign.public_key_file(bytes(signer.verify_key)))
    return Written(manifest, writer.finish())


def _hashes(locker, label: str, file: ItemFile) -> dict[str, object]:
    """A held-back file's entry: its digests instead of its bytes. MD5 for a video, and PDQ for
    a picture added before PDQ was recorded, are computed here from the stored bytes, whose
    SHA-256 is checked on the way, as a copy would."""
    entry: dict[str, object] = {"name": file.name, "sha256": file.sha256, "size": file.size}
    picture = file.phash is not None and file.media_type.startswith("image/")
    video = file.media_type.startswith("video/")
    if picture and file.pdq:
        entry["pdq"] = file.pdq
    if not video and (not picture or file.pdq):
        return entry
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    try:
        with locker.blobs.open(file.sha256) as f:
            while chunk := f.read(CHUNK):
                sha256.update(chunk)
                md5.update(chunk)
            if sha256.hexdigest() != file.sha256:
                raise UserError("items.blob_damaged", item=label, name=file.name)
            f.seek(0)
            found = media.describe(f, file.name).pdq if picture else None
    except FileNotFoundError:
        raise UserError("items.blob_damaged", item=label, name=file.name) from None
    if video:
        entry["md5"] = md5.hexdigest()
    if found:
        entry["pdq"] = found
    return entry


def _crc(blob: _Stored) -> int:
    crc = 0
    try:
        with blob.open() as f:
            while chunk := f.read(CHUNK):
                crc = zlib.crc32(chunk, crc)
    except FileNotFoundError:
        raise UserError("items.blob_damaged", item=blob.label, name=blob.name) from None
    return crc


def _copy(writer: container.Writer, blob: _Stored, crc: int) -> None:
    """Copy stored bytes into the archive, hashing them on the way (beside the copy, in a helper
    thread): a damaged locker makes no bundle."""
    digest = hashlib.sha256()
    hasher = Behind(digest.update)
    writer.begin_stream(blob.path, blob.size, crc)
    copied = 0
    try:
        with blob.open() as f:
            while copied < blob.size and (chunk := f.read(min(CHUNK, blob.size - copied))):
                hasher.put(chunk)
                writer.out.write(chunk)
                copied += len(chunk)
        hasher.finish()
    except FileNotFoundError:
        hasher.stop()
        raise UserError("items.blob_damaged", item=blob.label, name=blob.name) from None
    except BaseException:
        hasher.stop()
        raise
    if copied != blob.size or digest.hexdigest() != blob.sha256:
        raise UserError("items.blob_damaged", item=blob.label, name=blob.name)
    writer.end_stream(digest.digest())
