"""The evidence locker: cases, items and their custody log, in one folder, encrypted at rest.

The passphrase opens the locker key (``locker.key``), which opens everything else: the database
and every blob. Every change is made the same way: evidence bytes go into the content-addressed blob store first,
then one SQLite transaction adds the item records together with their signed custody-log entries.
A crash before the commit leaves at most an orphan blob; after it, everything is there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import nacl.signing
import platformdirs

from evidencekit import __version__
from evidencekit._internal import (
    blobstore,
    canonical,
    custody_log,
    database,
    dates,
    keys,
    layout,
    locker_key,
    safe_zip,
    settings,
    stamp_queue,
    upgrade,
)
from evidencekit.errors import Locked, LockerError, NotFound, UserError, naming_full_disk
from evidencekit.models import (
    DIARY_FILE,
    WHO,
    Case,
    CaseDescription,
    CheckReport,
    IncidentFacts,
    Item,
    ItemFile,
    KeyInfo,
    LogEntry,
    Problem,
    item_label,
)

if TYPE_CHECKING:  # timestamp proofs and media load big libraries: only the commands that use them pay
    from cryptography import x509

    from evidencekit._internal.timestamps.bitcoin_headers import HeaderSource
    from evidencekit._internal.timestamps.model import ProofResult

ITEM_TYPE = "evidencekit.item"
_KDF_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidencekit-kdf")
CASE_TYPE = "evidencekit.case"
DESCRIPTION_TYPE = "evidencekit.description"
_SHA256_HEX = re.compile(rb"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def default_home() -> Path:
    """``EVIDENCEKIT_HOME`` if set, else the platform's per-user data folder."""
    override = os.environ.get("EVIDENCEKIT_HOME")
    return Path(override) if override else Path(platformdirs.user_data_dir("evidencekit", appauthor=False))


