"""Hand-over: seal a case (or some of its items) into one file, open it, verify it.

A plain bundle (``*.zip``) is a ZIP anyone can open; a sealed one (``*.evidencekit``) is that
ZIP encrypted to chosen recipients and signed by the sender. Verification needs nothing but the
file (and, when sealed, the recipient's key), works offline, and ends in one verdict: valid,
valid with warnings, or invalid. ``open`` verifies first and unpacks only what holds. ``match``
tells a recipient of a hash-only hand-over whether a file they hold is one of its items.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import BinaryIO

import nacl.signing
from cryptography import x509

from evidencekit._internal import keys, media, workdir
from evidencekit._internal.browser import BrowserSession
from evidencekit._internal.report.pdf import print_file
from evidencekit._internal.bundle import build, check, envelope, layout
from evidencekit._internal.bundle import match as match_files
from evidencekit._internal.progress import Counting, Progress
from evidencekit._internal.timestamps.bitcoin_headers import HeaderSource
from evidencekit._internal.timestamps.rfc3161 import default_roots
from evidencekit.errors import UserError, VerificationFailed, is_no_room, naming_full_disk
from evidencekit.i18n import t
from evidencekit.locker import Locker
from evidencekit.models import BundleCheck, BundleReport, LogEntry

PLAIN_SUFFIX, SEALED_SUFFIX = ".zip", ".evidencekit"
PARTIAL_SUFFIX = ".partial"
NOT_VERIFIED = "NOT-VERIFIED.txt"
OPENING = ".evidencekit-opening-"


@dataclass(frozen=True)
class Sealed:
    path: Path
    items: tuple[str, ...]
    withheld: int
    recipients: tuple[str, ...]
    entry: LogEntry
    held_back: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"path": str(self.path), "items": list(self.items), "held_back": list(self.held_back),
                "withheld": self.withheld,
                "encrypted": bool(self.recipients), "recipients": list(self.recipients), "log_entry": self.entry.seq}


@dataclass(frozen=True)
class Opened:
    folder: Path
    files: tuple[Path, ...]
    report: BundleReport
    verified: bool


class Refused(VerificationFailed):
    """``open`` refused an invalid bundle; nothing was written. Carries the verification report."""

    def __init__(self, report: BundleReport) -> None:
        super().__init__("bundle.open_refused")
        self.report = report


def seal(
    locker: Locker,
    passphrase: str,
    *,
    items: Sequence[str] = (),
    recipients: Sequence[str] = (),
    output: Path | None = None,
    case: str | None = None,
    with_report: bool = True,
    plain: bool = False,
    name: str | None = None,
    session: BrowserSession | None = None,
    hash_only: Sequence[str] = (),
    progress: Progress | None = None,
) -> Sealed:
    """Write the bundle; once its file is in place, log the seal. A failure leaves neither.

    When the locker has recipients, an unencrypted bundle must be asked for (``plain``): a
    hand-over cannot go out readable by mistake. The bundle carries the report (HTML and PDF,
    in the current language) on exactly the items it holds, with ``name`` as who prepared it;
    the PDF prints while the items are copied. ``progress`` hears of the steps ``report`` and
    ``write`` (bytes of evidence written so far).

    Items in ``hash_only`` (included even when ``items`` does not name them) go in as their
    record and their files' hashes only, never their bytes: for intimate pictures, which the
    recipient can then match by hash (:func:`match`) without anyone being sent them.
    """
    target = locker.case(case)
    held_back = frozenset(locker.item(ref, target.id).label for ref in hash_only)
    chosen = [locker.item(ref, target.id) for ref in items] if items else locker.items(target.id)
    chosen += [i for i in locker.items(target.id) if i.label in held_back and i.label not in {c.label for c in chosen}]
    chosen.sort(key=lambda i: i.number)
    if not chosen:
        raise UserError("bundle.nothing_to_seal")
    if not recipients and not plain and locker.recipients():
        raise UserError("bundle.plain_not_asked")
    recipient_keys = [locker.recipient_key(r) for r in recipients]
    suffix = SEALED_SUFFIX if recipient_keys else PLAIN_SUFFIX
    output = Path(output) if output else Path(_default_name(target.title, suffix))
    if output.suffix.lower() != suffix:
        raise UserError("bundle.wrong_suffix_sealed" if recipient_keys else "bundle.wrong_suffix_plain",
                        path=str(output), suffix=suffix)
    if output.exists():
        raise UserError("bundle.output_exists", path=str(output))
    printing = _Printing(session) if with_report else None
    unfinished: _Unfinished | None = None
    work: Path | None = None
    try:
        signer = locker.case_signer(target.id, passphrase)
        folder = output.parent if str(output.parent) else Path(".")
        remove_stale_partials(folder)
        work = locker.scratch()
        if printing is not None:
            from evidencekit import report  # the report's templates and pictures load only to seal with one

            if progress:
                progress("report", 0, 0)
            printing.print(report.bundle_html(locker, target.id, chosen, work, name=name, held_back=held_back))
        unfinished = _Unfinished(folder, output.name)
        raw = unfinished.file
        size = sum(f.size for item in chosen if item.label not in held_back for f in item.files)
        with naming_full_disk(folder):
            if recipient_keys:
                with envelope.SealWriter(raw, recipient_keys) as writer:
                    written = build.write(locker, target.id, chosen, signer,
                                          _counted(writer, "write", size, progress),  # type: ignore[arg-type]
                                          printing.files if printing else tuple, held_back)
                    writer.sign_and_close(signer, written.container_digest)
            else:
                written = build.write(locker, target.id, chosen, signer, _counted(raw, "write", size, progress),
                                      printing.files if printing else tuple, held_back)
            raw.flush()
            os.fsync(raw.fileno())
            unfinished.name_it(output)
        try:
            entry = locker.record_seal(target.id, signer, written.manifest, chosen, len(recipient_keys))
        except BaseException:
            output.unlink(missing_ok=True)
            raise
    finally:
        if printing is not None:
            printing.stop()
        if unfinished is not None:
            unfinished.discard()
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    withheld = len(locker.items(target.id)) - len(chosen)
    return Sealed(output, tuple(i.label for i in chosen), withheld, tuple(recipients), entry,
                  tuple(sorted(held_back)))


class _Printing:
    """The report's PDF, printed by Chromium in a helper thread.

    The browser starts at once, while the key is unlocked and the report's HTML is assembled;
    it prints while the items are copied. A session given by the caller belongs to the caller's
    thread, so with one the PDF is printed there, as soon as the HTML is ready.
    """

    def __init__(self, session: BrowserSession | None) -> None:
        self._session = session
        self._html: Path | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if session is None:
            self._thread = threading.Thread(target=self._run, name="evidencekit-print", daemon=True)
            self._thread.start()

    def print(self, html: Path) -> None:
        self._html = html
        if self._session is not None:
            print_file(html, html.with_suffix(".pdf"), self._session)
        self._ready.set()

    def _run(self) -> None:
        try:
            with BrowserSession() as own:
                _ = own.browser  # launch now, beside the caller's work
                self._ready.wait()
                if self._html is not None:
                    print_file(self._html, self._html.with_suffix(".pdf"), own)
        except BaseException as exc:  # handed to the sealing thread
            self._error = exc

    def files(self) -> list[Path]:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._html is not None
        return [self._html, self._html.with_suffix(".pdf")]

    def stop(self) -> None:
        """Let the printer go (after a failure too): its browser must not outlive the seal."""
        self._ready.set()
        if self._thread is not None:
            self._thread.join()


class _Unfinished:
    """The bundle's file while it is written: where the file system allows, a file with no name at
    all (``O_TMPFILE``), which vanishes if the seal is killed and gets its name only when it is
    whole; elsewhere (FAT, exFAT, some network file systems) a private ``.NAME.XXXX.partial``,
    locked while written, that the next seal into the folder sweeps."""

    def __init__(self, folder: Path, name: str) -> None:
        self.partial: Path | None = None
        try:
            fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        except (OSError, AttributeError):  # no unnamed files here
            fd, path = tempfile.mkstemp(prefix=f".{name}.", suffix=PARTIAL_SUFFIX, dir=folder)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.partial = Path(path)
        self.file = os.fdopen(fd, "wb")

    def name_it(self, output: Path) -> None:
        """Give the whole file its name; never replaces a file (a bundle sealed meanwhile stays)."""
        try:
            if self.partial is None:
                # linkat(2) following the /proc link to the unnamed file (plain link(2) would not)
                root = os.open("/", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    os.link(f"proc/self/fd/{self.file.fileno()}", output, src_dir_fd=root, follow_symlinks=True)
                finally:
                    os.close(root)
            else:
                os.link(self.partial, output)
        except FileExistsError:
            raise UserError("bundle.output_exists", path=str(output)) from None

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)


def remove_stale_partials(folder: Path) -> None:
    """Remove what killed seals left in ``folder``: partial files no running seal holds locked."""
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(PARTIAL_SUFFIX)
                      and (PLAIN_SUFFIX + "." in p.name or SEALED_SUFFIX + "." in p.name)]
    except OSError:
        return
    for path in candidates:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)
        except OSError:
            pass  # a running seal holds it
        finally:
            os.close(fd)


def is_sealed(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return envelope.is_sealed(f.read(len(envelope.MAGIC)))
    except FileNotFoundError as exc:
        raise UserError("bundle.missing", path=str(path)) from exc
    except IsADirectoryError:
        return False
    except OSError as exc:
        raise UserError("bundle.unreadable", path=str(path), reason=exc.strerror or str(exc)) from exc


def verify(
    path: Path,
    *,
    identity: nacl.signing.SigningKey | None = None,
    header_sources: Sequence[HeaderSource] = (),
    extra_roots: Sequence[x509.Certificate] = (),
    network: str = "mainnet",
    progress: Progress | None = None,
) -> BundleReport:
    """Check a bundle file, or a folder it was unpacked into; damage is a finding, not an error.

    ``progress`` hears of the step ``read`` (bytes of the bundle file read so far)."""
    path = Path(path)
    if path.is_dir():
        contents = check.read_folder(path)
        return _judge(contents, header_sources, extra_roots, network, None).report
    return _read_and_judge(path, None, identity, header_sources, extra_roots, network, progress)


def _judge(contents: check.Contents, header_sources: Sequence[HeaderSource], extra_roots: Sequence[x509.Certificate],
           network: str, sender: Callable[[bytes], bytes | None] | None) -> check.Judged:
    judged = check.judge(contents, header_sources, [*default_roots(), *extra_roots], network)
    if sender is None:
        return judged
    signed_by = sender(contents.container_digest) if contents.container_digest else None
    if signed_by is None:
        first = BundleCheck("envelope", "failed", "bundle.check_envelope_unsigned")
    elif judged.signer is None or signed_by != judged.signer:
        first = BundleCheck("envelope", "failed", "bundle.check_envelope_other_signer",
                            {"fingerprint": keys.fingerprint(signed_by)})
    else:
        first = BundleCheck("envelope", "ok", "bundle.check_envelope_ok")
    return replace(judged, report=replace(judged.report, checks=(first, *judged.report.checks)))


def _read_and_judge(path: Path, unpack_into: Path | None, identity: nacl.signing.SigningKey | None,
                    header_sources: Sequence[HeaderSource], extra_roots: Sequence[x509.Certificate],
                    network: str, progress: Progress | None) -> BundleReport:
    return _read(path, unpack_into, identity, header_sources, extra_roots, network, progress)[1]


def _read(path: Path, unpack_into: Path | None, identity: nacl.signing.SigningKey | None,
          header_sources: Sequence[HeaderSource], extra_roots: Sequence[x509.Certificate],
          network: str, progress: Progress | None = None) -> tuple[check.Contents | None, BundleReport]:
    """What a bundle file holds (None where the envelope failed) and the verdict on it."""
    sealed = is_sealed(path)
    if sealed and identity is None:
        raise UserError("bundle.sealed_needs_key")
    try:
        with open(path, "rb") as opened:
            raw = _counted(opened, "read", os.fstat(opened.fileno()).st_size, progress)
            if not sealed:
                contents = check.read_zip(raw, unpack_into)
                return contents, _judge(contents, header_sources, extra_roots, network, None).report
            with envelope.OpenedStream(raw, identity) as stream:  # type: ignore[arg-type]
                contents = check.read_zip(stream, unpack_into)
                return contents, _judge(contents, header_sources, extra_roots, network, stream.sender).report
    except envelope.Damaged as damage:
        return None, BundleReport(None, None, None, (BundleCheck("envelope", "failed", damage.key, damage.params),))
    except OSError as exc:
        if is_no_room(exc):  # unpacking ran out of room: the caller names where
            raise
        raise UserError("bundle.unreadable", path=str(path), reason=exc.strerror or str(exc)) from exc


def open_bundle(
    path: Path,
    target: Path,
    identity: nacl.signing.SigningKey | None = None,
    *,
    unverified: bool = False,
    header_sources: Sequence[HeaderSource] = (),
    extra_roots: Sequence[x509.Certificate] = (),
    network: str = "mainnet",
    progress: Progress | None = None,
) -> Opened:
    """Verify while unpacking into a hidden folder beside ``target`` (one a killed ``open`` left is
    removed by the next, see ``workdir``); only a bundle that holds
    (valid, or valid with warnings) is moved into place. An invalid one raises :class:`Refused`
    and leaves nothing, unless ``unverified``: then it lands in ``<target>-NOT-VERIFIED`` with a
    ``NOT-VERIFIED.txt`` saying what failed."""
    path, target = Path(path), Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError("bundle.target_not_empty", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    workdir.remove_abandoned(target.parent, OPENING)  # what an open killed outright left
    owned = workdir.Owned.create(target.parent, OPENING)
    staging = owned.path / "bundle"
    try:
        staging.mkdir()
        with naming_full_disk(target.parent):
            result = _read_and_judge(path, staging, identity, header_sources, extra_roots, network, progress)
        holds = result.verdict != "invalid"
        if not holds and not unverified:
            raise Refused(result)
        if not holds:
            target = target.with_name(target.name + "-NOT-VERIFIED")
            if target.exists():
                raise UserError("bundle.target_not_empty", path=str(target))
            lines = [t("bundle.not_verified_note")] + [f"- {c.message()}" for c in result.checks if c.status == "failed"]
            (staging / NOT_VERIFIED).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written = tuple(sorted(p for p in staging.rglob("*") if p.is_file()))
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    finally:
        owned.remove()
    return Opened(target, tuple(target / p.relative_to(staging) for p in written), result, holds)


MATCH_THRESHOLD = match_files.PDQ_THRESHOLD  # PDQ bits of 256 that may differ for a perceptual match


@dataclass(frozen=True)
class Matched:
    """Whether a held file is an item of a bundle, and the verdict on the bundle it was read from."""

    file: Path
    sha256: str
    pdq: str | None
    found: tuple[match_files.Found, ...]
    report: BundleReport

    def to_json(self) -> dict[str, object]:
        return {"file": str(self.file), "sha256": self.sha256, "pdq": self.pdq, "verdict": self.report.verdict,
                "matches": [f.to_json() for f in self.found], "pdq_threshold": MATCH_THRESHOLD}


def match(file: Path, bundle_path: Path, *, identity: nacl.signing.SigningKey | None = None) -> Matched:
    """Is ``file`` one of the bundle's items: the same bytes, or (for a picture) the same picture
    by PDQ? The bundle (a file, sealed or plain, or an unpacked folder) is verified as ``verify``
    does; only a bundle that holds is matched against, since an invalid one's hashes prove nothing."""
    file, bundle_path = Path(file), Path(bundle_path)
    try:
        with open(file, "rb") as f:
            sha256 = hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise UserError("bundle.match_file_unreadable", path=str(file), reason=exc.strerror or str(exc)) from exc
    pdq = media.describe(file, file.name).pdq
    if bundle_path.is_dir():
        contents: check.Contents | None = check.read_folder(bundle_path)
        report = _judge(contents, (), (), "mainnet", None).report  # type: ignore[arg-type]
    else:
        contents, report = _read(bundle_path, None, identity, (), (), "mainnet")
    if report.verdict == "invalid" or contents is None:
        raise NotMatched(report)
    manifest = layout.Manifest.from_bytes(contents.kept[layout.MANIFEST])
    return Matched(file, sha256, pdq, tuple(match_files.find(manifest, contents.kept, sha256, pdq)), report)


class NotMatched(VerificationFailed):
    """The bundle did not verify, so nothing is matched against it. Carries the verification report."""

    def __init__(self, report: BundleReport) -> None:
        super().__init__("bundle.match_invalid")
        self.report = report


def _counted(file: BinaryIO, step: str, total: int, progress: Progress | None) -> BinaryIO:
    return Counting(file, step, total, progress) if progress else file  # type: ignore[return-value]


def _default_name(title: str, suffix: str) -> str:
    slug = re.sub(r"[^\w-]+", "-", title, flags=re.UNICODE).strip("-").lower()[:40] or "case"
    return f"{slug}-{date.today().isoformat()}{suffix}"
