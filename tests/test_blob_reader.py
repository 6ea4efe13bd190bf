"""Every reader of stored bytes goes through ``BlobStore.open``, the one place that decrypts them.

At rest a blob is sealed (AES-GCM under a key of its own, under a name that is an HMAC), so a
reader that opened a blob's file by its path would see noise. Adding (media type, pHash, PDQ),
``check``, export, sealing a bundle (copied files and hash-only digests), the report's chat
pictures and the host's previews must all see the true bytes, and while they run no blob file is
opened by anything but the sealed-blob reader: an audit hook watches every ``open``.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest
from PIL import Image, ImageDraw

from conftest import PASSPHRASE
from evidencekit import bundle, imports
from evidencekit._internal import layout, sealed_blob
from evidencekit._internal.native_host import thumbnail
from evidencekit._internal.report import attachments, contents
from locker_files import blob_file, make_locker

CHAT = ("30.03.2024, 23:50 - Per Hansen: Se her\n"
        "30.03.2024, 23:51 - Per Hansen: IMG-20240330-WA0001.jpg (file attached)\n"
        "31.03.2024, 03:10 - Kari: Slutt\n")


class _Opens:
    """The blob files of one store opened while watched: by the sealed-blob reader, and by others."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.by_reader: list[str] = []
        self.directly: list[str] = []


_watched: list[_Opens] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not _watched or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = Path(os.fsdecode(args[0]))
    opens = _watched[-1]
    if path.parent.parent != opens.store or len(path.parent.name) != 2:  # a blob file, not tmp/ or a lock
        return
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code is not sealed_blob.Reader.__init__.__code__:
        frame = frame.f_back
    (opens.by_reader if frame is not None else opens.directly).append(path.name)


sys.addaudithook(_audit)  # hooks stay for the life of the process: this one records only when watched


@contextmanager
def blob_file_opens(home: Path) -> Iterator[_Opens]:
    opens = _Opens(home / layout.BLOBS)
    _watched.append(opens)
    try:
        yield opens
    finally:
        _watched.remove(opens)


def _picture(colour: str, kind: str) -> bytes:
    image = Image.new("RGB", (320, 240), colour)
    ImageDraw.Draw(image).text((20, 20), colour, fill="black")
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def test_every_reader_reads_through_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", "")
    monkeypatch.setenv("EVIDENCEKIT_TSA_URLS", "")
    home = tmp_path / "locker"
    shot = tmp_path / "screenshot.png"
    shot.write_bytes(_picture("orange", "PNG"))
    clip = tmp_path / "clip.mp4"  # a video goes hash-only with its MD5, read from the store
    clip.write_bytes(os.urandom(50_000))
    sent = _picture("skyblue", "JPEG")
    export = tmp_path / "WhatsApp Chat with Per Hansen.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("WhatsApp Chat with Per Hansen.txt", CHAT)
        archive.writestr("IMG-20240330-WA0001.jpg", sent)

    with make_locker(home) as locker, blob_file_opens(home) as opens:
        locker.create_case("Blob reader", PASSPHRASE)
        added = locker.add_files([shot], PASSPHRASE)[0]
        video = locker.add_files([clip], PASSPHRASE)[0]
        chat = imports.import_export(locker, export, PASSPHRASE, tz="Europe/Oslo", me="Kari")
        stored = added.files[0]

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

    assert opens.directly == []
    assert blob_file(home, stored.sha256).name in opens.by_reader  # the watch saw the reads it allows

    raw = blob_file(home, stored.sha256).read_bytes()  # the premise: on disk, only sealed bytes
    assert hashlib.sha256(raw).hexdigest() != stored.sha256 and shot.read_bytes()[:64] not in raw


def test_the_watch_sees_a_direct_read(tmp_path: Path) -> None:
    """The instrument itself: a blob file read by its path, as a careless reader would, is caught."""
    home = tmp_path / "locker"
    with make_locker(home) as locker:
        sha256 = locker.blobs.put_bytes(b"a message she was sent").sha256
        with blob_file_opens(home) as opens:
            blob_file(home, sha256).read_bytes()
            with locker.blobs.open(sha256) as blob:
                assert blob.read() == b"a message she was sent"
    assert opens.directly == [blob_file(home, sha256).name] and opens.by_reader == opens.directly