@dataclass(frozen=True)
class Source:
    """One file about to become part of an item: bytes from a path or from memory."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    modified: str | None = None
    media_type: str | None = None  # when the producer knows better than a guess from name and bytes


@dataclass(frozen=True)
class _Draft:
    kind: str
    files: tuple[ItemFile, ...]
    acquired: dict[str, Any]
    facts: IncidentFacts


class Locker:
    """One installation's evidence store; open it with :meth:`Locker.open`, make one with :meth:`Locker.create`."""

    def __init__(self, home: Path, keys_: locker_key.LockerKeys, passphrase: str) -> None:
        self.home = home
        self._keys = keys_
        self._pepper = secrets.token_bytes(16)
        self._opened_with = self._tag(passphrase)
        self._unsealed: dict[int, tuple[bytes, nacl.signing.SigningKey]] = {}
        self.db = database.connect(home / layout.DATABASE, keys_.database)
        self.blobs = blobstore.BlobStore(home / layout.BLOBS, keys_.blob_content, keys_.blob_name)

    @staticmethod
    def state(home: Path | str | None = None) -> str:
        """``"encrypted"`` (a locker of this version), ``"plain"`` (one to ``upgrade``) or ``"none"``."""
        home = Path(home) if home else default_home()
        if locker_key.exists(home):
            return "encrypted"
        return "plain" if (home / layout.PLAIN_DATABASE).exists() else "none"

    @classmethod
    def open(cls, home: Path | str | None = None, passphrase: str | None = None) -> Locker:
        """Open the locker with its passphrase, private to its owner, and clear what killed commands left.

        Without a passphrase an existing locker raises :class:`Locked`; a folder without a locker
        says to run ``init`` first, and one from before encryption at rest says to ``upgrade``."""
        home = _folder(home)
        state = cls.state(home)
        if state == "none":
            raise LockerError("keys.no_identity")
        if state == "plain":
            raise LockerError("locker.needs_upgrade")
        if passphrase is None:
            raise Locked("locker.locked")
        upgrade.remove_leftovers(home)  # what an upgrade that switched over left of the plain locker
        return cls._opened(home, locker_key.open_keys(home, passphrase), passphrase)

    @classmethod
    def create(cls, home: Path | str | None, passphrase: str, strength: str = "moderate") -> Locker:
        """A new locker with a new identity key, both opened by ``passphrase`` from now on."""
        home = _folder(home)
        if cls.state(home) != "none":
            raise UserError("keys.identity_exists")
        if not passphrase:
            raise UserError("keys.empty_passphrase")
        with naming_full_disk(home.parent if not home.exists() else home):
            blobstore.private_folder(home)
            for leftover in (home / layout.DATABASE, home / f"{layout.DATABASE}-wal", home / f"{layout.DATABASE}-shm"):
                leftover.unlink(missing_ok=True)  # of a create killed before its key was written
            master = secrets.token_bytes(32)
            keys_ = locker_key.LockerKeys.derive(master)
            locker = cls._opened(home, keys_, passphrase)
            try:
                with database.transaction(locker.db):
                    locker._store_key("identity", keys.generate(keys_.seeds))
                locker_key.write(home / layout.KEY, master, passphrase, strength)  # the locker exists now
            except BaseException:
                locker.close()
                raise
        return locker

    @classmethod
    def _opened(cls, home: Path, keys_: locker_key.LockerKeys, passphrase: str) -> Locker:
        with naming_full_disk(home):
            loose = home.stat().st_mode & 0o077
            blobstore.private_folder(home)
        locker = cls(home, keys_, passphrase)
        if loose:  # made or loosened by someone else: tighten all of it
            locker._make_private()
        locker.blobs.clean_up(locker._referenced)
        return locker

    def _tag(self, passphrase: str) -> bytes:
        return hashlib.blake2b(passphrase.encode("utf-8"), key=self._pepper).digest()

    def _make_private(self) -> None:
        """Only what the locker owns: the home may be a folder that holds other things too."""
        self.blobs.make_private()
        blobstore.private_tree(self.home / layout.PROFILES)
        blobstore.private_file(self.home / layout.KEY)  # sealed, but a copy invites guessing offline

    def close(self) -> None:
        """Remove this command's work folder (sweeping blobs of a failed add), then close."""
        try:
            self.blobs.close(self._referenced)
        finally:
            self.db.close()

    def __enter__(self) -> Locker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # identity -----------------------------------------------------------------------------

    def identity(self) -> KeyInfo:
        row = self._identity_row()
        if row is None:
            raise LockerError("keys.no_identity")
        return _key_info(bytes(row[1]), "identity")

    def _identity_row(self) -> tuple[int, bytes] | None:
        return self.db.execute("SELECT id, public_key FROM keys WHERE role = 'identity'").fetchone()

    def _store_key(self, role: str, sealed: keys.SealedKey) -> int:
        cursor = self.db.execute(
            "INSERT INTO keys (role, public_key, sealed_seed, kdf, created) VALUES (?, ?, ?, ?, ?)",
            (role, sealed.public_key, sealed.sealed_seed, sealed.kdf, canonical.utc_now()),
        )
        return int(cursor.lastrowid or 0)

    def _unseal(self, key_id: int, passphrase: str) -> nacl.signing.SigningKey:
        return self._opening(key_id, passphrase).result()

    def _opening(self, key_id: int, passphrase: str) -> Future[nacl.signing.SigningKey]:
        """Open a signing key, sealed under the locker key, for ``passphrase``.

        The passphrase that opened the locker opens its keys at once; another one is checked
        against ``locker.key`` by the slow KDF (in the background: a capture may load meanwhile).
        The database is read here, in the caller's thread.
        """
        tag = self._tag(passphrase)
        cached = self._unsealed.get(key_id)
        done: Future[nacl.signing.SigningKey] = Future()
        if cached and hmac.compare_digest(cached[0], tag):
            done.set_result(cached[1])
            return done
        public_key, sealed_seed, kdf = self.db.execute(
            "SELECT public_key, sealed_seed, kdf FROM keys WHERE id = ?", (key_id,)
        ).fetchone()
        sealed = keys.SealedKey(bytes(public_key), bytes(sealed_seed), kdf)

        def open_and_remember() -> nacl.signing.SigningKey:
            if not hmac.compare_digest(tag, self._opened_with):
                locker_key.read_master(self.home / layout.KEY, passphrase)  # WrongPassphrase unless hers
            signer = keys.unseal(sealed, self._keys.seeds)
            self._unsealed[key_id] = (tag, signer)
            return signer

        if hmac.compare_digest(tag, self._opened_with):
            try:
                done.set_result(open_and_remember())
            except BaseException as exc:
                done.set_exception(exc)
            return done
        return _KDF_POOL.submit(open_and_remember)

    def start_unlocking(self, case_id: str, passphrase: str) -> Future[nacl.signing.SigningKey]:
        """Begin opening a case's key in the background, e.g. while a browser loads a page."""
        return self._opening(self._case_key_id(case_id), passphrase)

    # cases --------------------------------------------------------------------------------

    def create_case(self, title: str, passphrase: str, anonymous: bool = False) -> Case:
        """A new case, signed by the identity or, when anonymous, by a fresh unlinked key."""
        title = title.strip()
        if not title:
            raise UserError("cases.empty_title")
        identity = self._identity_row()
        if identity is None:
            raise LockerError("keys.no_identity")
        identity_key = self._unseal(identity[0], passphrase)  # proves the passphrase either way
        case_id = _new_case_id()
        if anonymous:
            sealed = keys.generate(self._keys.seeds)
            signer = keys.unseal(sealed, self._keys.seeds)
        else:
            sealed, signer = None, identity_key
        created = canonical.utc_now()
        record = canonical.dumps(
            {
                "type": CASE_TYPE,
                "v": 1,
                "salt": _salt(),
                "id": case_id,
                "title": title,
                "anonymous": anonymous,
                "created": created,
                "public_key": keys.public_key_string(bytes(signer.verify_key)),
            }
        )
        with database.transaction(self.db):
            key_id = self._store_key("case", sealed) if sealed else identity[0]
            self.db.execute(
                "INSERT INTO cases (id, title, anonymous, key_id, created, record) VALUES (?, ?, ?, ?, ?, ?)",
                (case_id, title, int(anonymous), key_id, created, record),
            )
            custody_log.append(self.db, case_id, signer, "case.create", canonical.sha256_hex(record))
            self._set("current_case", case_id)
        return self.case(case_id)

    def cases(self) -> list[Case]:
        current = self._get("current_case")
        rows = self.db.execute(
            "SELECT c.id, c.title, c.anonymous, c.created, k.public_key, k.role,"
            " (SELECT COUNT(*) FROM items i WHERE i.case_id = c.id)"
            " FROM cases c JOIN keys k ON k.id = c.key_id ORDER BY c.created"
        ).fetchall()
        return [
            Case(cid, title, bool(anon), created, _key_info(bytes(pk), role), count, cid == current)
            for cid, title, anon, created, pk, role, count in rows
        ]

    def case(self, ref: str | None = None) -> Case:
        """The case named by id, id prefix or title; with no name, the current one."""
        cases = self.cases()
        if ref is None:
            chosen = [c for c in cases if c.current] or (cases if len(cases) == 1 else [])
            if not cases:
                if self._identity_row() is None:
                    raise LockerError("keys.no_identity")  # init comes before the first case
                raise NotFound("cases.none_yet")
            if not chosen:
                raise UserError("cases.none_chosen")
            return chosen[0]
        wanted = ref.strip()
        for match in (
            [c for c in cases if c.id == wanted],
            [c for c in cases if c.id.startswith(wanted.lower())],
            [c for c in cases if c.title.casefold() == wanted.casefold()],
        ):
            if len(match) == 1:
                return match[0]
            if len(match) > 1:
                raise UserError("cases.ambiguous", ref=wanted)
        raise NotFound("cases.unknown", ref=wanted)

    def use_case(self, ref: str) -> Case:
        chosen = self.case(ref)
        with database.transaction(self.db):
            self._set("current_case", chosen.id)
        return self.case(chosen.id)

    def _set(self, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))

    def _get(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    # items --------------------------------------------------------------------------------

    def add_files(
        self,
        paths: Sequence[Path | str],
        passphrase: str,
        facts: IncidentFacts = IncidentFacts(),
        case: str | None = None,
        together: bool = False,
        progress: Callable[[int], None] | None = None,
        again: bool = False,
    ) -> list[Item]:
        """Each file becomes an item (or all one item with ``together``); all or nothing.

        A file whose bytes are already in the case is refused unless ``again``: the same
        screenshot added twice would look like two incidents."""
        if not paths:
            raise UserError("items.no_files")
        sources = [file_source(Path(p)) for p in paths]
        acquired = {"method": "file", "tool": f"evidencekit {__version__}"}
        groups = [sources] if together else [[s] for s in sources]
        return self.add_items([("file", group, acquired, facts) for group in groups], passphrase, case, progress,
                              again=again)

    def add_note(self, text: str, passphrase: str, facts: IncidentFacts = IncidentFacts(),
                 case: str | None = None) -> Item:
        """A diary entry: the text is the item's file, the facts (date, where, who …) its record."""
        if not text.strip():
            raise UserError("items.empty_note")
        source = Source(DIARY_FILE, data=text.encode("utf-8"), modified=canonical.utc_now())
        acquired = {"method": "diary", "tool": f"evidencekit {__version__}"}
        return self.add_items([("diary", [source], acquired, facts)], passphrase, case)[0]

    def note_text(self, item: Item) -> str:
        """A diary entry's own words, as stored (empty for any other kind of item)."""
        stored = next((f for f in item.files if item.kind == "diary" and f.name == DIARY_FILE), None)
        if stored is None:
            return ""
        with self.blobs.open(stored.sha256) as handle:
            return handle.read().decode("utf-8", "replace")

    def add_items(
        self,
        drafts: Sequence[tuple[str, Sequence[Source], dict[str, Any], IncidentFacts]],
        passphrase: str,
        case: str | None = None,
        progress: Callable[[int], None] | None = None,
        again: bool = True,
    ) -> list[Item]:
        """The one way evidence enters a case: (kind, sources, how acquired, incident facts) each.

        With ``again`` false, bytes already in the case are refused and nothing is added."""
        target = self.case(case)
        signer = self.case_signer(target.id, passphrase)
        anonymous = target.anonymous  # what a record holds travels in every bundle: her disk's times never go in
        drafts = [(kind, [replace(source, modified=None) for source in sources] if anonymous else sources, acquired,
                   _checked_facts(facts)) for kind, sources, acquired, facts in drafts]
        with self.blobs.storing():
            stored = [
                _Draft(kind, tuple(self._store(source, progress) for source in sources), acquired, facts)
                for kind, sources, acquired, facts in drafts
            ]
            if not again:
                self._refuse_known(target.id, stored)
            numbers = self._record(target.id, signer, stored)
        self.blobs.recorded(f.sha256 for draft in stored for f in draft.files)
        return [self.item(str(n), target.id) for n in numbers]

    def _refuse_known(self, case_id: str, stored: Sequence[_Draft]) -> None:
        """One clear error if a file's bytes are in the case already (or twice in this one call)."""
        known = {f.sha256: item.label for item in self.items(case_id) for f in item.files}
        for draft in stored:
            for file in draft.files:
                if file.sha256 in known:
                    raise UserError("items.already_in_case", name=file.name, item=known[file.sha256])
                known[file.sha256] = file.name

    def _record(self, case_id: str, signer: nacl.signing.SigningKey, stored: Sequence[_Draft]) -> list[int]:
        """One transaction: the items' records, their signed log entries, the stamping request."""
        numbers: list[int] = []
        with database.transaction(self.db):
            next_number = self.db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM items WHERE case_id = ?", (case_id,)
            ).fetchone()[0]
            for offset, draft in enumerate(stored):
                number = next_number + offset
                record = _item_record(case_id, number, draft)
                self.db.execute(
                    "INSERT INTO items (case_id, number, kind, record) VALUES (?, ?, ?, ?)",
                    (case_id, number, draft.kind, record),
                )
                entry = custody_log.append(
                    self.db, case_id, signer, "item.add", canonical.sha256_hex(record), item_label(number)
                )
                numbers.append(number)
            stamp_queue.request(self.db, case_id, entry.seq, entry.digest)
        return numbers

    def _referenced(self) -> set[str]:
        """Every blob an item record names, in any case: what the orphan sweep must keep.

        Any 64-hex-digit run in a record counts, so a record too damaged to parse still keeps
        its blobs (``check`` reports it; the sweep must not make it worse).
        """
        return {name.decode("ascii") for (record,) in self.db.execute("SELECT record FROM items")
                for name in _SHA256_HEX.findall(canonical.as_bytes(record))}

    def _store(self, source: Source, progress: Callable[[int], None] | None) -> ItemFile:
        with ExitStack() as stack:
            stream: BinaryIO
            if source.path is not None:
                stream = stack.enter_context(_open_evidence(source.path))
            else:
                stream = io.BytesIO(source.data or b"")
            blob = self.blobs.put_stream(stream, progress)
        from evidencekit._internal import media

        with self.blobs.open(blob.sha256) as stored:
            looks = media.describe(stored, source.name)
        return ItemFile(source.name, source.media_type or looks.media_type, blob.size, blob.sha256, source.modified,
                        looks.phash, looks.pdq)

    def items(self, case: str | None = None) -> list[Item]:
        target = self.case(case)
        rows = self.db.execute(
            "SELECT i.record, COALESCE(m.sensitive, 0) FROM items i LEFT JOIN item_marks m"
            " ON m.case_id = i.case_id AND m.number = i.number WHERE i.case_id = ? ORDER BY i.number", (target.id,)
        ).fetchall()
        return [_item_from_record(bytes(r[0]), bool(r[1])) for r in rows]

    def item(self, ref: str, case: str | None = None) -> Item:
        target = self.case(case)
        number = parse_item_ref(ref)
        row = self.db.execute(
            "SELECT i.record, COALESCE(m.sensitive, 0) FROM items i LEFT JOIN item_marks m"
            " ON m.case_id = i.case_id AND m.number = i.number WHERE i.case_id = ? AND i.number = ?",
            (target.id, number),
        ).fetchone()
        if row is None:
            raise NotFound("items.unknown", ref=ref, case=target.title)
        return _item_from_record(bytes(row[0]), bool(row[1]))

    def export_item(self, ref: str, target_dir: Path | str, case: str | None = None) -> list[Path]:
        """Write the item's original bytes into ``target_dir``; never overwrites a file."""
        chosen = self.item(ref, case)
        target_dir = Path(target_dir)
        if target_dir.exists() and not target_dir.is_dir():
            raise UserError("items.export_not_a_folder", path=str(target_dir))
        target_dir.mkdir(parents=True, exist_ok=True)
        destinations = [target_dir / f.name for f in chosen.files]
        for file, destination in zip(chosen.files, destinations):
            if not safe_zip.safe_name(file.name):  # folder imports keep relative names; nothing may climb out
                raise UserError("items.export_unsafe_name", name=file.name)
            if destination.exists():
                raise UserError("items.export_exists", path=str(destination))
        written = []
        for file, destination in zip(chosen.files, destinations):
            self.export_file(chosen, file, destination)
            written.append(destination)
        return written

    def export_file(self, item: Item, file: ItemFile, destination: Path) -> None:
        """Write one file of ``item`` to ``destination``, whole or not at all (the caller checks it is free)."""
        if self.blobs.state(file.sha256) != "ok":
            raise UserError("items.blob_damaged", item=item.label, name=file.name)
        partial = destination.with_name(f".{destination.name}.partial")
        try:
            with naming_full_disk(destination.parent):
                destination.parent.mkdir(parents=True, exist_ok=True)
                with self.blobs.open(file.sha256) as blob, open(partial, "wb") as out:
                    shutil.copyfileobj(blob, out, blobstore.CHUNK)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if file.modified:
            stamp = canonical.parse_time(file.modified).timestamp()
            os.utime(partial, (stamp, stamp))
        os.replace(partial, destination)

    # hand-over: recipients and sealing ------------------------------------------------------

    def add_recipient(self, name: str, public_key: str) -> KeyInfo:
        name = name.strip()
        if not name:
            raise UserError("bundle.recipient_empty_name")
        key = keys.parse_public_key(public_key)
        with database.transaction(self.db):
            if self.db.execute("SELECT 1 FROM recipients WHERE name = ?", (name,)).fetchone():
                raise UserError("bundle.recipient_exists", name=name)
            self.db.execute("INSERT INTO recipients (name, public_key, added) VALUES (?, ?, ?)",
                            (name, keys.public_key_string(key), canonical.utc_now()))
        return _key_info(key, "recipient")

    def recipients(self) -> list[tuple[str, KeyInfo]]:
        rows = self.db.execute("SELECT name, public_key FROM recipients ORDER BY name").fetchall()
        return [(name, _key_info(keys.parse_public_key(pk), "recipient")) for name, pk in rows]

    def remove_recipient(self, name: str) -> None:
        with database.transaction(self.db):
            if not self.db.execute("DELETE FROM recipients WHERE name = ?", (name,)).rowcount:
                raise NotFound("bundle.recipient_unknown", name=name)

    def recipient_key(self, ref: str) -> bytes:
        """A name from the address book, or a public key given as it is."""
        row = self.db.execute("SELECT public_key FROM recipients WHERE name = ?", (ref.strip(),)).fetchone()
        if row:
            return keys.parse_public_key(row[0])
        try:
            return keys.parse_public_key(ref)
        except UserError:
            raise NotFound("bundle.recipient_unknown", name=ref) from None

    def identity_signer(self, passphrase: str) -> nacl.signing.SigningKey:
        """The identity key itself, to open bundles sealed to it."""
        row = self._identity_row()
        if row is None:
            raise LockerError("keys.no_identity")
        return self._unseal(row[0], passphrase)

    def case_signer(self, case_id: str, passphrase: str) -> nacl.signing.SigningKey:
        return self._unseal(self._case_key_id(case_id), passphrase)

    def _case_key_id(self, case_id: str) -> int:
        return int(self.db.execute("SELECT key_id FROM cases WHERE id = ?", (case_id,)).fetchone()[0])

    def record_seal(self, case_id: str, signer: nacl.signing.SigningKey, manifest: bytes,
                    items: Sequence[Item], recipients: int) -> LogEntry:
        """Log (and queue for stamping) a bundle handed over, by the digest of its signed manifest."""
        record = {"manifest_sha256": canonical.sha256_hex(manifest), "items": [i.label for i in items],
                  "recipients": recipients}
        with database.transaction(self.db):
            entry = self.log_record(case_id, signer, "bundle.seal", "evidencekit.seal", record)
            stamp_queue.request(self.db, case_id, entry.seq, entry.digest)
        return entry

    def mark_sensitive(self, ref: str, passphrase: str, sensitive: bool = True, case: str | None = None) -> Item:
        """Mark an item (not) sensitive, so reports blur it unless asked not to; logged like any change."""
        target = self.case(case)
        item = self.item(ref, target.id)
        signer = self.case_signer(target.id, passphrase)
        with database.transaction(self.db):
            entry = self.log_record(target.id, signer, "item.mark", "evidencekit.mark",
                                     {"item": item.label, "sensitive": sensitive}, subject=item.label)
            self.db.execute("INSERT OR REPLACE INTO item_marks (case_id, number, sensitive, seq) VALUES (?, ?, ?, ?)",
                            (target.id, item.number, int(sensitive), entry.seq))
        return self.item(item.label, target.id)

    def log_record(self, case_id: str, signer: nacl.signing.SigningKey, action: str, record_type: str,
                    fields: dict[str, Any], subject: str | None = None) -> LogEntry:
        """Append an entry committing to a salted record of its own; inside the caller's transaction
        (``upgrade`` records itself this way too)."""
        record = canonical.dumps({"type": record_type, "v": 1, "salt": _salt(), "case": case_id,
                                  "created": canonical.utc_now(), **fields})
        entry = custody_log.append(self.db, case_id, signer, action, canonical.sha256_hex(record), subject)
        self.db.execute("INSERT INTO log_records (case_id, seq, record) VALUES (?, ?, ?)", (case_id, entry.seq, record))
        return entry

    # timestamps and settings -----------------------------------------------------------------

    def stamp(self, progress: stamp_queue.Progress | None = None) -> stamp_queue.Summary:
        """Send every queued timestamp request now; servers that fail keep theirs queued."""
        return stamp_queue.send(self.db, float(settings.value(self.db, "stamp_timeout")), progress)

    def upgrade_stamps(self, progress: stamp_queue.Progress | None = None) -> stamp_queue.Summary:
        return stamp_queue.upgrade(self.db, float(settings.value(self.db, "stamp_timeout")), progress)

    def verify_stamps(
        self,
        case: str | None = None,
        header_sources: Sequence[HeaderSource] = (),
        extra_roots: Sequence[x509.Certificate] = (),
    ) -> list[tuple[stamp_queue.Stamp, ProofResult]]:
        from evidencekit._internal.timestamps.rfc3161 import default_roots

        return stamp_queue.verify(self.db, self.case(case).id, header_sources, [*default_roots(), *extra_roots])

    def stamps(self, case: str | None = None) -> list[stamp_queue.Stamp]:
        """The proofs of a case and, with status ``queued``, the stamps still owed."""
        target = self.case(case).id
        return stamp_queue.proofs(self.db, target) + stamp_queue.queued(self.db, target)

    def scratch(self) -> Path:
        """A private empty folder inside the locker for work in progress (same file system).

        The caller removes it; if the command is killed first, the next command does.
        """
        with naming_full_disk(self.home):
            return self.blobs.scratch()

    def profile_dir(self, name: str) -> Path:
        """A persistent browser profile kept in the locker, for logged-in captures."""
        if not re.fullmatch(r"[\w.-]{1,64}", name) or name.startswith("."):
            raise UserError("cases.bad_profile", name=name)
        folder = self.home / layout.PROFILES / name
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def export_proofs(self, target_dir: Path | str, case: str | None = None) -> list[Path]:
        """Write the case's ``.ots`` and ``.tsr`` files and the block headers that checked them."""
        target_dir = Path(target_dir)
        target_dir.mkdir(parents=True, exist_ok=True)
        written = []
        proofs = stamp_queue.proof_files(self.db, self.case(case).id)
        files = {p.name: p.data for p in proofs}
        for name, data in {**files, **stamp_queue.header_files(self.db, proofs)}.items():
            (target_dir / name).write_bytes(data)
            written.append(target_dir / name)
        return written

    def setting(self, name: str) -> tuple[str, str]:
        return settings.get(self.db, name)

    def setting_value(self, name: str) -> list[str] | float | int | str:
        """A setting parsed into its kind (seconds as a number, URLs as a list)."""
        return settings.value(self.db, name)

    def set_setting(self, name: str, value: str | None) -> None:
        with database.transaction(self.db):
            settings.set_value(self.db, name, value)

    # custody log and checking ---------------------------------------------------------------

    def log(self, case: str | None = None) -> list[LogEntry]:
        return custody_log.entries(self.db, self.case(case).id)

    def log_head(self, case: str | None = None) -> str | None:
        return custody_log.head(self.db, self.case(case).id)

    def check(self, case: str | None = None) -> CheckReport:
        """Re-hash every blob and re-verify records, chain and signatures of one case, after every
        page of the database is checked (a damaged one raises :class:`LockerError`).

        Also clears what killed commands left (work folders, orphan blobs) and tightens the
        locker's permissions.
        """
        database.check_pages(self.db)
        target = self.case(case)
        self.blobs.clean_up(self._referenced, sweep=True)
        self._make_private()
        case_key = keys.parse_public_key(target.key.public_key)
        stored = custody_log.read(self.db, target.id)
        entries, problems = custody_log.verify(stored, case_key)
        logged = {e.subject: e.record_sha256 for e in entries if e.action == "item.add"}
        created = [e for e in entries if e.action == "case.create"]
        record = self.db.execute("SELECT record FROM cases WHERE id = ?", (target.id,)).fetchone()[0]
        if created and created[0].record_sha256 != canonical.sha256_hex(canonical.as_bytes(record)):
            problems.append(Problem("case_record_changed", target.id))
        rows = self.db.execute(
            "SELECT number, record FROM items WHERE case_id = ? ORDER BY number", (target.id,)
        ).fetchall()
        files = 0
        for number, raw in rows:
            label, raw = item_label(number), canonical.as_bytes(raw)
            if label not in logged:
                problems.append(Problem("item_unlogged", label))
            elif logged.pop(label) != canonical.sha256_hex(raw):
                problems.append(Problem("record_changed", label))
            try:
                item = _item_from_record(raw)
            except (ValueError, KeyError, TypeError):
                problems.append(Problem("record_unreadable", label))
                continue
            for file in item.files:
                files += 1
                state = self.blobs.state(file.sha256)
                if state != "ok":
                    problems.append(Problem(f"blob_{state}", f"{label} {file.name}", {"sha256": file.sha256}))
        problems += [Problem("item_missing", label) for label in logged]
        records = dict(self.db.execute("SELECT seq, record FROM log_records WHERE case_id = ?", (target.id,)).fetchall())
        for entry in (e for e in entries if e.action not in ("case.create", "item.add")):
            record = records.get(entry.seq)
            if record is None or canonical.sha256_hex(canonical.as_bytes(record)) != entry.record_sha256:
                problems.append(Problem("record_changed", f"#{entry.seq}"))
        return CheckReport(target.id, len(rows), files, len(stored), tuple(problems))

    # the worker's own account of the case ------------------------------------------------------

    def describe_case(self, text: str, passphrase: str, case: str | None = None) -> CaseDescription:
        """Store the worker's own words on what happened and why it is harassment; the latest wins.

        A salted record, signed and logged like any change, so a bundle that leaves it out
        reveals nothing of it and one that carries it shows it was not changed since.
        """
        text = text.strip()
        if not text:
            raise UserError("cases.empty_description")
        target = self.case(case)
        signer = self.case_signer(target.id, passphrase)
        with database.transaction(self.db):
            entry = self.log_record(target.id, signer, "case.describe", DESCRIPTION_TYPE, {"text": text})
            stamp_queue.request(self.db, target.id, entry.seq, entry.digest)
        description = self.case_description(target.id)
        assert description is not None
        return description

    def case_description(self, case: str | None = None) -> CaseDescription | None:
        """The latest ``case describe`` text of a case, or None if she has not written one."""
        target = self.case(case)
        for seq, raw in self.db.execute(
            "SELECT seq, record FROM log_records WHERE case_id = ? ORDER BY seq DESC", (target.id,)
        ):
            data = canonical.loads(canonical.as_bytes(raw))
            if data.get("type") == DESCRIPTION_TYPE:
                return CaseDescription(target.id, str(data["text"]), str(data["created"]), int(seq))
        return None


