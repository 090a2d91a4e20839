"""One way to open the project's SQLite files for writing (the campaign home, reply stores).

A connection gets a busy timeout and write-ahead logging, so readers (``smscampaign report``, a second
kernel) never block the writer. Switching a *fresh* file to WAL is the one step SQLite refuses at once,
without waiting on its busy handler, while another connection is doing the same (two kernels, two
threads or a CLI started twice opening a new home together); this takes turns until ``timeout``.
"""

from __future__ import annotations

import os
import sqlite3
import time

__all__ = ["connect_wal"]

_RETRY_SECONDS = 0.02


def connect_wal(path: str | os.PathLike[str], *, timeout: float = 30.0) -> sqlite3.Connection:
    """An autocommit connection to ``path`` (shared across threads) in WAL mode, ``synchronous=NORMAL``.

    Raises :class:`sqlite3.OperationalError` when the file stays locked past ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=timeout)
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
