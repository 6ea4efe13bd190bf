"""The locker's SQLite database, encrypted by SQLCipher: connection settings, schema and migrations.

Every page of the file and of its write-ahead log is encrypted and authenticated (AES-256 and
HMAC-SHA512 per page) under the locker key's database key, so nothing of it, indexes and freed
pages included, is readable without the passphrase.

WAL with ``synchronous=FULL`` makes every committed transaction durable and every interrupted
one vanish whole; that is what lets an item and its custody-log entry appear together or not at
all. The schema version is SQLite's ``user_version``; a locker written by a newer evidencekit is
refused rather than half-understood.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlite3

from evidencekit.errors import DiskFull, LockerError, is_no_room

Connection = sqlite3.Connection
Error = sqlite3.Error

# Each entry upgrades the schema by one version; never edit one that has shipped, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE keys (
        id INTEGER PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('identity', 'case')),
        public_key BLOB NOT NULL UNIQUE,
        sealed_seed BLOB NOT NULL,
        kdf TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE UNIQUE INDEX one_identity ON keys (role) WHERE role = 'identity';
    CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        anonymous INTEGER NOT NULL,
        key_id INTEGER NOT NULL REFERENCES keys (id),
        created TEXT NOT NULL,
        record BLOB NOT NULL
    );
    CREATE TABLE items (
        case_id TEXT NOT NULL REFERENCES cases (id),
        number INTEGER NOT NULL,
        kind TEXT NOT NULL,
        record BLOB NOT NULL,
        PRIMARY KEY (case_id, number)
    );
    CREATE TABLE log_entries (
        case_id TEXT NOT NULL REFERENCES cases (id),
        seq INTEGER NOT NULL,
        body BLOB NOT NULL,
        signature BLOB NOT NULL,
        PRIMARY KEY (case_id, seq)
    );
    CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: trusted timestamps. A request per log head to be stamped (queued with the change itself),
    # a row per proof a server gave, and the block headers that verified Bitcoin attestations.
    """
    CREATE TABLE stamp_requests (
        case_id TEXT NOT NULL REFERENCES cases (id),
        seq INTEGER NOT NULL,
        digest TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (case_id, seq)
    );
    CREATE TABLE stamps (
        case_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ots', 'rfc3161')),
        server TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'complete')),
        proof BLOB NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (case_id, seq, kind, server),
        FOREIGN KEY (case_id, seq) REFERENCES stamp_requests (case_id, seq)
    );
    CREATE TABLE block_headers (
        height INTEGER PRIMARY KEY,
        block_hash TEXT NOT NULL,
        header_json TEXT NOT NULL,
        source TEXT NOT NULL
    );
    """,
    # 3: hand-over and marks. An address book of recipients' public keys; the salted records of
    # log entries that are neither a case nor an item (a bundle sealed, an item marked sensitive);
    # and the current sensitivity of items, derived from those entries.
    """
    CREATE TABLE recipients (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        public_key TEXT NOT NULL,
        added TEXT NOT NULL
    );
    CREATE TABLE log_records (
        case_id TEXT NOT NULL REFERENCES cases (id),
        seq INTEGER NOT NULL,
        record BLOB NOT NULL,
        PRIMARY KEY (case_id, seq)
    );
    CREATE TABLE item_marks (
        case_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        sensitive INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (case_id, number),
        FOREIGN KEY (case_id, number) REFERENCES items (case_id, number)
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path, key: bytes) -> sqlite3.Connection:
    """Open (or create) the database under ``key``, private to its owner, upgraded to the current schema."""
    try:
        _make_private(path)
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        use_key(conn, key)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a wrong key fails here
        conn.execute("PRAGMA temp_store=MEMORY")  # sorting never spills decrypted rows to a temporary file
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except (OSError, sqlite3.DatabaseError) as exc:
        if is_no_room(exc, path.parent):
            raise DiskFull(path.parent) from exc
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise LockerError("locker.not_a_database", path=str(path), reason=reason or str(exc)) from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise LockerError("locker.schema_too_new", found=version, supported=SCHEMA_VERSION)
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with transaction(conn):
            for statement in _statements(MIGRATIONS[target - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
    return conn


def use_key(conn: sqlite3.Connection, key: bytes, schema: str = "main") -> None:
    """Give SQLCipher the raw 32-byte key (our KDF made it: SQLCipher's own is skipped).

    SQLCipher's own log is silenced: a page that fails its check reaches us as an error that the
    worker is told about in one sentence, not also as raw lines on stderr."""
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA {schema}.key = \"x'{key.hex()}'\"")


def check_pages(conn: sqlite3.Connection) -> None:
    """Check every page of the file against its HMAC, also the pages no query of ``check`` reads
    (indexes, other tables, free pages), so a changed byte anywhere in the database is found."""
    failed = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    if failed:
        raise LockerError("locker.database_damaged", reason=failed[0][0])


def _make_private(path: Path) -> None:
    """The database file exists with mode 0600 before SQLite opens it.

    SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file whatever the umask,
    so creating this one private keeps all three private; older loose ones are tightened.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o777 != 0o600:
                os.chmod(file, 0o600)
        except FileNotFoundError:
            pass


def _statements(script: str) -> Iterator[str]:
    for part in script.split(";"):
        if part.strip():
            yield part


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing halfway.

    Whatever fails, the commit included, nothing of the transaction stays: SQLite may have rolled
    it back already (a full disk does), so roll back only what is still open. A full disk is named
    as such, with the folder of the database.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if is_no_room(exc, _folder(conn) if isinstance(exc, Error) else None):
            raise DiskFull(_folder(conn)) from exc
        raise


def _folder(conn: sqlite3.Connection) -> Path:
    return Path(conn.execute("PRAGMA database_list").fetchone()[2]).parent