# helpers --------------------------------------------------------------------------------------


def _folder(home: Path | str | None) -> Path:
    """The locker's folder (the default one when not named), refused when it is a file."""
    home = Path(home) if home else default_home()
    if home.exists() and not home.is_dir():
        raise LockerError("locker.home_not_a_folder", path=str(home))
    return home


def parse_item_ref(ref: str) -> int:
    """``E-001``, ``e1``, ``1`` all name item number 1."""
    text = ref.strip().upper().removeprefix("E").removeprefix("-")
    if not text.isdigit() or int(text) < 1:
        raise UserError("items.bad_ref", ref=ref)
    return int(text)


def normalise_date(text: str) -> str:
    """A date, time or period ``FROM..TO`` as the worker writes it (``03.03.2024``, ``i går 22:10``),
    checked and kept in one form: a date as ISO, a time in UTC. See ``_internal/dates.py``."""
    return dates.read(text).value


def _checked_facts(facts: IncidentFacts) -> IncidentFacts:
    """The facts as they will be recorded: a known role, a date in its one written form."""
    if facts.who is not None and facts.who not in WHO:
        raise UserError("items.bad_who", value=facts.who, allowed=", ".join(WHO))
    return replace(facts, date=normalise_date(facts.date)) if facts.date is not None else facts


