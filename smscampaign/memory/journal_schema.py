"""The journal's SQLite file: its schema (version 2) and the two ways to open it.

:func:`connect_writable` creates the file or brings an older one up to :data:`SCHEMA_VERSION` (a
newer one raises :class:`~smscampaign.JournalError`), in WAL mode; :func:`connect_readonly` reads a
journal without changing it, even a read-only file in a read-only folder. What the tables mean is
:class:`~smscampaign.memory.journal.Journal`'s business.

>>> conn = connect_readonly("spring.sqlite")                 # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Final

from smscampaign.core.errors import JournalError
from smscampaign.memory.sqlite import GuardedConnection, connect_wal, rollback

__all__ = ["SCHEMA_VERSION", "connect_readonly", "connect_writable", "side_files", "tidy_side_files"]

SCHEMA_VERSION: Final = 2

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS plan (
    fingerprint TEXT PRIMARY KEY, created_at TEXT NOT NULL, charset TEXT, sendtime TEXT,
    messages INTEGER NOT NULL, recipients BLOB
);
CREATE TABLE IF NOT EXISTS batches (
    batch INTEGER PRIMARY KEY, size INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('planned', 'in_flight', 'accepted', 'failed', 'unknown')),
    code INTEGER, gateway_result TEXT, attempts INTEGER NOT NULL DEFAULT 0, sent_at TEXT,
    error TEXT, reason TEXT, retryable INTEGER NOT NULL DEFAULT 0
);
"""
# Version 2: error_kind (instead of parsing error texts), receivers (numbers in the last request),
# settle (an unknown awaiting the balance), excluded recipients, balance readings.
_SCHEMA_2: Final = """
CREATE TABLE IF NOT EXISTS excluded (
    mobile TEXT PRIMARY KEY, batch INTEGER NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reconciliations (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, sms_left INTEGER, expected INTEGER, deducted INTEGER,
    batches TEXT, verdict TEXT NOT NULL, note TEXT, accepted_total INTEGER NOT NULL
);
"""
_BATCH_COLUMNS_2: Final = (
    ("error_kind", "TEXT"),
    ("receivers", "INTEGER"),
    ("settle", "TEXT"),
)

_READ_ONLY: Final = (
    "{}: the journal is read-only, so a run could not record what it sends; report on it "
    "(read_journal / smscampaign report) or make it writable"
)


def connect_writable(path: str) -> sqlite3.Connection:
    """A connection to the journal at ``path`` (``":memory:"`` too), its schema made current.

    Two processes creating one file take turns: connect_wal waits out the WAL switch; this also
    retries a create that still finds the file locked."""
    deadline = time.monotonic() + 30.0
    while True:
        try:
            return _connect_writable_once(path)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _connect_writable_once(path: str) -> sqlite3.Connection:
    if path != ":memory:":
        where = Path(path)
        # No write bit at all counts too: root may write anyway, but the owner meant read-only.
        if where.exists() and (not os.access(where, os.W_OK) or not where.stat().st_mode & 0o222):
            raise JournalError(_READ_ONLY.format(path))
    # WAL, synchronous=NORMAL by default; Journal.claim switches to FULL for its own commit (see the
    # journal module's docstring): that fsync also makes every earlier commit durable.
    conn = connect_wal(path)
    try:
        conn.execute("BEGIN IMMEDIATE")  # two processes creating one journal take turns
        try:
            _make_current(conn, path)
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
    except sqlite3.OperationalError as exc:
        conn.close()
        if "readonly" in str(exc) or "read-only" in str(exc):
            raise JournalError(_READ_ONLY.format(path)) from None
        raise
    except BaseException:
        conn.close()
        raise
    return conn


def _make_current(conn: sqlite3.Connection, path: str) -> None:
    """Create the tables, add the columns of version 2, note the version (in the caller's
    transaction)."""
    for statement in filter(str.strip, (_SCHEMA + _SCHEMA_2).split(";")):
        conn.execute(statement)
    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    version = int(row[0]) if row else SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"{path}: journal schema {version} is newer than this smscampaign's "
            f"({SCHEMA_VERSION}); upgrade smscampaign"
        )
    have = {r[1] for r in conn.execute("PRAGMA table_info(batches)")}
    for name, kind in _BATCH_COLUMNS_2:
        if name not in have:
            conn.execute(f"ALTER TABLE batches ADD COLUMN {name} {kind}")
    # The account's messages sent in all at each balance reading (a nullable column: journals
    # without it still open everywhere; a reading without it is compared by sms_left alone).
    readings = {r[1] for r in conn.execute("PRAGMA table_info(reconciliations)")}
    if "sms_send" not in readings:
        conn.execute("ALTER TABLE reconciliations ADD COLUMN sms_send INTEGER")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))


def connect_readonly(path: str) -> sqlite3.Connection:
    """A read-only connection to the journal at ``path`` (:class:`JournalError` if there is none)."""
    if not Path(path).is_file():
        raise JournalError(f"{path}: no such journal file")
    uri = Path(path).resolve().as_uri()
    last: sqlite3.DatabaseError | None = None
    # mode=ro reads a live journal consistently; immutable=1 reads one in a read-only folder
    # (no -shm can be made there), which nobody is writing.
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(
            f"{uri}?{flags}",
            uri=True,
            check_same_thread=False,
            isolation_level=None,
            timeout=30.0,
            factory=GuardedConnection,
        )
        try:
            conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            return conn
        except sqlite3.DatabaseError as exc:
            conn.close()
            last = exc
    assert last is not None
    raise last


_SIDE_SUFFIXES: Final = ("-wal", "-shm")


def side_files(path: str) -> frozenset[str]:
    """The WAL files (``-wal``, ``-shm``) beside the journal at ``path`` now."""
    return frozenset(suffix for suffix in _SIDE_SUFFIXES if os.path.exists(path + suffix))


def tidy_side_files(path: str, before: frozenset[str]) -> None:
    """Remove the ``-wal`` / ``-shm`` a read-only connection made and could not remove itself.

    Only when neither was there before the read (else a run may be writing, or a killed one left
    its commits in the WAL). SQLite deletes them when its last connection closes, but only a
    writable connection may: so one is opened and closed, and SQLite checkpoints and deletes them
    only if no other connection — a run that started meanwhile — has the journal open. Nothing is
    ever deleted by hand; a journal that cannot be written (a read-only file or folder) keeps them.
    """
    if before or not side_files(path):
        return
    uri = Path(path).resolve().as_uri()
    with contextlib.suppress(sqlite3.Error, OSError):
        conn = sqlite3.connect(f"{uri}?mode=rw", uri=True, isolation_level=None, timeout=0.5)
        try:
            conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        finally:
            conn.close()
