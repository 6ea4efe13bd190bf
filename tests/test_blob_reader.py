"""Every reader of stored bytes goes through ``BlobStore.open``, the one place that encryption at
rest will change.

Each blob is scrambled on disk right after it is stored, and only ``open`` unscrambles it. Adding
(media type, pHash, PDQ), ``check``, export, sealing a bundle (copied files and hash-only digests),
the report's chat pictures and the host's previews must then still see the true bytes; a reader
that opened a blob's file by its path would see noise and fail.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import PASSPHRASE
from evidencekit import bundle, imports
from evidencekit._internal import blobstore
from evidencekit._internal.native_host import thumbnail
from evidencekit._internal.report import attachments, contents
from evidencekit.locker import Locker

CHAT = ("30.03.2024, 23:50 - Per Hansen: Se her\n"
        "30.03.2024, 23:51 - Per Hansen: IMG-20240330-WA0001.jpg (file attached)\n"
        "31.03.2024, 03:10 - Kari: Slutt\n")


def _scramble(data: bytes) -> bytes:
    return bytes(b ^ 0xA5 for b in data)


@pytest.fixture
def scrambled_store(monkeypatch: pytest.MonkeyPatch) -> None:
    commit = blobstore.BlobStore._commit

    def scrambling_commit(self: blobstore.BlobStore, tmp_path: Path, sha256: str, size: int) -> blobstore.StoredBlob:
        new = not self._path(sha256).exists()
        stored = commit(self, tmp_path, sha256, size)
        if new:
            final = self._path(sha256)
            os.chmod(final, 0o600)
            final.write_bytes(_scramble(final.read_bytes()))
            os.chmod(final, blobstore.READ_ONLY)
        return stored

    def unscrambling_open(self: blobstore.BlobStore, sha256: str) -> io.BytesIO:
        return io.BytesIO(_scramble(self._path(sha256).read_bytes()))

    monkeypatch.setattr(blobstore.BlobStore, "_commit", scrambling_commit)
    monkeypatch.setattr(blobstore.BlobStore, "open", unscrambling_open)


def _picture(colour: str, kind: str) -> bytes:
    image = Image.new("RGB", (320, 240), colour)
    ImageDraw.Draw(image).text((20, 20), colour, fill="black")
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def test_every_reader_reads_through_the_store(scrambled_store: None, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", "")
    monkeypatch.setenv("EVIDENCEKIT_TSA_URLS", "")
    shot = tmp_path / "screenshot.png"
    shot.write_bytes(_picture("orange", "PNG"))
    clip = tmp_path / "clip.mp4"  # a video goes hash-only with its MD5, read from the store
    clip.write_bytes(os.urandom(50_000))
    sent = _picture("skyblue", "JPEG")
    export = tmp_path / "WhatsApp Chat with Per Hansen.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("WhatsApp Chat with Per Hansen.txt", CHAT)
        archive.writestr("IMG-20240330-WA0001.jpg", sent)

    with Locker.open(tmp_path / "locker") as locker:
        locker.init_identity(PASSPHRASE, "interactive")
        locker.create_case("Blob reader", PASSPHRASE)
        added = locker.add_files([shot], PASSPHRASE)[0]
        video = locker.add_files([clip], PASSPHRASE)[0]
        chat = imports.import_export(locker, export, PASSPHRASE, tz="Europe/Oslo", me="Kari")
        stored = added.files[0]
        raw = (tmp_path / "locker" / "blobs" / stored.sha256[:2] / stored.sha256).read_bytes()
        assert hashlib.sha256(raw).hexdigest() != stored.sha256  # the premise: on disk, only noise

        assert stored.media_type == "image/png" and stored.phash and stored.pdq  # described from true bytes
        assert locker.check().ok
        locker.export_file(added, stored, tmp_path / "out.png")
        assert (tmp_path / "out.png").read_bytes() == shot.read_bytes()

        with locker.blobs.open(stored.sha256) as blob:
            preview = thumbnail.data_url(blob)
        assert preview and preview.startswith("data:image/jpeg;base64,")

        transcript = contents.transcript(locker, chat)
        assert transcript is not None
        pictures = attachments.thumbnails(locker, chat, transcript, blur=False)
        assert [p.sha256 for p in pictures] == [hashlib.sha256(sent).hexdigest()] and pictures[0].uri

        sealed = bundle.seal(locker, PASSPHRASE, output=tmp_path / "bundle.zip", with_report=False,
                             hash_only=[video.label])
        assert sealed.held_back == (video.label,)
        report = bundle.verify(sealed.path)
        assert report.verdict != "invalid", report
        with zipfile.ZipFile(sealed.path) as made:
            copied = [made.read(name) for name in made.namelist() if name.endswith("screenshot.png")]
            manifest = made.read("manifest.json")
        assert copied == [shot.read_bytes()]
        assert hashlib.md5(clip.read_bytes(), usedforsecurity=False).hexdigest().encode() in manifest
