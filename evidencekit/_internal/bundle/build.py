"""Writing a bundle: the chosen items, their records, the whole custody log, the proofs, the
README, and a signed manifest that lists every other member with its digest.

The whole log travels even when items are withheld: it carries only digests of salted records,
so the recipient learns how many items exist and when they were added, never what they hold.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import nacl.signing

from evidencekit import __version__
from evidencekit._internal import canonical, custody_log, keys, stamp_queue
from evidencekit._internal.bundle import layout, minisign
from evidencekit.errors import UserError
from evidencekit.i18n import LANGUAGES, t
from evidencekit.models import Item

ZIP64_ABOVE = 1 << 31


def write(
    locker,  # evidencekit.locker.Locker; not imported to keep the dependency one-way
    case_id: str,
    items: Sequence[Item],
    signer: nacl.signing.SigningKey,
    out: BinaryIO,
    extra: Sequence[Path] = (),
) -> bytes:
    """Write the bundle ZIP to ``out``; returns the manifest bytes (what the seal log entry names).

    ``extra`` files (the report) go in at the top level under their own names, listed like the rest.
    """
    stored_log = custody_log.read(locker.db, case_id)
    logged = {e.subject for e in custody_log.entries(locker.db, case_id) if e.action == "item.add"}
    files: dict[str, dict[str, object]] = {}
    manifest_items = []
    moment = time.localtime()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:

        def put(path: str, data: bytes) -> None:
            archive.writestr(zipfile.ZipInfo(path, moment), data)
            files[path] = {"sha256": canonical.sha256_hex(data), "size": len(data)}

        readme = "\n\n".join(t("bundle.readme", lang, fingerprint=keys.fingerprint(bytes(signer.verify_key)))
                             for lang in reversed(LANGUAGES))
        put(layout.README, readme.encode("utf-8"))
        for path in extra:
            put(path.name, path.read_bytes())
        entries, signatures = layout.log_files(stored_log)
        put(layout.LOG_ENTRIES, entries)
        put(layout.LOG_SIGNATURES, signatures)
        put(layout.CASE_RECORD, locker.db.execute("SELECT record FROM cases WHERE id = ?", (case_id,)).fetchone()[0])
        for item in items:
            record = locker.db.execute(
                "SELECT record FROM items WHERE case_id = ? AND number = ?", (case_id, item.number)
            ).fetchone()[0]
            put(layout.record_path(item.label), bytes(record))
            item_files = []
            for index, file in enumerate(item.files, start=1):
                path = layout.item_file_path(item.label, index, file.name)
                _copy_blob(locker, archive, path, file.sha256, file.size, moment, item.label, file.name)
                files[path] = {"sha256": file.sha256, "size": file.size}
                item_files.append({"path": path, "name": file.name, "sha256": file.sha256, "size": file.size})
            manifest_items.append(
                layout.ManifestItem(item.label, layout.record_path(item.label), item.record_sha256, tuple(item_files))
            )
        proofs = stamp_queue.proof_files(locker.db, case_id)
        for proof in proofs:
            put(layout.TIMESTAMPS + proof.name, proof.data)
        for name, data in stamp_queue.header_files(locker.db).items():
            put(layout.TIMESTAMPS + name, data)
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
                 "servers": list(p.servers)}
                for p in proofs
            ),
            withheld=len(logged - {i.label for i in items}),
        ).to_bytes()
        archive.writestr(zipfile.ZipInfo(layout.MANIFEST, moment), manifest)
        archive.writestr(zipfile.ZipInfo(layout.SIGNATURE, moment),
                         minisign.sign(signer, manifest, f"evidencekit manifest of case {case_id}"))
        archive.writestr(zipfile.ZipInfo(layout.SIGNER, moment),
                         minisign.public_key_file(bytes(signer.verify_key)))
    return manifest


def _copy_blob(locker, archive: zipfile.ZipFile, path: str, sha256: str, size: int, moment: tuple,
               label: str, name: str) -> None:
    """Copy stored bytes into the archive, hashing them on the way: a damaged locker makes no bundle."""
    digest = hashlib.sha256()
    try:
        with locker.blobs.open(sha256) as blob, archive.open(
            zipfile.ZipInfo(path, moment), "w", force_zip64=size >= ZIP64_ABOVE
        ) as member:
            while chunk := blob.read(1 << 20):
                digest.update(chunk)
                member.write(chunk)
    except FileNotFoundError:
        digest = None  # type: ignore[assignment]
    if digest is None or digest.hexdigest() != sha256:
        raise UserError("items.blob_damaged", item=label, name=name)