def file_source(path: Path) -> Source:
    """Check a path the worker named before anything is stored, so a bad one changes nothing."""
    shown = str(path)
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise NotFound("items.path_missing", path=shown) from exc
    except OSError as exc:
        raise UserError("items.path_unreadable", path=shown, reason=exc.strerror or str(exc)) from exc
    if stat.S_ISDIR(info.st_mode):
        raise UserError("items.path_is_folder", path=shown)
    if not stat.S_ISREG(info.st_mode):
        raise UserError("items.path_not_regular", path=shown)
    if not os.access(path, os.R_OK):
        raise UserError("items.path_unreadable", path=shown, reason="permission denied")
    modified = canonical.format_time(datetime.fromtimestamp(info.st_mtime, timezone.utc))
    return Source(_printable_name(path.name), path=path, modified=modified)


def _open_evidence(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UserError("items.path_unreadable", path=str(path), reason=exc.strerror or str(exc)) from exc


def _printable_name(name: str) -> str:
    """File names that are not valid UTF-8 keep their bytes visible as escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _salt() -> str:
    return base64.b64encode(secrets.token_bytes(16)).decode("ascii")


def _new_case_id() -> str:
    return base64.b32encode(secrets.token_bytes(5)).decode("ascii").lower()


def _key_info(public_key: bytes, role: str) -> KeyInfo:
    return KeyInfo(keys.public_key_string(public_key), keys.fingerprint(public_key), role)


def _item_record(case_id: str, number: int, draft: _Draft) -> bytes:
    return canonical.dumps(
        {
            "type": ITEM_TYPE,
            "v": 1,
            "salt": _salt(),
            "case": case_id,
            "item": item_label(number),
            "kind": draft.kind,
            "created": canonical.utc_now(),
            "acquired": draft.acquired,
            "incident": draft.facts.given(),
            "files": [{k: v for k, v in f.to_json().items() if v is not None} for f in draft.files],
        }
    )


def _item_from_record(record: bytes, sensitive: bool = False) -> Item:
    data = canonical.loads(record)
    return Item(
        case_id=data["case"],
        number=parse_item_ref(data["item"]),
        kind=data["kind"],
        created=data["created"],
        acquired=data["acquired"],
        incident=IncidentFacts.from_json(data["incident"]),
        files=tuple(ItemFile(**f) for f in data["files"]),
        record_sha256=canonical.sha256_hex(record),
        sensitive=sensitive,
    )

