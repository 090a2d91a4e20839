"""One way to open the project's SQLite files for writing (the campaign home, reply stores), and what
their errors mean.

A connection gets a busy timeout and write-ahead logging, so readers (``smscampaign report``, a second
kernel) never block the writer. Switching a *fresh* file to WAL is the one step SQLite refuses at once,
without waiting on its busy handler, while another connection is doing the same (two kernels, two
threads or a CLI started twice opening a new home together); this takes turns until ``timeout``.

SQLite's own errors name neither the file nor the cause (``unable to open database file``,
``database or disk is full``): :func:`explain` says both, :class:`GuardedConnection` raises the
caller's error with that text instead, and :func:`rollback` never hides the error being raised (a
``ROLLBACK`` after a ``COMMIT`` that failed finds no transaction).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from smscampaign.core.errors import HomeError

__all__ = ["GuardedConnection", "connect_wal", "explain", "home_error", "rollback"]

# SQLite's primary result codes (the low byte of an extended code).
_READONLY, _IOERR, _CORRUPT, _CANTOPEN, _FULL, _NOTADB, _PERM = 8, 10, 11, 14, 13, 26, 3
#: What :func:`explain` calls each kind of failure.
FULL: Final = "full"
DAMAGED: Final = "damaged"
DENIED: Final = "denied"
OTHER: Final = "other"


def _mode(path: Path) -> str:
    info = path.stat()
    return f"owner uid {info.st_uid}, {stat.filemode(info.st_mode)}"


def _why_not_writable(path: Path) -> str:
    """Why a file at ``path`` cannot be opened or written, as far as the file system tells."""
    folder = path.parent
    if not folder.exists():
        return f"its folder {str(folder)!r} does not exist"
    if not folder.is_dir():
        return f"{str(folder)!r} is not a folder"
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return f"its folder {str(folder)!r} is on a read-only file system"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"no permission to write in its folder {str(folder)!r} ({_mode(folder)}); SQLite creates "
            f"{path.name}-wal and {path.name}-shm beside it"
        )
    if path.exists():
        if path.is_dir():
            return "it is a folder, not a file"
        if not os.access(path, os.R_OK | os.W_OK):
            return f"no permission to read and write it ({_mode(path)})"
        for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            if side.exists() and not os.access(side, os.R_OK | os.W_OK):
                return f"no permission to read and write {side.name} beside it ({_mode(side)})"
    return "the file system refused it (permissions, a read-only mount, or a lock)"


def explain(exc: sqlite3.Error, path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(kind, cause)`` of SQLite's ``exc`` on the file at ``path``: kind :data:`FULL` (the disk is
    full), :data:`DAMAGED` (pages or header damaged), :data:`DENIED` (cannot open or write it: the
    cause found on disk), else :data:`OTHER` (SQLite's text)."""
    text = str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == _FULL or "disk is full" in text:
        return FULL, f"disk full ({text})"
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return DAMAGED, f"the file is damaged ({text})"
    denied = ("unable to open", "readonly", "read-only", "access permission")
    if primary in (_CANTOPEN, _READONLY, _PERM) or any(w in text for w in denied):
        where = Path(os.fspath(path))
        return DENIED, f"{_why_not_writable(where.absolute())} ({text})"
    return OTHER, text


def home_error(
    exc: sqlite3.Error, path: str | os.PathLike[str], *, what: str = "the campaign home"
) -> HomeError:
    """SQLite's ``exc`` on ``what`` (the campaign home's store, a reply store) at ``path`` as a
    :class:`HomeError`: one line naming the file, the cause and what to do."""
    kind, cause = explain(exc, path)
    if kind == FULL:
        message = (
            f"{path}: {what} cannot be written: {cause}. Nothing more was done; free space on its "
            "disk, then run the same command again"
        )
    elif kind == DAMAGED:
        message = f"{path}: {what} is damaged: {cause}. Restore it from a backup before using it again"
    elif kind == DENIED:
        message = f"{path}: cannot open or write {what}: {cause}"
    else:
        message = f"{path}: {what} is not usable ({cause})"
    return HomeError(message, home=str(path))


class GuardedConnection(sqlite3.Connection):
    """A connection (``sqlite3.connect(…, factory=GuardedConnection)``) whose ``execute`` and
    ``executemany`` raise what :attr:`translate` makes of a :class:`sqlite3.Error` (set it once the
    file is open; until then SQLite's errors pass as they are)."""

    translate: Callable[[sqlite3.Error], Exception] | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self._guarded(super().execute, sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        return self._guarded(super().executemany, sql, parameters)

    def _guarded(self, run: Callable[[str, Any], sqlite3.Cursor], sql: str, parameters: Any) -> Any:
        try:
            return run(sql, parameters)
        except sqlite3.Error as exc:
            if self.translate is None or not _of_the_file(exc):
                raise
            raise self.translate(exc) from exc


def _of_the_file(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` tells of the file (full, damaged, not openable, locked), not of a bug (a
    closed connection, a broken constraint, bad SQL: those pass as they are)."""
    if isinstance(exc, sqlite3.OperationalError):
        return not str(exc).startswith(("no such", "near ", "incomplete input"))
    return type(exc) is sqlite3.DatabaseError


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any, in an ``except`` block: a ``COMMIT`` that failed (a
    full disk) may already have ended it, and the error being raised must not become ``cannot
    rollback - no transaction is active``."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error, OSError):
            sqlite3.Connection.execute(conn, "ROLLBACK")


_RETRY_SECONDS = 0.02


def connect_wal(path: str | os.PathLike[str], *, timeout: float = 30.0) -> sqlite3.Connection:
    """An autocommit connection to ``path`` (shared across threads) in WAL mode, ``synchronous=NORMAL``.

    Raises :class:`sqlite3.OperationalError` when the file stays locked past ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        conn = sqlite3.connect(
            path,
            check_same_thread=False,
            isolation_level=None,
            timeout=timeout,
            factory=GuardedConnection,
        )
        try:
            if os.fspath(path) != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(_RETRY_SECONDS)
        except BaseException:
            conn.close()
            raise
